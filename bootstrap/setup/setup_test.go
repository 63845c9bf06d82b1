package setup_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/openneuro/openneuro-infra/bootstrap/setup"
	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

const repo = "OpenNeuroOrg/openneuro-infra"

func run(t *testing.T, extra map[string]string) (*infratest.Recorder, map[string]any, error) {
	t.Helper()
	cfg := map[string]string{"aws:region": "us-east-1", setup.Project + ":githubRepository": repo}
	for k, v := range extra {
		cfg[k] = v
	}
	outs := map[string]any{}
	rec, err := infratest.RunProgram(setup.Project, "bootstrap", cfg, func(ctx *pulumi.Context) error {
		m, err := setup.Program(ctx)
		if err != nil {
			return err
		}
		for name, v := range m {
			res, err := internals.UnsafeAwaitOutput(ctx.Context(), pulumi.ToOutput(v))
			if err != nil {
				return err
			}
			outs[name] = res.Value
		}
		return nil
	})
	return rec, outs, err
}

func trust(t *testing.T, role infratest.Resource) irsa.Document {
	t.Helper()
	var doc irsa.Document
	if err := json.Unmarshal([]byte(role.Plain(false)["assumeRolePolicy"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestRolesTrustExactlyTheWorkflows: the deploy roles trust only tokens of their stack's GitHub
// environment, the preview roles only tokens of their stack's preview environment, each with the
// subject GitHub sends and the STS audience; the deploy roles are administrators (the preview
// roles have no managed policy: TestPreviewRoleReadsOnlyItsStack); the deploy session outlasts a
// long run.
func TestRolesTrustExactlyTheWorkflows(t *testing.T) {
	rec, outs, err := run(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	providers := rec.ByType("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
	if len(providers) != 1 {
		t.Fatalf("%d OIDC providers, want 1", len(providers))
	}
	provider := providers[0].Outputs["arn"].StringValue()
	if in := providers[0].Plain(false); in["url"] != "https://token.actions.githubusercontent.com" || !reflect.DeepEqual(in["clientIdLists"], []any{"sts.amazonaws.com"}) {
		t.Errorf("OIDC provider %v", in)
	}
	deployARNs, _ := outs["deployRoleArns"].(map[string]string)
	previewARNs, _ := outs["previewRoleArns"].(map[string]string)
	for _, s := range setup.Stacks {
		for _, c := range []struct {
			name, subject string
			policies      []string
			arns          map[string]string
		}{
			{setup.DeployRoleName(s.Name), "repo:" + repo + ":environment:" + s.Environment, []string{"arn:aws:iam::aws:policy/AdministratorAccess"}, deployARNs},
			{setup.PreviewRoleName(s.Name), "repo:" + repo + ":environment:" + s.PreviewEnvironment, nil, previewARNs},
		} {
			var role *infratest.Resource
			for _, r := range rec.ByType("aws:iam/role:Role") {
				if r.Plain(false)["name"] == c.name {
					role = &r
				}
			}
			if role == nil {
				t.Fatalf("no role %s", c.name)
			}
			doc := trust(t, *role)
			want := irsa.Document{Version: irsa.PolicyVersion, Statement: []irsa.Statement{{
				Sid: "GitHubActions", Effect: "Allow", Principal: &irsa.Principal{Federated: provider},
				Action: irsa.Values{"sts:AssumeRoleWithWebIdentity"},
				Condition: irsa.Condition{"StringEquals": {
					"token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"},
					"token.actions.githubusercontent.com:sub": {c.subject},
				}},
			}}}
			if !reflect.DeepEqual(doc, want) {
				t.Errorf("%s trusts %+v, want %+v", c.name, doc, want)
			}
			if c.arns[s.Name] != role.Outputs["arn"].StringValue() || !strings.HasSuffix(role.Outputs["arn"].StringValue(), ":role/"+c.name) {
				t.Errorf("%s: output %v, role ARN %s", c.name, c.arns[s.Name], role.Outputs["arn"].StringValue())
			}
			var attached []string
			for _, a := range rec.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
				if a.Parent == role.URN {
					attached = append(attached, a.Plain(false)["policyArn"].(string))
				}
			}
			if !reflect.DeepEqual(attached, c.policies) {
				t.Errorf("%s has %v, want %v", c.name, attached, c.policies)
			}
		}
	}
	for _, r := range rec.ByType("aws:iam/role:Role") {
		in := r.Plain(false)
		if strings.HasPrefix(in["name"].(string), "openneuro-deploy-") && fmt.Sprint(in["maxSessionDuration"]) != fmt.Sprint(setup.DeploySessionSeconds) {
			t.Errorf("%s maxSessionDuration %v, want %d", in["name"], in["maxSessionDuration"], setup.DeploySessionSeconds)
		}
	}
}

// TestPreviewRoleReadsOnlyItsStack: a preview role's one policy reads (describe, get, list) on
// the services of PreviewReads, AWS's public parameters, the state bucket's listing, its own stack's
// state objects, and decrypts with its own stack's key only: no other stack's key or state, no
// object outside the state, no write.
func TestPreviewRoleReadsOnlyItsStack(t *testing.T) {
	rec, _, err := run(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	bucket := rec.ByType("aws:s3/bucketV2:BucketV2")[0].Outputs["arn"].StringValue()
	keys := map[string]string{}
	for _, s := range setup.Stacks {
		key := rec.Find("aws:kms/key:Key", "secrets-"+s.Name)
		if key == nil {
			t.Fatalf("no secrets key of %s", s.Name)
		}
		keys[s.Name] = key.Outputs["arn"].StringValue()
	}
	if keys["staging"] == keys["prod"] {
		t.Fatal("staging and prod share a secrets key")
	}
	for _, s := range setup.Stacks {
		p := rec.Find("aws:iam/rolePolicy:RolePolicy", "preview-"+s.Name+"-read")
		if p == nil {
			t.Fatalf("no policy of the preview role of %s", s.Name)
		}
		var doc irsa.Document
		if err := json.Unmarshal([]byte(p.Plain(false)["policy"].(string)), &doc); err != nil {
			t.Fatal(err)
		}
		account := setup.Account{Partition: "aws", ID: infratest.AccountID}
		if want := setup.PreviewPolicy(account, s, keys[s.Name], bucket); !reflect.DeepEqual(doc.Statement, want.Statement) {
			t.Errorf("%s: %+v, want %+v", p.Name, doc.Statement, want.Statement)
		}
		for _, st := range doc.Statement {
			if st.Effect != "Allow" {
				continue
			}
			for _, action := range st.Action {
				verb := action[strings.Index(action, ":")+1:]
				read := strings.HasPrefix(verb, "Describe") || strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List") || action == "kms:Decrypt"
				if !read || strings.HasPrefix(action, "secretsmanager:") || action == "logs:GetLogEvents" || action == "*" {
					t.Errorf("%s %s allows %s, not a read of a preview", p.Name, st.Sid, action)
				}
				if strings.HasPrefix(action, "s3:") || action == "kms:Decrypt" {
					for _, r := range st.Resource {
						own := r == bucket || r == bucket+"/.pulumi/meta.yaml" || r == keys[s.Name] || strings.Contains(r, "/openneuro/"+s.Name+".json") || strings.Contains(r, "/openneuro/"+s.Name+"/")
						if !own {
							t.Errorf("%s allows %s on %s, not the stack's own state or key", p.Name, action, r)
						}
					}
				}
			}
		}
	}
}

// TestPreviewReadsCoverTheProgram: every AWS service the openneuro program calls (the pulumi-aws
// modules and AWS SDK services it links, and pulumi-eks's) has reads in PreviewReads, so that a new
// module cannot break the pull requests' previews unnoticed.
func TestPreviewReadsCoverTheProgram(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", stackconfig.RepoRoot()).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// The IAM service prefixes each package calls; a package missing here fails the test.
	services := map[string][]string{
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws":             {"ec2"}, // availability zones; sts and the region need no permission
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm":         {"acm"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling": {"autoscaling"}, // pulumi-eks's node groups
		// pulumi-eks's SDK links it for self-managed node groups, which the program does not make.
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudformation": nil,
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup":         {"backup"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch":     {"cloudwatch", "logs"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2":            {"ec2"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr":            {"ecr"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs":            {"elasticfilesystem"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks":            {"eks"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam":            {"iam"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms":            {"kms"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb":             {"elasticloadbalancing"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53":        {"route53"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns":            {"sns"},
		"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc":            {"ec2"},
		"github.com/pulumi/pulumi-eks/sdk/v3/go/eks":                {"eks", "ec2", "iam", "autoscaling", "ssm"},
		"github.com/aws/aws-sdk-go-v2/service/acm":                  {"acm"},
		"github.com/aws/aws-sdk-go-v2/service/sts":                  nil, // the SDK's credential chain: no permission needed
	}
	// Types, endpoints and helpers of an SDK, and the SDK's own sign-in services, call nothing.
	skip := regexp.MustCompile(`/(internal|schemas|types|utilities|config)(/|$)|^github\.com/aws/aws-sdk-go-v2/service/(sso|ssooidc|signin)$`)
	called := 0
	for _, pkg := range strings.Fields(string(out)) {
		aws := strings.HasPrefix(pkg, "github.com/pulumi/pulumi-aws/sdk/v6/go/aws") || strings.HasPrefix(pkg, "github.com/pulumi/pulumi-eks/sdk/v3/go/eks") || strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/")
		if !aws || skip.MatchString(pkg) {
			continue
		}
		prefixes, ok := services[pkg]
		if !ok {
			t.Errorf("the program links %s: add its IAM service prefixes to this test and its reads to setup.PreviewReads", pkg)
			continue
		}
		called++
		for _, prefix := range prefixes {
			if len(setup.PreviewReads[prefix]) == 0 {
				t.Errorf("%s calls %s, which setup.PreviewReads does not read", pkg, prefix)
			}
		}
	}
	if called < 10 {
		t.Errorf("found %d AWS packages in the program, want its pulumi-aws modules", called)
	}
}

// TestStateAndKeyKept: the state bucket and the stacks' secrets keys (and their aliases) are
// protected and kept when the bootstrap stack is destroyed; each stack's secrets provider names its
// own key; the bucket is versioned, private and TLS only.
func TestStateAndKeyKept(t *testing.T) {
	rec, outs, err := run(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"aws:s3/bucketV2:BucketV2", "aws:kms/key:Key", "aws:kms/alias:Alias"} {
		for _, r := range rec.ByType(typ) {
			if !r.Protect || !r.RetainOnDelete {
				t.Errorf("%s %s: protect %v retain %v", typ, r.Name, r.Protect, r.RetainOnDelete)
			}
		}
	}
	bucket := rec.ByType("aws:s3/bucketV2:BucketV2")[0]
	// The region of the bucket, whatever region a job's credentials name (prod's is us-west-2).
	if want := "s3://" + bucket.Outputs["bucket"].StringValue() + "?region=us-east-1"; outs["backendUrl"] != want {
		t.Errorf("backendUrl %v, want %s", outs["backendUrl"], want)
	}
	wantProviders := map[string]string{
		"staging": "awskms://alias/openneuro-pulumi-staging?region=us-east-1",
		"prod":    "awskms://alias/openneuro-pulumi-prod?region=us-east-1",
	}
	if !reflect.DeepEqual(outs["secretsProviders"], wantProviders) {
		t.Errorf("secretsProviders %v, want %v", outs["secretsProviders"], wantProviders)
	}
	for _, stack := range []string{"staging", "prod"} {
		key, alias := rec.Find("aws:kms/key:Key", "secrets-"+stack), rec.Find("aws:kms/alias:Alias", "secrets-"+stack)
		if key == nil || alias == nil || alias.Plain(false)["name"] != "alias/openneuro-pulumi-"+stack || alias.Plain(false)["targetKeyId"] != key.Outputs["keyId"].StringValue() {
			t.Errorf("%s: key %v alias %v", stack, key, alias)
		}
	}
	versioning := rec.ByType("aws:s3/bucketVersioningV2:BucketVersioningV2")
	block := rec.ByType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	policy := rec.ByType("aws:s3/bucketPolicy:BucketPolicy")
	if len(versioning) != 1 || versioning[0].Plain(false)["versioningConfiguration"].(map[string]any)["status"] != "Enabled" {
		t.Error("the state bucket is not versioned")
	}
	if len(block) != 1 || block[0].Plain(false)["restrictPublicBuckets"] != true || block[0].Plain(false)["blockPublicPolicy"] != true {
		t.Error("the state bucket is not closed to the public")
	}
	if len(policy) != 1 || !strings.Contains(policy[0].Plain(false)["policy"].(string), `"aws:SecureTransport":"false"`) {
		t.Error("the state bucket accepts plain HTTP")
	}
}

// TestExistingProviderAndOperators: an account's existing GitHub provider is used, not duplicated,
// and operator roles may assume the deploy roles but not the preview roles.
func TestExistingProviderAndOperators(t *testing.T) {
	existing := "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
	ops := `["arn:aws:iam::123456789012:role/Ops"]`
	rec, outs, err := run(t, map[string]string{setup.Project + ":githubOidcProviderArn": existing, setup.Project + ":operatorRoleArns": ops})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rec.ByType("aws:iam/openIdConnectProvider:OpenIdConnectProvider")); n != 0 || outs["githubOidcProviderArn"] != existing {
		t.Errorf("%d providers created, output %v; want the existing one", n, outs["githubOidcProviderArn"])
	}
	for _, r := range rec.ByType("aws:iam/role:Role") {
		doc := trust(t, r)
		name := r.Plain(false)["name"].(string)
		if strings.HasPrefix(name, "openneuro-admin-") {
			continue // trusts the account, not GitHub (TestAdminRoles)
		}
		operators := len(doc.Statement) == 2 && reflect.DeepEqual(doc.Statement[1].Principal.AWS, irsa.Values{"arn:aws:iam::123456789012:role/Ops"})
		if operators != strings.HasPrefix(name, "openneuro-deploy-") {
			t.Errorf("%s: operator trust %v", name, operators)
		}
		if doc.Statement[0].Principal.Federated != existing {
			t.Errorf("%s trusts %s, not the existing provider", name, doc.Statement[0].Principal.Federated)
		}
	}
}

// TestAdminRoles: each stack has a role for people, trusted by the account (its IAM policies say
// who may assume it) and allowed nothing in AWS but describing clusters (kubectl's kubeconfig), no
// managed policy: its power is the stack's cluster-admin access entry. Its ARN is an output, and
// the committed stack files list it as an admin.
func TestAdminRoles(t *testing.T) {
	rec, outs, err := run(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	arns, _ := outs["adminRoleArns"].(map[string]string)
	for _, s := range setup.Stacks {
		name := setup.AdminRoleName(s.Name)
		var role *infratest.Resource
		for _, r := range rec.ByType("aws:iam/role:Role") {
			if r.Plain(false)["name"] == name {
				role = &r
			}
		}
		if role == nil {
			t.Fatalf("no role %s", name)
		}
		want := irsa.Document{Version: irsa.PolicyVersion, Statement: []irsa.Statement{{
			Sid: "AccountPrincipals", Effect: "Allow", Principal: &irsa.Principal{AWS: irsa.Values{"arn:aws:iam::" + infratest.AccountID + ":root"}},
			Action: irsa.Values{"sts:AssumeRole"},
		}}}
		if doc := trust(t, *role); !reflect.DeepEqual(doc, want) {
			t.Errorf("%s trusts %+v, want %+v", name, doc, want)
		}
		if arns[s.Name] != role.Outputs["arn"].StringValue() {
			t.Errorf("adminRoleArns[%s] %q, want %s", s.Name, arns[s.Name], role.Outputs["arn"].StringValue())
		}
		for _, a := range rec.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
			if a.Parent == role.URN {
				t.Errorf("%s has the managed policy %v", name, a.Plain(false)["policyArn"])
			}
		}
		var inline []string
		for _, p := range rec.ByType("aws:iam/rolePolicy:RolePolicy") {
			if p.Parent == role.URN {
				inline = append(inline, p.Plain(false)["policy"].(string))
			}
		}
		wantPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"Kubeconfig","Effect":"Allow","Action":"eks:DescribeCluster","Resource":"arn:aws:eks:*:` + infratest.AccountID + `:cluster/*"}]}`
		if len(inline) != 1 || inline[0] != wantPolicy {
			t.Errorf("%s inline policies %v, want only %s", name, inline, wantPolicy)
		}
		file, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "Pulumi."+s.Name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(file), ":role/"+name+"\n") {
			t.Errorf("Pulumi.%s.yaml does not list the role %s", s.Name, name)
		}
	}
}

func TestBadConfig(t *testing.T) {
	_, _, err := run(t, map[string]string{setup.Project + ":githubRepository": "openneuro", setup.Project + ":operatorRoleArns": `["Ops"]`})
	for _, want := range []string{`githubRepository: "openneuro" is not owner/name`, `operatorRoleArns[0]: "Ops" is not an IAM role ARN`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q, got %v", want, err)
		}
	}
}

// TestProjectFileLoads: the Pulumi CLI accepts bootstrap/Pulumi.yaml and it declares every key the
// program reads.
func TestProjectFileLoads(t *testing.T) {
	path := filepath.Join(stackconfig.RepoRoot(), "bootstrap", "Pulumi.yaml")
	project, err := workspace.LoadProject(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := project.Validate(); err != nil {
		t.Fatal(err)
	}
	if string(project.Name) != setup.Project {
		t.Errorf("project %s, want %s", project.Name, setup.Project)
	}
	data, _ := os.ReadFile(path)
	for _, key := range []string{"githubRepository", "githubOidcProviderArn", "operatorRoleArns", "stacks"} {
		if _, ok := project.Config[key]; !ok || !strings.Contains(string(data), key+":") {
			t.Errorf("bootstrap/Pulumi.yaml does not declare %s", key)
		}
	}
}

// TestNatAddresses: each stack's NAT addresses, one per NAT gateway of its stack file, in its
// region, kept through a destroy of the bootstrap, and its outputs the ids and addresses in order.
func TestNatAddresses(t *testing.T) {
	rec, outs, err := run(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := outs["natEipAllocationIds"].(map[string][]string)
	ips, _ := outs["natPublicIps"].(map[string][]string)
	for _, s := range setup.Stacks {
		values, err := stackconfig.Read(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		var network struct {
			NatGateways string `json:"natGateways"`
		}
		_ = json.Unmarshal([]byte(values.Config["openneuro:network"]), &network)
		want := 1
		if network.NatGateways == "perZone" {
			want = 3
		}
		if s.NatGateways != want || s.Region != values.Config["aws:region"] {
			t.Errorf("setup.Stacks %s: region %s, %d NAT gateways; Pulumi.%s.yaml: %s, %d", s.Name, s.Region, s.NatGateways, s.Name, values.Config["aws:region"], want)
		}
		var wantIDs, wantIPs []string
		for i := 0; i < s.NatGateways; i++ {
			eip := rec.Find("aws:ec2/eip:Eip", fmt.Sprintf("openneuro-%s-nat-%d", s.Name, i))
			if eip == nil {
				t.Fatalf("no NAT address %d of %s", i, s.Name)
			}
			if !eip.Protect || !eip.RetainOnDelete || eip.Plain(false)["domain"] != "vpc" || !strings.Contains(eip.Provider, "region-"+s.Name) {
				t.Errorf("%s: protect %v retain %v inputs %v provider %s", eip.Name, eip.Protect, eip.RetainOnDelete, eip.Plain(false), eip.Provider)
			}
			wantIDs, wantIPs = append(wantIDs, eip.ID), append(wantIPs, eip.Outputs["publicIp"].StringValue())
		}
		if !reflect.DeepEqual(ids[s.Name], wantIDs) || !reflect.DeepEqual(ips[s.Name], wantIPs) {
			t.Errorf("%s outputs %v %v, want %v %v", s.Name, ids[s.Name], ips[s.Name], wantIDs, wantIPs)
		}
		provider := rec.Find("pulumi:providers:aws", "region-"+s.Name)
		if provider == nil || provider.Plain(false)["region"] != s.Region {
			t.Errorf("%s region provider %+v", s.Name, provider)
		}
	}
}

// boundaryOf returns the permissions boundary document of a deploy role, or nil without one.
func boundaryOf(t *testing.T, rec *infratest.Recorder, stack string) *irsa.Document {
	t.Helper()
	role := rec.Find("aws:iam/role:Role", "deploy-"+stack)
	if role == nil {
		t.Fatalf("no deploy role of %s", stack)
	}
	arn, _ := role.Plain(false)["permissionsBoundary"].(string)
	if arn == "" {
		return nil
	}
	policy := rec.Find("aws:iam/policy:Policy", "deploy-"+stack+"-boundary")
	if policy == nil || policy.Outputs["arn"].StringValue() != arn {
		t.Fatalf("%s's boundary %s is not the bootstrap's policy %v", stack, arn, policy)
	}
	if want := "arn:aws:iam::" + infratest.AccountID + ":policy/" + setup.BoundaryPolicyName(stack); arn != want {
		t.Errorf("%s's boundary %s, want %s (its own deny names it)", stack, arn, want)
	}
	var doc irsa.Document
	if err := json.Unmarshal([]byte(policy.Plain(false)["policy"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

// TestStagingDeployRoleBoundary: in an account that holds prod, staging's deploy role (an
// administrator) is bounded: allowed everything but denied prod's key, state objects, bootstrap
// roles and region, role chaining, IAM users and keys, and loosening its boundary or the state
// bucket; nothing of staging's own is denied. Prod's deploy role has no boundary.
func TestStagingDeployRoleBoundary(t *testing.T) {
	rec, _, err := run(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if doc := boundaryOf(t, rec, "prod"); doc != nil {
		t.Errorf("prod's deploy role is bounded: %+v", doc)
	}
	doc := boundaryOf(t, rec, "staging")
	if doc == nil {
		t.Fatal("staging's deploy role has no permissions boundary")
	}
	bucket := rec.ByType("aws:s3/bucketV2:BucketV2")[0].Outputs["arn"].StringValue()
	prodKey := rec.Find("aws:kms/key:Key", "secrets-prod").Outputs["arn"].StringValue()
	stagingKey := rec.Find("aws:kms/key:Key", "secrets-staging").Outputs["arn"].StringValue()
	role := func(name string) string { return "arn:aws:iam::" + infratest.AccountID + ":role/" + name }
	sids := map[string]irsa.Statement{}
	for _, st := range doc.Statement {
		sids[st.Sid] = st
	}
	if a := sids["AdministratorAccess"]; a.Effect != "Allow" || !reflect.DeepEqual(a.Action, irsa.Values{"*"}) || !reflect.DeepEqual(a.Resource, irsa.Values{"*"}) {
		t.Errorf("the boundary does not allow what AdministratorAccess allows: %+v", a)
	}
	wants := map[string]irsa.Statement{
		"ProductionSecrets": {Action: irsa.Values{"kms:*"}, Resource: irsa.Values{prodKey}},
		"ProductionState": {Action: irsa.Values{"s3:*"}, Resource: irsa.Values{
			bucket + "/.pulumi/stacks/openneuro/prod.json*", bucket + "/.pulumi/history/openneuro/prod/*",
			bucket + "/.pulumi/backups/openneuro/prod/*", bucket + "/.pulumi/locks/openneuro/prod/*"}},
		"ProductionRoles":    {Action: irsa.Values{"iam:*"}, Resource: irsa.Values{role("openneuro-deploy-prod"), role("openneuro-preview-prod"), role("openneuro-admin-prod")}},
		"NoRoleChaining":     {Action: irsa.Values{"sts:AssumeRole"}, Resource: irsa.Values{"*"}},
		"KeepTheBoundary":    {Action: irsa.Values{"iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"}, Resource: irsa.Values{role("openneuro-deploy-staging")}},
		"ProductionRegions":  {Action: irsa.Values{"*"}, Resource: irsa.Values{"*"}, Condition: irsa.Condition{"StringEquals": {"aws:RequestedRegion": {"us-west-2"}}}},
		"KeepTheStateBucket": {Action: irsa.Values{"s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"}, Resource: irsa.Values{bucket}},
	}
	for sid, want := range wants {
		got, ok := sids[sid]
		want.Sid, want.Effect = sid, "Deny"
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("boundary %s: %+v, want %+v", sid, got, want)
		}
	}
	for _, st := range doc.Statement {
		if st.Effect != "Deny" {
			continue
		}
		for _, r := range st.Resource {
			if r == stagingKey || strings.Contains(r, "/openneuro/staging") || strings.HasSuffix(r, "-staging") && st.Sid != "KeepTheBoundary" {
				t.Errorf("boundary %s denies staging's own %s", st.Sid, r)
			}
		}
	}
}

// TestBoundaryKeepsTheBootstrapRegion: bootstrapped in prod's region, the account's state bucket
// and keys are there, so staging's boundary does not deny that region (the rest stays).
func TestBoundaryKeepsTheBootstrapRegion(t *testing.T) {
	rec, _, err := run(t, map[string]string{"aws:region": "us-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	doc := boundaryOf(t, rec, "staging")
	if doc == nil {
		t.Fatal("no boundary")
	}
	var sids []string
	for _, st := range doc.Statement {
		sids = append(sids, st.Sid)
	}
	if slices.Contains(sids, "ProductionRegions") || !slices.Contains(sids, "ProductionSecrets") {
		t.Errorf("boundary statements %v: want prod's secrets denied, not the bootstrap's region", sids)
	}
}

// TestStacksOfTheAccount: `stacks` picks the stacks an account holds (an account per stack): only
// theirs are created, and a stack alone in its account needs no boundary. Unknown or repeated
// names, or no list, are refused with the key; an empty list is all stacks.
func TestStacksOfTheAccount(t *testing.T) {
	if _, outs, err := run(t, map[string]string{setup.Project + ":stacks": `[]`}); err != nil || len(outs["deployRoleArns"].(map[string]string)) != len(setup.Stacks) {
		t.Errorf("stacks []: %v, deploy roles %v; want every stack", err, outs["deployRoleArns"])
	}
	rec, outs, err := run(t, map[string]string{setup.Project + ":stacks": `["staging"]`})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Resources() {
		if strings.Contains(r.Name, "prod") {
			t.Errorf("an account of staging alone gets %s %s", r.Type, r.Name)
		}
	}
	if doc := boundaryOf(t, rec, "staging"); doc != nil {
		t.Errorf("staging alone in its account is bounded: %+v", doc)
	}
	if got := outs["deployRoleArns"].(map[string]string); len(got) != 1 || got["staging"] == "" {
		t.Errorf("deployRoleArns %v, want staging's only", got)
	}
	for cfg, want := range map[string]string{
		`["staging", "qa"]`: `stacks[1]: "qa" is not a stack of the workflows; the stacks are staging, prod`,
		`["prod", "prod"]`:  `stacks[1]: "prod" is listed twice`,
		`{"staging": true}`: `stacks: `,
	} {
		_, _, err := run(t, map[string]string{setup.Project + ":stacks": cfg})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("stacks %s: want %q, got %v", cfg, want, err)
		}
	}
}
