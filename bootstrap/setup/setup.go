// Package setup is the bootstrap project (bootstrap/): what an AWS account needs before the first
// `pulumi up` of the openneuro project, created once per account by an administrator:
//
//   - the S3 bucket that keeps the Pulumi state (versioned, encrypted, private, TLS only);
//   - the KMS key (alias/openneuro-pulumi) that encrypts the stacks' secrets;
//   - GitHub's OIDC identity provider, unless the account has it already;
//   - per stack, the deploy role the deploy and destroy workflows assume (only from the stack's
//     GitHub environment), which creates the cluster and runs every `pulumi up`;
//   - per stack, the read-only preview role of the pull-request workflow;
//   - per stack, the operators' admin role: cluster-admin through the stack's
//     cluster.adminRoleArns, assumable by whom the account's own IAM policies allow;
//   - per stack, in its region, the Elastic IPs of its NAT gateways (network.natEipAllocationIds):
//     known before its first up, so the database's allowlist can hold them, and kept through its
//     rebuilds.
//
// Its outputs are what the README's next steps set: the backend URL, the secrets provider, the
// role ARNs for cluster.deployRoleArn, cluster.adminRoleArns, cluster.viewerRoleArns and the GitHub
// variables, and the NAT addresses for network.natEipAllocationIds and the database's allowlist.
package setup

import (
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/openneuro/openneuro-infra/infra/irsa"
)

// Project is the bootstrap project's name, the namespace of its config keys.
const Project = "openneuro-bootstrap"

// Stack pairs an openneuro stack with the GitHub environment its deploy jobs run in
// (.github/workflows/deploy.yml), its region (aws:region) and its number of NAT gateways (one
// with network.natGateways single, three with perZone); a test holds them to the stack files.
type Stack struct {
	Name        string
	Environment string
	Region      string
	NatGateways int
}

// Stacks are the openneuro stacks the workflows deploy.
var Stacks = []Stack{
	{Name: "staging", Environment: "staging", Region: "us-east-1", NatGateways: 1},
	{Name: "prod", Environment: "production", Region: "us-west-2", NatGateways: 3},
}

// DeployRoleName is the name of a stack's deploy role; the stack files refer to it.
func DeployRoleName(stack string) string { return "openneuro-deploy-" + stack }

// PreviewRoleName is the name of a stack's preview role; the stack files refer to it.
func PreviewRoleName(stack string) string { return "openneuro-preview-" + stack }

// AdminRoleName is the name of a stack's admin role for people; the stack files refer to it.
func AdminRoleName(stack string) string { return "openneuro-admin-" + stack }

// SecretsKeyAlias is the KMS alias of the secrets provider: awskms://alias/openneuro-pulumi?region=<r>.
const SecretsKeyAlias = "alias/openneuro-pulumi"

// DeploySessionSeconds is the longest session of a deploy role: what the workflows ask for
// (role-duration-seconds). A first `pulumi up` of prod takes about 17 minutes on its critical path,
// and a single await can last up to 75 minutes (an ACM DNS validation, the provider's default
// timeout) before it fails; credentials that expire mid-run leave pending operations in the state.
// IAM allows up to 12 hours.
const DeploySessionSeconds = 3 * 60 * 60

// GitHub's OIDC token issuer and the audience aws-actions/configure-aws-credentials asks for
// (https://docs.github.com/en/actions/reference/security/oidc).
const (
	GitHubIssuerHost = "token.actions.githubusercontent.com"
	GitHubAudience   = "sts.amazonaws.com"
)

// EnvironmentSubject is the `sub` claim GitHub puts in the OIDC token of a job that references an
// environment (https://docs.github.com/en/actions/reference/security/oidc, "Example subject claims").
func EnvironmentSubject(repository, environment string) string {
	return "repo:" + repository + ":environment:" + environment
}

// PullRequestSubject is the `sub` claim of a job of a pull_request workflow (same page).
func PullRequestSubject(repository string) string { return "repo:" + repository + ":pull_request" }

// Config is the bootstrap stack's configuration.
type Config struct {
	// Repository is the GitHub repository (owner/name) whose workflows may assume the roles. Required.
	Repository string
	// OIDCProviderARN is GitHub's IAM OIDC provider if the account has one already (an account has
	// at most one per URL). Default "": the project creates it.
	OIDCProviderARN string
	// OperatorRoleARNs are IAM roles that may also assume the deploy roles (to run pulumi from a
	// workstation as the deploy role, e.g. `pulumi cancel` or a state repair). Default none.
	OperatorRoleARNs []string
}

var (
	repositoryRE = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)
	oidcARNRE    = regexp.MustCompile(`^arn:aws[\w-]*:iam::[0-9]{12}:oidc-provider/` + regexp.QuoteMeta(GitHubIssuerHost) + `$`)
	roleARNRE    = regexp.MustCompile(`^arn:aws[\w-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
)

// LoadConfig reads and checks the configuration, reporting every problem with its key.
func LoadConfig(ctx *pulumi.Context) (*Config, error) {
	c := &Config{
		Repository:      config.Get(ctx, Project+":githubRepository"),
		OIDCProviderARN: config.Get(ctx, Project+":githubOidcProviderArn"),
	}
	var errs []error
	if err := config.TryObject(ctx, Project+":operatorRoleArns", &c.OperatorRoleARNs); err != nil && !errors.Is(err, config.ErrMissingVar) {
		errs = append(errs, fmt.Errorf("operatorRoleArns: %w; write a list of IAM role ARNs", err))
	}
	if !repositoryRE.MatchString(c.Repository) {
		errs = append(errs, fmt.Errorf("githubRepository: %q is not owner/name; run `pulumi config set githubRepository <owner>/<repo>` with the repository that runs the workflows", c.Repository))
	}
	if c.OIDCProviderARN != "" && !oidcARNRE.MatchString(c.OIDCProviderARN) {
		errs = append(errs, fmt.Errorf("githubOidcProviderArn: %q is not the ARN of an IAM OIDC provider for %s", c.OIDCProviderARN, GitHubIssuerHost))
	}
	for i, arn := range c.OperatorRoleARNs {
		if !roleARNRE.MatchString(arn) {
			errs = append(errs, fmt.Errorf("operatorRoleArns[%d]: %q is not an IAM role ARN", i, arn))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Run is the bootstrap program: Program, with its outputs exported.
func Run(ctx *pulumi.Context) error {
	outputs, err := Program(ctx)
	if err != nil {
		return err
	}
	for name, v := range outputs {
		ctx.Export(name, v)
	}
	return nil
}

// Program creates the account's prerequisites and returns the outputs by name.
func Program(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return nil, err
	}
	partition, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, err
	}
	key, err := secretsKey(ctx)
	if err != nil {
		return nil, err
	}
	bucket, err := stateBucket(ctx)
	if err != nil {
		return nil, err
	}
	provider := pulumi.String(cfg.OIDCProviderARN).ToStringOutput()
	if cfg.OIDCProviderARN == "" {
		// No thumbprint: IAM verifies GitHub's certificate with its own library of trusted CAs and
		// ignores thumbprints for it (IAM API reference, UpdateOpenIDConnectProviderThumbprint).
		p, err := iam.NewOpenIdConnectProvider(ctx, "github", &iam.OpenIdConnectProviderArgs{
			Url:           pulumi.String("https://" + GitHubIssuerHost),
			ClientIdLists: pulumi.ToStringArray([]string{GitHubAudience}),
		})
		if err != nil {
			return nil, fmt.Errorf("bootstrap: github oidc provider: %w", err)
		}
		provider = p.Arn
	}
	deploy, preview, admin := pulumi.StringMap{}, pulumi.StringMap{}, pulumi.StringMap{}
	natIDs, natIPs := pulumi.StringArrayMap{}, pulumi.StringArrayMap{}
	for _, s := range Stacks {
		natIDs[s.Name], natIPs[s.Name], err = natAddresses(ctx, s)
		if err != nil {
			return nil, err
		}
		a, err := adminRole(ctx, s, partition.Partition, caller.AccountId)
		if err != nil {
			return nil, err
		}
		admin[s.Name] = a.Arn
		d, err := deployRole(ctx, cfg, s, provider, partition.Partition)
		if err != nil {
			return nil, err
		}
		p, err := previewRole(ctx, cfg, s, provider, partition.Partition, key, bucket)
		if err != nil {
			return nil, err
		}
		deploy[s.Name], preview[s.Name] = d.Arn, p.Arn
	}
	return pulumi.Map{
		// The bucket's region in the URL: the DIY backend's S3 driver otherwise takes the region of
		// the environment (AWS_REGION, the stack's own in the workflows), and S3 answers a request
		// for the bucket on another region's endpoint with a redirect the AWS SDK does not follow.
		"backendUrl":            pulumi.Sprintf("s3://%s?region=%s", bucket.Bucket, region.Name),
		"secretsProvider":       pulumi.String("awskms://" + SecretsKeyAlias + "?region=" + region.Name),
		"githubOidcProviderArn": provider,
		"deployRoleArns":        deploy,
		"previewRoleArns":       preview,
		"adminRoleArns":         admin,
		"natEipAllocationIds":   natIDs,
		"natPublicIps":          natIPs,
	}, nil
}

// secretsKey is the KMS key of the stacks' secrets provider. Losing it loses every stack secret,
// hence protect, retain on delete and the longest deletion window.
func secretsKey(ctx *pulumi.Context) (*kms.Key, error) {
	keep := []pulumi.ResourceOption{pulumi.Protect(true), pulumi.RetainOnDelete(true)}
	key, err := kms.NewKey(ctx, "secrets", &kms.KeyArgs{
		Description:          pulumi.String("Pulumi secrets provider of the openneuro stacks"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
	}, keep...)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: secrets key: %w", err)
	}
	if _, err := kms.NewAlias(ctx, "secrets", &kms.AliasArgs{
		Name: pulumi.String(SecretsKeyAlias), TargetKeyId: key.KeyId,
	}, keep...); err != nil {
		return nil, fmt.Errorf("bootstrap: secrets key alias: %w", err)
	}
	return key, nil
}

// stateBucket is the Pulumi state backend: versioned (an older state can be restored), encrypted,
// closed to the public and to plain HTTP. The state is the only record of what the stacks own:
// protected and retained.
func stateBucket(ctx *pulumi.Context) (*s3.BucketV2, error) {
	keep := []pulumi.ResourceOption{pulumi.Protect(true), pulumi.RetainOnDelete(true)}
	bucket, err := s3.NewBucketV2(ctx, "state", &s3.BucketV2Args{BucketPrefix: pulumi.String("openneuro-pulumi-state-")}, keep...)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: state bucket: %w", err)
	}
	// The bucket's settings go with it: never deleted by a destroy of this project.
	opts := []pulumi.ResourceOption{pulumi.Parent(bucket), pulumi.RetainOnDelete(true)}
	if _, err := s3.NewBucketVersioningV2(ctx, "state", &s3.BucketVersioningV2Args{
		Bucket: bucket.ID(), VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, opts...); err != nil {
		return nil, fmt.Errorf("bootstrap: state bucket versioning: %w", err)
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, "state", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")},
		}},
	}, opts...); err != nil {
		return nil, fmt.Errorf("bootstrap: state bucket encryption: %w", err)
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, "state", &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...); err != nil {
		return nil, fmt.Errorf("bootstrap: state bucket public access block: %w", err)
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, "state", &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(), Rule: s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts...); err != nil {
		return nil, fmt.Errorf("bootstrap: state bucket ownership: %w", err)
	}
	policy := bucket.Arn.ApplyT(func(arn string) (string, error) {
		return irsa.Document{Statement: []irsa.Statement{{
			Sid: "TLSOnly", Effect: "Deny", Principal: &irsa.Principal{AWS: irsa.Values{"*"}},
			Action: irsa.Values{"s3:*"}, Resource: irsa.Values{arn, arn + "/*"},
			Condition: irsa.Condition{"Bool": {"aws:SecureTransport": {"false"}}},
		}}}.JSON()
	}).(pulumi.StringOutput)
	if _, err := s3.NewBucketPolicy(ctx, "state", &s3.BucketPolicyArgs{Bucket: bucket.ID(), Policy: policy}, opts...); err != nil {
		return nil, fmt.Errorf("bootstrap: state bucket policy: %w", err)
	}
	return bucket, nil
}

// githubTrust is a trust policy for tokens GitHub issued to the repository with one subject, plus,
// optionally, IAM roles that may assume the role directly.
func githubTrust(provider pulumi.StringOutput, subject string, roles []string) pulumi.StringOutput {
	return provider.ApplyT(func(arn string) (string, error) {
		doc := irsa.Document{Statement: []irsa.Statement{{
			Sid: "GitHubActions", Effect: "Allow", Principal: &irsa.Principal{Federated: arn},
			Action: irsa.Values{"sts:AssumeRoleWithWebIdentity"},
			Condition: irsa.Condition{"StringEquals": {
				GitHubIssuerHost + ":aud": {GitHubAudience},
				GitHubIssuerHost + ":sub": {subject},
			}},
		}}}
		if len(roles) > 0 {
			sorted := append([]string(nil), roles...)
			sort.Strings(sorted)
			doc.Statement = append(doc.Statement, irsa.Statement{
				Sid: "Operators", Effect: "Allow", Principal: &irsa.Principal{AWS: sorted}, Action: irsa.Values{"sts:AssumeRole"},
			})
		}
		return doc.JSON()
	}).(pulumi.StringOutput)
}

// deployRole may do anything in the account (the program creates IAM roles, KMS keys, EKS, VPCs),
// so only jobs of the stack's protected GitHub environment may assume it.
func deployRole(ctx *pulumi.Context, cfg *Config, s Stack, provider pulumi.StringOutput, partition string) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, "deploy-"+s.Name, &iam.RoleArgs{
		Name:               pulumi.String(DeployRoleName(s.Name)),
		Description:        pulumi.String("Runs pulumi up/destroy of the openneuro stack " + s.Name + " from the GitHub environment " + s.Environment),
		AssumeRolePolicy:   githubTrust(provider, EnvironmentSubject(cfg.Repository, s.Environment), cfg.OperatorRoleARNs),
		MaxSessionDuration: pulumi.Int(DeploySessionSeconds),
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: deploy role %s: %w", s.Name, err)
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, "deploy-"+s.Name+"-admin", &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String(ManagedPolicyARN(partition, "AdministratorAccess")),
	}, pulumi.Parent(role)); err != nil {
		return nil, fmt.Errorf("bootstrap: deploy role %s policy: %w", s.Name, err)
	}
	return role, nil
}

// previewRole reads the account (AWS managed ReadOnlyAccess) and decrypts the stack's secrets, for
// `pulumi preview` of pull requests: a DIY-backend preview neither locks nor writes the state. Its
// Kubernetes access is the cluster's view policy (cluster.viewerRoleArns), not admin: any branch of
// the repository can run code with this role. So ReadOnlyAccess's reads of every S3 object of the
// account (dataset exports, other teams' buckets) are fenced off: objects outside the state
// bucket are denied.
func previewRole(ctx *pulumi.Context, cfg *Config, s Stack, provider pulumi.StringOutput, partition string, key *kms.Key, bucket *s3.BucketV2) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, "preview-"+s.Name, &iam.RoleArgs{
		Name:             pulumi.String(PreviewRoleName(s.Name)),
		Description:      pulumi.String("Runs pulumi preview of the openneuro stack " + s.Name + " for pull requests"),
		AssumeRolePolicy: githubTrust(provider, PullRequestSubject(cfg.Repository), nil),
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: preview role %s: %w", s.Name, err)
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, "preview-"+s.Name+"-read", &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String(ManagedPolicyARN(partition, "ReadOnlyAccess")),
	}, pulumi.Parent(role)); err != nil {
		return nil, fmt.Errorf("bootstrap: preview role %s policy: %w", s.Name, err)
	}
	decrypt := pulumi.All(key.Arn, bucket.Arn).ApplyT(func(arns []any) (string, error) {
		return irsa.Document{Statement: []irsa.Statement{{
			Sid: "StackSecrets", Effect: "Allow", Action: irsa.Values{"kms:Decrypt"}, Resource: irsa.Values{arns[0].(string)},
		}, {
			Sid: "NoObjectsButTheState", Effect: "Deny", Action: irsa.Values{"s3:GetObject", "s3:GetObjectVersion"},
			NotResource: irsa.Values{arns[1].(string) + "/*"},
		}}}.JSON()
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, "preview-"+s.Name+"-secrets", &iam.RolePolicyArgs{
		Role: role.Name, Policy: decrypt,
	}, pulumi.Parent(role)); err != nil {
		return nil, fmt.Errorf("bootstrap: preview role %s secrets: %w", s.Name, err)
	}
	return role, nil
}

// natAddresses allocates a stack's NAT addresses in its region. They are protected and retained:
// an allowlist elsewhere holds them, and a destroy of the bootstrap must not take them.
func natAddresses(ctx *pulumi.Context, s Stack) (ids, ips pulumi.StringArray, err error) {
	provider, err := aws.NewProvider(ctx, "region-"+s.Name, &aws.ProviderArgs{Region: pulumi.String(s.Region)})
	if err != nil {
		return nil, nil, fmt.Errorf("bootstrap: %s region provider: %w", s.Name, err)
	}
	for i := 0; i < s.NatGateways; i++ {
		name := fmt.Sprintf("openneuro-%s-nat-%d", s.Name, i)
		eip, err := ec2.NewEip(ctx, name, &ec2.EipArgs{
			Domain: pulumi.String("vpc"),
			Tags:   pulumi.StringMap{"Name": pulumi.String(name)},
		}, pulumi.Provider(provider), pulumi.Protect(true), pulumi.RetainOnDelete(true))
		if err != nil {
			return nil, nil, fmt.Errorf("bootstrap: %s NAT address %d: %w", s.Name, i, err)
		}
		// An Elastic IP's id is its allocation id.
		ids, ips = append(ids, eip.ID().ToStringOutput()), append(ips, eip.PublicIp)
	}
	return ids, ips, nil
}

// adminRole is how people reach a stack's cluster: the deploy role, its creator and admin, trusts
// only GitHub's tokens. It trusts the account, so that who may assume it is the account's own IAM
// policies' decision (grant sts:AssumeRole on it to the operators' users or SSO permission sets);
// its power is the cluster-admin access entry the stack gives it (cluster.adminRoleArns) and the
// one AWS call kubectl's setup needs (aws eks update-kubeconfig reads the cluster's endpoint).
func adminRole(ctx *pulumi.Context, s Stack, partition, account string) (*iam.Role, error) {
	trust, err := irsa.Document{Statement: []irsa.Statement{{
		Sid: "AccountPrincipals", Effect: "Allow", Principal: &irsa.Principal{AWS: []string{"arn:" + partition + ":iam::" + account + ":root"}},
		Action: irsa.Values{"sts:AssumeRole"},
	}}}.JSON()
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, "admin-"+s.Name, &iam.RoleArgs{
		Name:             pulumi.String(AdminRoleName(s.Name)),
		Description:      pulumi.String("Operators' cluster-admin access to the openneuro stack " + s.Name + " (its cluster.adminRoleArns)"),
		AssumeRolePolicy: pulumi.String(trust),
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: admin role %s: %w", s.Name, err)
	}
	describe, err := irsa.Document{Statement: []irsa.Statement{{
		Sid: "Kubeconfig", Effect: "Allow", Action: irsa.Values{"eks:DescribeCluster"},
		Resource: irsa.Values{"arn:" + partition + ":eks:*:" + account + ":cluster/*"},
	}}}.JSON()
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicy(ctx, "admin-"+s.Name+"-kubeconfig", &iam.RolePolicyArgs{
		Role: role.Name, Policy: pulumi.String(describe),
	}, pulumi.Parent(role)); err != nil {
		return nil, fmt.Errorf("bootstrap: admin role %s policy: %w", s.Name, err)
	}
	return role, nil
}

// ManagedPolicyARN is the ARN of an AWS managed policy (IAM user guide, "AWS managed policies for
// job functions": AdministratorAccess, ReadOnlyAccess).
func ManagedPolicyARN(partition, name string) string {
	return "arn:" + partition + ":iam::aws:policy/" + name
}
