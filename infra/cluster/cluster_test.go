package cluster_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/infra"
	"github.com/openneuro/openneuro-infra/infra/cluster"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

const (
	eksType       = "eks:index:Cluster"
	nodeGroupType = "aws:eks/nodeGroup:NodeGroup"
	ltType        = "aws:ec2/launchTemplate:LaunchTemplate"
	keyType       = "aws:kms/key:Key"
	logGroupType  = "aws:cloudwatch/logGroup:LogGroup"
)

var allStacks = []string{"staging", "prod"}

// result is what a run of the platform layers gives the cluster assertions.
type result struct {
	rec        *infratest.Recorder
	cfg        *stacks.Config
	pool       *placement.Pool
	groups     int
	hasProv    bool
	privateIDs []string
	outputs    map[string]internals.UnsafeAwaitOutputResult
}

// run runs the platform layers for a stack with its real config, wired as the program wires them.
// The run without options is made once per stack and shared by the tests, which only read it.
func run(t *testing.T, stack string, opts ...infratest.Option) *result {
	t.Helper()
	return shared.Run(t, stack, opts, func(o ...infratest.Option) *result { return runFresh(t, stack, o...) })
}

// shared are the runs of the stacks as committed.
var shared infratest.Memo[*result]

// runFresh always runs the program; TestDeterministic compares two such runs.
func runFresh(t *testing.T, stack string, opts ...infratest.Option) *result {
	t.Helper()
	r := &result{}
	r.rec, r.cfg = infratest.RunPlatform(t, stack, func(ctx *pulumi.Context, aws *infra.AWS) error {
		var err error
		c := aws.Cluster
		r.pool, r.groups, r.hasProv = c.StoragePool, len(c.NodeGroups), c.Provider != nil
		r.outputs = map[string]internals.UnsafeAwaitOutputResult{}
		for k, o := range map[string]pulumi.Output{
			"name": c.Name, "kubeconfigJson": c.KubeconfigJSON, "oidcProviderArn": c.OIDCProviderARN,
			"oidcIssuer": c.OIDCIssuer, "nodeSecurityGroupId": c.NodeSecurityGroupID, "nodeGroupNames": c.NodeGroupNames,
		} {
			if r.outputs[k], err = internals.UnsafeAwaitOutput(ctx.Context(), o); err != nil {
				return err
			}
		}
		return nil
	}, opts...)
	r.privateIDs = r.cfg.Network.PrivateSubnetIDs
	if !r.cfg.Network.UsesExistingVPC() {
		for _, az := range r.cfg.Network.AvailabilityZones {
			r.privateIDs = append(r.privateIDs, r.rec.Find("aws:ec2/subnet:Subnet", "network-private-"+az).ID)
		}
	}
	return r
}

// own returns the cluster layer's resources of one type: run builds every platform layer, so a
// count over the whole stack would count the other layers' resources too.
func (r *result) own(typ string) []infratest.Resource {
	return r.rec.DescendantsOfType(cluster.Type, typ)
}

func (r *result) eks(t *testing.T) (*infratest.Resource, map[string]any) {
	t.Helper()
	res := r.rec.Find(eksType, "cluster-eks")
	if res == nil {
		t.Fatal("no eks:index:Cluster cluster-eks")
	}
	return res, res.Plain(false)
}

func strs(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestControlPlane(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			r := run(t, stack)
			c := r.cfg.Cluster
			res, in := r.eks(t)
			for key, want := range map[string]any{
				"name":                      c.Name,
				"version":                   stacks.DefaultKubernetesVersion,
				"skipDefaultNodeGroup":      true,
				"skipDefaultSecurityGroups": true,
				"createOidcProvider":        true,
				"authenticationMode":        "API",
				"endpointPublicAccess":      *c.EndpointPublicAccess,
				"endpointPrivateAccess":     *c.EndpointPrivateAccess,
			} {
				if in[key] != want {
					t.Errorf("eks %s = %v, want %v", key, in[key], want)
				}
			}
			if got := strs(in["enabledClusterLogTypes"]); !reflect.DeepEqual(got, []string{"api", "audit", "authenticator"}) {
				t.Errorf("enabledClusterLogTypes = %v", got)
			}
			if got := strs(in["privateSubnetIds"]); !reflect.DeepEqual(got, r.privateIDs) {
				t.Errorf("privateSubnetIds = %v, want the network's private subnets %v", got, r.privateIDs)
			}
			if got := strs(in["publicAccessCidrs"]); !reflect.DeepEqual(got, c.PublicAccessCIDRs) {
				t.Errorf("publicAccessCidrs = %v, want %v", got, c.PublicAccessCIDRs)
			}
			// The control plane is protected in prod (replacing it loses every workload and EdgeFS);
			// the component is not, or every child of pulumi-eks would inherit protect.
			if res.Protect {
				t.Error("pulumi-eks's component is protected; its children would inherit it")
			}
			if got := r.rec.ChildOptions(res.URN, cluster.ControlPlaneType, res.Name+"-eksCluster").Protect; got != r.cfg.Storage.Protect {
				t.Errorf("control plane protect = %v, want %v", got, r.cfg.Storage.Protect)
			}
			if !r.hasProv {
				t.Error("Cluster.Provider is nil")
			}
		})
	}
}

// TestSecretsEncryption checks the KMS key: rotation on, the longest deletion window, used by the
// cluster, protected and retained in prod only.
func TestSecretsEncryption(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			r := run(t, stack)
			keys := r.own(keyType)
			if len(keys) != 1 {
				t.Fatalf("%d KMS keys, want 1", len(keys))
			}
			key := keys[0]
			in := key.Plain(false)
			if in["enableKeyRotation"] != true || in["deletionWindowInDays"] != int64(30) {
				t.Errorf("key rotation %v, deletion window %v; want true, 30", in["enableKeyRotation"], in["deletionWindowInDays"])
			}
			_, eks := r.eks(t)
			if arn := key.Outputs["arn"].StringValue(); eks["encryptionConfigKeyArn"] != arn {
				t.Errorf("encryptionConfigKeyArn = %v, want the key %s", eks["encryptionConfigKeyArn"], arn)
			}
			logs := r.own(logGroupType)
			if len(logs) != 1 || logs[0].Plain(false)["name"] != "/aws/eks/"+r.cfg.Cluster.Name+"/cluster" || logs[0].Plain(false)["retentionInDays"] != int64(cluster.LogRetentionDays) {
				t.Errorf("control-plane log group = %v", logs)
			}
			prod := r.cfg.Storage.Protect
			for _, res := range []infratest.Resource{key, logs[0]} {
				if res.Protect != prod || res.RetainOnDelete != prod {
					t.Errorf("%s: protect %v retain %v, want both %v", res.Name, res.Protect, res.RetainOnDelete, prod)
				}
			}
			// The log group's name reaches the cluster as an input: EKS cannot create it first.
			if !slices.Contains(eksDeps(r), logs[0].URN) {
				t.Error("the EKS cluster does not depend on the control-plane log group")
			}
		})
	}
}

func eksDeps(r *result) []string { return r.rec.Find(eksType, "cluster-eks").DependsOn }

// TestAccessEntriesAsTheREADMEPromises: the README's cluster access table is what the cluster gets: an
// access entry with the table's policy, at cluster scope, for every role of each listed config key,
// and none for the deploy role, which EKS makes admin as the cluster's creator.
func TestAccessEntriesAsTheREADMEPromises(t *testing.T) {
	t.Parallel()
	promised := readmeAccessTable(t)
	lists := map[string][]string{
		"cluster.adminRoleArns":  {"arn:aws:iam::123456789012:role/Ops", "arn:aws:iam::123456789012:role/team/Admin"},
		"cluster.viewerRoleArns": {"arn:aws:iam::123456789012:role/openneuro-preview-prod"},
	}
	deploy := "arn:aws:iam::123456789012:role/openneuro-deploy-prod"
	// Roles of the mock account; prod's certificate is of OpenNeuro's, which preflight refuses
	// there, so the site's name gets a zone of the mock account instead.
	opts := []infratest.Option{infratest.WithValue("cluster.deployRoleArn", deploy),
		infratest.WithoutValue("app.certificateArn"), infratest.WithValue("app.dns", "openneuro.org"),
		infratest.WithHostedZone("Z0MOCKZONE", "openneuro.org", false)}
	for key, arns := range lists {
		opts = append(opts, infratest.WithValue(key, arns))
	}
	r := run(t, "prod", opts...)
	_, in := r.eks(t)
	entries, _ := in["accessEntries"].(map[string]any)
	byPrincipal := map[string]map[string]any{}
	for _, e := range entries {
		byPrincipal[e.(map[string]any)["principalArn"].(string)] = e.(map[string]any)
	}
	want := 0
	for key, arns := range lists {
		policy, ok := promised[key]
		if !ok {
			t.Fatalf("the README's access table has no row for %s", key)
		}
		for _, arn := range arns {
			want++
			e := byPrincipal[arn]
			var policies []string
			for _, p := range e["accessPolicies"].(map[string]any) {
				p := p.(map[string]any)
				if p["accessScope"].(map[string]any)["type"] == "cluster" {
					policies = append(policies, p["policyArn"].(string))
				}
			}
			if len(policies) != 1 || !strings.HasSuffix(policies[0], "/"+policy) {
				t.Errorf("%s (%s) gets %v, the README promises %s at cluster scope", arn, key, policies, policy)
			}
		}
	}
	if len(entries) != want {
		t.Errorf("%d access entries, want %d: %v", len(entries), want, entries)
	}
	if _, ok := byPrincipal[deploy]; ok {
		t.Error("the deploy role has an access entry; EKS rejects it next to the creator's")
	}
	if !strings.Contains(promised["cluster.deployRoleArn"], "creat") {
		t.Errorf("the README's row for cluster.deployRoleArn does not say it is admin as the creator: %q", promised["cluster.deployRoleArn"])
	}
}

// readmeAccessTable maps the config keys of the README's cluster access table to the access policy
// each row promises (or, for the deploy role, the row's text).
func readmeAccessTable(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| [^|]+ \\| `(cluster\\.[a-zA-Z]+)` \\| ([^|]+) \\|$")
	out := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		access := m[2]
		if p := regexp.MustCompile("`(AmazonEKS[A-Za-z]+)`").FindStringSubmatch(access); p != nil {
			access = p[1]
		}
		out[m[1]] = access
	}
	return out
}

func TestPrivateOnlyEndpoint(t *testing.T) {
	t.Parallel()
	r := run(t, "staging", infratest.WithValue("cluster.endpointPublicAccess", false), infratest.WithoutValue("cluster.publicAccessCidrs"))
	_, in := r.eks(t)
	if in["endpointPublicAccess"] != false || in["endpointPrivateAccess"] != true {
		t.Errorf("endpoint access public %v private %v", in["endpointPublicAccess"], in["endpointPrivateAccess"])
	}
	if _, set := in["publicAccessCidrs"]; set {
		t.Errorf("publicAccessCidrs set with the public endpoint off: pulumi-eks rejects that")
	}
}

func TestKubernetesProvider(t *testing.T) {
	t.Parallel()
	r := run(t, "staging")
	providers := r.rec.ByType("pulumi:providers:kubernetes")
	if len(providers) != 1 {
		t.Fatalf("%d kubernetes providers, want 1", len(providers))
	}
	in := providers[0].Plain(false)
	eks := r.rec.Find(eksType, "cluster-eks")
	if in["enableServerSideApply"] != true || in["deleteUnreachable"] != nil || in["clusterIdentifier"] != r.cfg.Cluster.Name ||
		in["kubeconfig"] != eks.Outputs["kubeconfigJson"].StringValue() {
		t.Errorf("provider inputs = %v", in)
	}
}

// TestOutputs checks the values stack exports read: the kubeconfig stays secret, the OIDC and
// security group values come from the pulumi-eks component, node group names default first.
func TestOutputs(t *testing.T) {
	t.Parallel()
	r := run(t, "prod")
	eks := r.rec.Find(eksType, "cluster-eks")
	if kc := r.outputs["kubeconfigJson"]; !kc.Secret || kc.Value != eks.Outputs["kubeconfigJson"].StringValue() {
		t.Errorf("KubeconfigJSON secret=%v, want the secret kubeconfig of the cluster", kc.Secret)
	}
	for key := range map[string]bool{"oidcProviderArn": true, "oidcIssuer": true, "nodeSecurityGroupId": true} {
		if got := r.outputs[key].Value; got != eks.Outputs[resourceKey(key)].StringValue() {
			t.Errorf("%s = %v, want the component's %v", key, got, eks.Outputs[resourceKey(key)])
		}
	}
	if got := r.outputs["name"].Value; got != "openneuro-prod" {
		t.Errorf("Name = %v", got)
	}
	var want []string
	for _, key := range []string{"default", "edgefs-target"} {
		want = append(want, r.rec.Find(nodeGroupType, "cluster-"+key).Outputs["nodeGroupName"].StringValue())
	}
	if got := r.outputs["nodeGroupNames"].Value; !reflect.DeepEqual(got, want) {
		t.Errorf("NodeGroupNames = %v, want %v", got, want)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			infratest.Golden(t, stack+".golden.yaml", render(t, run(t, stack)))
		})
	}
}

// render is the layer's golden text: its custom resources, then the arguments given to pulumi-eks's
// remote component, whose own children the mocks never see.
func render(t *testing.T, r *result) []byte {
	t.Helper()
	res, _ := r.eks(t)
	args, err := yaml.Marshal(map[string]any{"type": res.Type, "name": res.Name, "protect": res.Protect, "inputs": res.Plain(true),
		"controlPlaneProtect": r.rec.ChildOptions(res.URN, cluster.ControlPlaneType, res.Name+"-eksCluster").Protect})
	if err != nil {
		t.Fatal(err)
	}
	out := infratest.RenderYAML(r.rec.Descendants(cluster.Type))
	return append(out, append([]byte("---\n# "+eksType+" "+res.Name+" (remote component: its arguments)\n"), args...)...)
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		a, b := runFresh(t, stack), runFresh(t, stack)
		if !bytes.Equal(render(t, a), render(t, b)) {
			t.Errorf("%s: two runs render differently", stack)
		}
	}
}

// TestNoIndexNames guards against names that would rename (and replace) resources on reordering.
func TestNoIndexNames(t *testing.T) {
	t.Parallel()
	r := run(t, "prod")
	var names []string
	for _, res := range r.rec.Descendants(cluster.Type) {
		names = append(names, res.Name)
		if i := strings.LastIndex(res.Name, "-"); i >= 0 && strings.Trim(res.Name[i+1:], "0123456789") == "" {
			t.Errorf("%s %s is index-named", res.Type, res.Name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no resources under the cluster component")
	}
}

func resourceKey(k string) resource.PropertyKey { return resource.PropertyKey(k) }

// TestNetworkingAddOnsPinned: vpc-cni and kube-proxy are pinned from config (unpinned, pulumi-eks
// picks the newest build on every run, which churns), to the builds of the Kubernetes version.
func TestNetworkingAddOnsPinned(t *testing.T) {
	t.Parallel()
	for _, version := range stacks.SupportedKubernetesVersions() {
		t.Run(version, func(t *testing.T) {
			want, _ := stacks.AddonBuildsFor(version)
			r := run(t, "prod", infratest.WithValue("cluster.kubernetesVersion", version))
			_, in := r.eks(t)
			cni, _ := in["vpcCniOptions"].(map[string]any)
			proxy, _ := in["kubeProxyAddonOptions"].(map[string]any)
			if cni["enableNetworkPolicy"] != true {
				t.Errorf("vpc-cni enableNetworkPolicy = %v: nothing would enforce the NetworkPolicies", cni["enableNetworkPolicy"])
			}
			if cni["addonVersion"] != want.VpcCni || proxy["version"] != want.KubeProxy {
				t.Errorf("vpc-cni %v, kube-proxy %v; want %s and %s", cni["addonVersion"], proxy["version"], want.VpcCni, want.KubeProxy)
			}
		})
	}
	_, err := infratest.RunStack("prod", infratest.WithValue("cluster.kubeProxyVersion", "v1.34.6-eksbuild.2"))
	if err == nil || !strings.Contains(err.Error(), `cluster.kubeProxyVersion: "v1.34.6-eksbuild.2" does not match kubernetesVersion 1.35`) {
		t.Errorf("a kube-proxy of another minor version must be rejected, got %v", err)
	}
}

// TestAMIReleaseVersion: unset, EKS picks the AMI at creation (no input, no churn); set, it is the
// node group's releaseVersion, so raising it rolls the nodes.
func TestAMIReleaseVersion(t *testing.T) {
	t.Parallel()
	r := run(t, "prod", infratest.WithValue("cluster.defaultNodeGroup.amiReleaseVersion", "1.35.0-20260115"))
	for _, ng := range r.rec.ByType(nodeGroupType) {
		got := ng.Plain(false)["releaseVersion"]
		want := any(nil)
		if ng.Name == "cluster-default" {
			want = "1.35.0-20260115"
		}
		if got != want {
			t.Errorf("%s releaseVersion %v, want %v", ng.Name, got, want)
		}
	}
}
