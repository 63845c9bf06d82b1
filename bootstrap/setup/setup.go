// Package setup is the bootstrap project (bootstrap/): what an AWS account needs before the first
// `pulumi up` of the openneuro project, created once per account by an administrator:
//
//   - the S3 bucket that keeps the Pulumi state (versioned, encrypted, private, TLS only);
//   - GitHub's OIDC identity provider, unless the account has it already;
//   - per stack, the KMS key (alias/openneuro-pulumi-<stack>) that encrypts its secrets;
//   - per stack, the deploy role the deploy and destroy workflows assume (only from the stack's
//     GitHub environment), which creates the cluster and runs every `pulumi up`; a
//     non-production stack's role carries a permissions boundary that denies it the production
//     stacks of the same account;
//   - per stack, the preview role of the pull-request workflow (only from the stack's preview
//     environment), which reads what a preview reads and decrypts only its stack's secrets;
//   - per stack, the operators' admin role: cluster-admin through the stack's
//     cluster.adminRoleArns, assumable by whom the account's own IAM policies allow;
//   - per stack, in its region, the Elastic IPs of its NAT gateways (network.natEipAllocationIds):
//     known before its first up, so the database's allowlist can hold them, and kept through its
//     rebuilds.
//
// The stacks of the account are config (stacks), all of Stacks by default: an account per stack
// keeps them apart entirely, the boundary only in part (README, "One account or two").
//
// Its outputs are what the README's next steps set: the backend URL, the secrets providers, the
// role ARNs for cluster.deployRoleArn, cluster.adminRoleArns, cluster.viewerRoleArns and the GitHub
// variables, and the NAT addresses for network.natEipAllocationIds and the database's allowlist.
package setup

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

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
// (.github/workflows/deploy.yml), the one its pull-request previews run in
// (.github/workflows/pull-request.yml), its region (aws:region), its number of NAT gateways (one
// with network.natGateways single, three with perZone) and whether it is production; a test holds
// them to the stack files and the workflows.
type Stack struct {
	Name               string
	Environment        string
	PreviewEnvironment string
	Region             string
	NatGateways        int
	Production         bool
}

// Stacks are the openneuro stacks the workflows deploy. Each preview runs in an environment of
// its own, not the deploy one (whose deployment branches are main only, and whose deploy role a
// pull request's code would get): production-preview's required reviewers decide which pull
// request's code may read prod's secrets.
var Stacks = []Stack{
	{Name: "staging", Environment: "staging", PreviewEnvironment: "staging-preview", Region: "us-east-1", NatGateways: 1},
	{Name: "prod", Environment: "production", PreviewEnvironment: "production-preview", Region: "us-west-2", NatGateways: 3, Production: true},
}

// DeployRoleName is the name of a stack's deploy role; the stack files refer to it.
func DeployRoleName(stack string) string { return "openneuro-deploy-" + stack }

// PreviewRoleName is the name of a stack's preview role; the stack files refer to it.
func PreviewRoleName(stack string) string { return "openneuro-preview-" + stack }

// AdminRoleName is the name of a stack's admin role for people; the stack files refer to it.
func AdminRoleName(stack string) string { return "openneuro-admin-" + stack }

// BoundaryPolicyName is the name of the permissions boundary of a non-production stack's deploy role.
func BoundaryPolicyName(stack string) string { return "openneuro-deploy-" + stack + "-boundary" }

// SecretsKeyAlias is the KMS alias of a stack's secrets provider:
// awskms://alias/openneuro-pulumi-<stack>?region=<bootstrap region>. One key per stack, so that
// whoever may decrypt one stack's secrets (its preview role) cannot decrypt another's.
func SecretsKeyAlias(stack string) string { return "alias/openneuro-pulumi-" + stack }

// StateObjects are the state bucket's object patterns of a stack of the openneuro project in the
// DIY backend's project layout (.pulumi/<kind>/<project>/<stack>): its checkpoint (and its .bak),
// history, backups and locks.
func StateObjects(bucketARN, stack string) []string {
	base := bucketARN + "/.pulumi/"
	return []string{
		base + "stacks/openneuro/" + stack + ".json*",
		base + "history/openneuro/" + stack + "/*",
		base + "backups/openneuro/" + stack + "/*",
		base + "locks/openneuro/" + stack + "/*",
	}
}

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
	// Stacks are the stacks this account holds (config stacks, by name). Default (none listed): all
	// of Stacks.
	Stacks []Stack
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
	var names []string
	if err := config.TryObject(ctx, Project+":stacks", &names); err != nil && !errors.Is(err, config.ErrMissingVar) {
		errs = append(errs, fmt.Errorf("stacks: %w; write a list of stack names (%s)", err, stackNames(Stacks)))
	}
	if len(names) == 0 {
		c.Stacks = Stacks
	}
	for i, name := range names {
		j := slices.IndexFunc(Stacks, func(s Stack) bool { return s.Name == name })
		switch {
		case j < 0:
			errs = append(errs, fmt.Errorf("stacks[%d]: %q is not a stack of the workflows; the stacks are %s", i, name, stackNames(Stacks)))
		case slices.Index(names, name) < i:
			errs = append(errs, fmt.Errorf("stacks[%d]: %q is listed twice", i, name))
		default:
			c.Stacks = append(c.Stacks, Stacks[j])
		}
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

func stackNames(stacks []Stack) string {
	var names []string
	for _, s := range stacks {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
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
	account := Account{Partition: partition.Partition, ID: caller.AccountId}
	keys := map[string]*kms.Key{}
	secretsProviders := pulumi.StringMap{}
	for _, s := range cfg.Stacks {
		if keys[s.Name], err = secretsKey(ctx, s); err != nil {
			return nil, err
		}
		secretsProviders[s.Name] = pulumi.String("awskms://" + SecretsKeyAlias(s.Name) + "?region=" + region.Name)
	}
	deploy, preview, admin := pulumi.StringMap{}, pulumi.StringMap{}, pulumi.StringMap{}
	natIDs, natIPs := pulumi.StringArrayMap{}, pulumi.StringArrayMap{}
	for _, s := range cfg.Stacks {
		natIDs[s.Name], natIPs[s.Name], err = natAddresses(ctx, s)
		if err != nil {
			return nil, err
		}
		a, err := adminRole(ctx, s, account)
		if err != nil {
			return nil, err
		}
		admin[s.Name] = a.Arn
		d, err := deployRole(ctx, cfg, s, provider, account, region.Name, keys, bucket)
		if err != nil {
			return nil, err
		}
		p, err := previewRole(ctx, cfg, s, provider, account, keys[s.Name], bucket)
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
		"secretsProviders":      secretsProviders,
		"githubOidcProviderArn": provider,
		"deployRoleArns":        deploy,
		"previewRoleArns":       preview,
		"adminRoleArns":         admin,
		"natEipAllocationIds":   natIDs,
		"natPublicIps":          natIPs,
	}, nil
}

// Account is the AWS account the bootstrap runs in.
type Account struct {
	Partition, ID string
}

// RoleARN is the ARN of the account's IAM role name.
func (a Account) RoleARN(name string) string {
	return "arn:" + a.Partition + ":iam::" + a.ID + ":role/" + name
}

// PolicyARN is the ARN of the account's customer managed IAM policy name.
func (a Account) PolicyARN(name string) string {
	return "arn:" + a.Partition + ":iam::" + a.ID + ":policy/" + name
}

// secretsKey is the KMS key of a stack's secrets provider. Losing it loses every secret of the
// stack, hence protect, retain on delete and the longest deletion window.
func secretsKey(ctx *pulumi.Context, s Stack) (*kms.Key, error) {
	keep := []pulumi.ResourceOption{pulumi.Protect(true), pulumi.RetainOnDelete(true)}
	key, err := kms.NewKey(ctx, "secrets-"+s.Name, &kms.KeyArgs{
		Description:          pulumi.String("Pulumi secrets provider of the openneuro stack " + s.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
	}, keep...)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %s secrets key: %w", s.Name, err)
	}
	if _, err := kms.NewAlias(ctx, "secrets-"+s.Name, &kms.AliasArgs{
		Name: pulumi.String(SecretsKeyAlias(s.Name)), TargetKeyId: key.KeyId,
	}, keep...); err != nil {
		return nil, fmt.Errorf("bootstrap: %s secrets key alias: %w", s.Name, err)
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
// so only jobs of the stack's protected GitHub environment may assume it. A non-production stack's
// role has a permissions boundary (deployBoundary) when production stacks share the account.
func deployRole(ctx *pulumi.Context, cfg *Config, s Stack, provider pulumi.StringOutput, account Account, home string, keys map[string]*kms.Key, bucket *s3.BucketV2) (*iam.Role, error) {
	var boundary pulumi.StringPtrInput
	if guarded := production(cfg.Stacks); !s.Production && len(guarded) > 0 {
		policy, err := deployBoundary(ctx, s, guarded, account, home, keys, bucket)
		if err != nil {
			return nil, err
		}
		boundary = policy.Arn
	}
	role, err := iam.NewRole(ctx, "deploy-"+s.Name, &iam.RoleArgs{
		Name:                pulumi.String(DeployRoleName(s.Name)),
		Description:         pulumi.String("Runs pulumi up/destroy of the openneuro stack " + s.Name + " from the GitHub environment " + s.Environment),
		AssumeRolePolicy:    githubTrust(provider, EnvironmentSubject(cfg.Repository, s.Environment), cfg.OperatorRoleARNs),
		MaxSessionDuration:  pulumi.Int(DeploySessionSeconds),
		PermissionsBoundary: boundary,
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: deploy role %s: %w", s.Name, err)
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, "deploy-"+s.Name+"-admin", &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String(ManagedPolicyARN(account.Partition, "AdministratorAccess")),
	}, pulumi.Parent(role)); err != nil {
		return nil, fmt.Errorf("bootstrap: deploy role %s policy: %w", s.Name, err)
	}
	return role, nil
}

// production returns the production stacks among stacks.
func production(stacks []Stack) []Stack {
	var out []Stack
	for _, s := range stacks {
		if s.Production {
			out = append(out, s)
		}
	}
	return out
}

// globalRegion is where the requests to IAM, STS's global endpoint and Route 53 count as made
// (aws:RequestedRegion), so a boundary cannot deny it without denying those services.
const globalRegion = "us-east-1"

// deployBoundary is the permissions boundary of stack s's deploy role: it may do what
// AdministratorAccess allows except touch the guarded (production) stacks of the account: their
// region (unless it is s's, the global one, or home, the bootstrap's, where the state bucket and
// the secrets keys are), their secrets keys, their state
// objects, their bootstrap roles; nor assume any role, create IAM users or keys, or loosen the
// boundary and the state bucket. A role it creates does not inherit the boundary (the program
// creates roles for nodes, pods and services), which is why an account per stack is the only
// full separation (README, "One account or two").
func deployBoundary(ctx *pulumi.Context, s Stack, guarded []Stack, account Account, home string, keys map[string]*kms.Key, bucket *s3.BucketV2) (*iam.Policy, error) {
	var keyARNs []pulumi.StringOutput
	for _, g := range guarded {
		keyARNs = append(keyARNs, keys[g.Name].Arn)
	}
	policyName := BoundaryPolicyName(s.Name)
	doc := pulumi.All(bucket.Arn, pulumi.ToStringArrayOutput(keyARNs)).ApplyT(func(v []any) (string, error) {
		bucketARN, guardedKeys := v[0].(string), v[1].([]string)
		var regions, roles, state irsa.Values
		for _, g := range guarded {
			if !slices.Contains(irsa.Values{s.Region, globalRegion, home}, g.Region) && !slices.Contains(regions, g.Region) {
				regions = append(regions, g.Region)
			}
			for _, name := range []string{DeployRoleName(g.Name), PreviewRoleName(g.Name), AdminRoleName(g.Name)} {
				roles = append(roles, account.RoleARN(name))
			}
			state = append(state, StateObjects(bucketARN, g.Name)...)
		}
		statements := []irsa.Statement{
			{Sid: "AdministratorAccess", Effect: "Allow", Action: irsa.Values{"*"}, Resource: irsa.Values{"*"}},
			{Sid: "ProductionSecrets", Effect: "Deny", Action: irsa.Values{"kms:*"}, Resource: guardedKeys},
			{Sid: "ProductionState", Effect: "Deny", Action: irsa.Values{"s3:*"}, Resource: state},
			{Sid: "ProductionRoles", Effect: "Deny", Action: irsa.Values{"iam:*"}, Resource: roles},
			{Sid: "NoRoleChaining", Effect: "Deny", Action: irsa.Values{"sts:AssumeRole"}, Resource: irsa.Values{"*"}},
			{Sid: "NoUsersOrKeys", Effect: "Deny", Action: irsa.Values{"iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"}, Resource: irsa.Values{"*"}},
			{Sid: "KeepTheBoundary", Effect: "Deny", Action: irsa.Values{"iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"}, Resource: irsa.Values{account.RoleARN(DeployRoleName(s.Name))}},
			{Sid: "KeepTheBoundaryPolicy", Effect: "Deny", Action: irsa.Values{"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"}, Resource: irsa.Values{account.PolicyARN(policyName)}},
			{Sid: "KeepTheStateBucket", Effect: "Deny", Action: irsa.Values{"s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"}, Resource: irsa.Values{bucketARN}},
		}
		if len(regions) > 0 {
			statements = append(statements, irsa.Statement{
				Sid: "ProductionRegions", Effect: "Deny", Action: irsa.Values{"*"}, Resource: irsa.Values{"*"},
				Condition: irsa.Condition{"StringEquals": {"aws:RequestedRegion": regions}},
			})
		}
		return irsa.Document{Statement: statements}.JSON()
	}).(pulumi.StringOutput)
	policy, err := iam.NewPolicy(ctx, "deploy-"+s.Name+"-boundary", &iam.PolicyArgs{
		Name:        pulumi.String(policyName),
		Description: pulumi.String("Permissions boundary of the deploy role of the openneuro stack " + s.Name + ": nothing of the production stacks of this account"),
		Policy:      doc,
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: deploy role %s boundary: %w", s.Name, err)
	}
	return policy, nil
}

// PreviewReads are the AWS actions a `pulumi preview` of the openneuro program needs, by IAM
// service prefix: its data sources, the preflight's reads, and the providers' reads of a refresh
// (describe, get, list). No object reads and no secrets: no s3 (the state bucket has its own
// statement), no secretsmanager, no logs:GetLogEvents, no ssm parameters but AWS's public ones.
var PreviewReads = map[string][]string{
	"acm":                  {"acm:DescribeCertificate", "acm:GetCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate"},
	"autoscaling":          {"autoscaling:Describe*"},
	"backup":               {"backup:Describe*", "backup:GetBackupPlan", "backup:GetBackupSelection", "backup:GetBackupVaultAccessPolicy", "backup:GetBackupVaultNotifications", "backup:List*"},
	"cloudwatch":           {"cloudwatch:Describe*", "cloudwatch:ListTagsForResource", "cloudwatch:GetDashboard"},
	"ec2":                  {"ec2:Describe*"},
	"ecr":                  {"ecr:DescribePullThroughCacheRules", "ecr:DescribeRegistry", "ecr:DescribeRepositories", "ecr:GetRegistryPolicy", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource"},
	"eks":                  {"eks:Describe*", "eks:List*"},
	"elasticfilesystem":    {"elasticfilesystem:Describe*"},
	"elasticloadbalancing": {"elasticloadbalancing:Describe*"},
	"iam":                  {"iam:Get*", "iam:List*"},
	"kms":                  {"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags"},
	"logs":                 {"logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup"},
	"route53":              {"route53:Get*", "route53:List*"},
	"sns":                  {"sns:GetSubscriptionAttributes", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource", "sns:ListTopics"},
	"ssm":                  {"ssm:GetParameter", "ssm:GetParameters"},
}

// previewRole runs `pulumi preview` of pull requests: a DIY-backend preview neither locks nor writes
// the state. Any branch can run code with it, so it reads no more than a preview needs (PreviewReads;
// of the state bucket, its stack's objects), decrypts only its stack's secrets, and only jobs of the
// stack's preview environment may assume it. Its Kubernetes access is the cluster's view policy
// (cluster.viewerRoleArns), not admin.
func previewRole(ctx *pulumi.Context, cfg *Config, s Stack, provider pulumi.StringOutput, account Account, key *kms.Key, bucket *s3.BucketV2) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, "preview-"+s.Name, &iam.RoleArgs{
		Name:             pulumi.String(PreviewRoleName(s.Name)),
		Description:      pulumi.String("Runs pulumi preview of the openneuro stack " + s.Name + " for pull requests, from the GitHub environment " + s.PreviewEnvironment),
		AssumeRolePolicy: githubTrust(provider, EnvironmentSubject(cfg.Repository, s.PreviewEnvironment), nil),
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: preview role %s: %w", s.Name, err)
	}
	policy := pulumi.All(key.Arn, bucket.Arn).ApplyT(func(arns []any) (string, error) {
		return PreviewPolicy(account, s, arns[0].(string), arns[1].(string)).JSON()
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, "preview-"+s.Name+"-read", &iam.RolePolicyArgs{
		Role: role.Name, Policy: policy,
	}, pulumi.Parent(role)); err != nil {
		return nil, fmt.Errorf("bootstrap: preview role %s policy: %w", s.Name, err)
	}
	return role, nil
}

// PreviewPolicy is the preview role's policy of stack s, given its secrets key and the state bucket.
func PreviewPolicy(account Account, s Stack, keyARN, bucketARN string) irsa.Document {
	var reads irsa.Values
	for _, service := range slices.Sorted(maps.Keys(PreviewReads)) {
		if service != "ssm" {
			reads = append(reads, PreviewReads[service]...)
		}
	}
	return irsa.Document{Statement: []irsa.Statement{
		{Sid: "Describe", Effect: "Allow", Action: reads, Resource: irsa.Values{"*"}},
		// pulumi-eks and the EKS AMI lookups read AWS's public parameters (no account in the ARN).
		{Sid: "PublicParameters", Effect: "Allow", Action: PreviewReads["ssm"], Resource: irsa.Values{"arn:" + account.Partition + ":ssm:*::parameter/aws/service/*"}},
		{Sid: "StateBucket", Effect: "Allow", Action: irsa.Values{"s3:ListBucket", "s3:GetBucketLocation"}, Resource: irsa.Values{bucketARN}},
		{Sid: "StackState", Effect: "Allow", Action: irsa.Values{"s3:GetObject"}, Resource: append(irsa.Values{bucketARN + "/.pulumi/meta.yaml"}, StateObjects(bucketARN, s.Name)...)},
		{Sid: "StackSecrets", Effect: "Allow", Action: irsa.Values{"kms:Decrypt"}, Resource: irsa.Values{keyARN}},
	}}
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
func adminRole(ctx *pulumi.Context, s Stack, account Account) (*iam.Role, error) {
	trust, err := irsa.Document{Statement: []irsa.Statement{{
		Sid: "AccountPrincipals", Effect: "Allow", Principal: &irsa.Principal{AWS: []string{"arn:" + account.Partition + ":iam::" + account.ID + ":root"}},
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
		Resource: irsa.Values{"arn:" + account.Partition + ":eks:*:" + account.ID + ":cluster/*"},
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
