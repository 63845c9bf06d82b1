package setup_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
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
// environment, the preview roles only tokens of the repository's pull_request jobs, each with the
// subject GitHub sends and the STS audience; the deploy session outlasts a long run.
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
			name, subject, policy string
			arns                  map[string]string
		}{
			{setup.DeployRoleName(s.Name), "repo:" + repo + ":environment:" + s.Environment, "AdministratorAccess", deployARNs},
			{setup.PreviewRoleName(s.Name), "repo:" + repo + ":pull_request", "ReadOnlyAccess", previewARNs},
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
			if !reflect.DeepEqual(attached, []string{"arn:aws:iam::aws:policy/" + c.policy}) {
				t.Errorf("%s has %v, want only %s", c.name, attached, c.policy)
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

// TestPreviewRoleReadsOnly: besides ReadOnlyAccess the preview role may only decrypt with the
// secrets key, and reads no S3 object outside the state bucket.
func TestPreviewRoleReadsOnly(t *testing.T) {
	rec, _, err := run(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := rec.ByType("aws:kms/key:Key")[0].Outputs["arn"].StringValue()
	bucket := rec.ByType("aws:s3/bucketV2:BucketV2")[0].Outputs["arn"].StringValue()
	var policies []infratest.Resource
	for _, p := range rec.ByType("aws:iam/rolePolicy:RolePolicy") {
		if strings.HasPrefix(p.Name, "preview-") {
			policies = append(policies, p)
		}
	}
	if len(policies) != len(setup.Stacks) {
		t.Fatalf("%d inline policies, want one per preview role", len(policies))
	}
	for _, p := range policies {
		var doc irsa.Document
		if err := json.Unmarshal([]byte(p.Plain(false)["policy"].(string)), &doc); err != nil {
			t.Fatal(err)
		}
		want := []irsa.Statement{
			{Sid: "StackSecrets", Effect: "Allow", Action: irsa.Values{"kms:Decrypt"}, Resource: irsa.Values{key}},
			// ReadOnlyAccess reads every bucket's objects; a pull request's code must not.
			{Sid: "NoObjectsButTheState", Effect: "Deny", Action: irsa.Values{"s3:GetObject", "s3:GetObjectVersion"}, NotResource: irsa.Values{bucket + "/*"}},
		}
		if !reflect.DeepEqual(doc.Statement, want) {
			t.Errorf("%s: %+v, want only kms:Decrypt on %s and no object outside %s", p.Name, doc.Statement, key, bucket)
		}
	}
}

// TestStateAndKeyKept: the state bucket and the secrets key (and its alias) are protected and kept
// when the bootstrap stack is destroyed; the bucket is versioned, private and TLS only.
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
	if outs["secretsProvider"] != "awskms://alias/openneuro-pulumi?region=us-east-1" {
		t.Errorf("secretsProvider %v", outs["secretsProvider"])
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
	for _, key := range []string{"githubRepository", "githubOidcProviderArn", "operatorRoleArns"} {
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
