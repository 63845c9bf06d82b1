package ingress_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/openneuro/openneuro-infra/infra"
	"github.com/openneuro/openneuro-infra/infra/ingress"
	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/stacks"
)

const (
	releaseType = "kubernetes:helm.sh/v3:Release"
	classType   = "kubernetes:networking.k8s.io/v1:IngressClass"
)

var allStacks = []string{"staging", "prod"}

type result struct {
	rec        *infratest.Recorder
	cfg        *stacks.Config
	className  string
	controller string
	nodeGroups []string
	eks        *infratest.Resource
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
		in := aws.Ingress
		r.className = in.ClassName
		urn, err := internals.UnsafeAwaitOutput(ctx.Context(), in.Controller.URN())
		if err != nil {
			return err
		}
		r.controller = string(urn.Value.(pulumi.URN))
		return nil
	}, opts...)
	for _, ng := range r.rec.ByType("aws:eks/nodeGroup:NodeGroup") {
		r.nodeGroups = append(r.nodeGroups, ng.URN)
	}
	r.eks = r.rec.Find("eks:index:Cluster", "cluster-eks")
	return r
}

func TestControllerRelease(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			r := run(t, stack)
			rel := r.rec.Find(releaseType, "ingress-controller")
			if rel == nil {
				t.Fatal("no release ingress-controller")
			}
			in := rel.Plain(false)
			if in["chart"] != "aws-load-balancer-controller" || in["version"] != r.cfg.Ingress.ControllerChartVersion ||
				in["namespace"] != "kube-system" || in["name"] != "aws-load-balancer-controller" ||
				in["repositoryOpts"].(map[string]any)["repo"] != "https://aws.github.io/eks-charts" {
				t.Errorf("release %v; want chart aws-load-balancer-controller %s from eks-charts into kube-system", in, r.cfg.Ingress.ControllerChartVersion)
			}
			role := r.rec.Find("aws:iam/role:Role", "ingress-controller-role")
			vpc := r.rec.Find("aws:ec2/vpc:Vpc", "network-vpc")
			want := map[string]any{
				"clusterName":  r.cfg.Cluster.Name,
				"region":       r.cfg.Env.Region,
				"vpcId":        vpc.ID,
				"replicaCount": int64(2),
				"serviceAccount": map[string]any{
					"create": true, "name": "aws-load-balancer-controller",
					"annotations": map[string]any{"eks.amazonaws.com/role-arn": role.Outputs["arn"].StringValue()},
				},
				"ingressClass":                "alb",
				"createIngressClassResource":  false,
				"enableServiceMutatorWebhook": false,
				"keepTLSSecret":               true,
				"podDisruptionBudget":         map[string]any{"maxUnavailable": int64(1)},
			}
			if !reflect.DeepEqual(in["values"], want) {
				t.Errorf("values\n got %v\nwant %v", in["values"], want)
			}
			if !reflect.DeepEqual(rel.IgnoreChanges, []string{"checksum"}) {
				t.Errorf("ignoreChanges = %v, want [checksum] (the chart's genCA changes the rendered checksum every preview)", rel.IgnoreChanges)
			}
			if rel.Provider == "" {
				t.Error("release uses the default provider")
			}
			for _, urn := range r.nodeGroups {
				if !slices.Contains(rel.DependsOn, urn) {
					t.Errorf("release does not depend on node group %s", urn)
				}
			}
			att := r.rec.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ingress-controller-AWSLoadBalancerControllerIAMPolicy")
			if att == nil || !slices.Contains(rel.DependsOn, att.URN) {
				t.Error("release does not wait for the controller's IAM policy attachment")
			}
			// Helm never upgrades crds/: the program applies the chart version's CRDs before the
			// release, and the release leaves them alone.
			crds := r.rec.Find("kubernetes:yaml/v2:ConfigGroup", "ingress-controller-crds")
			if crds == nil {
				t.Fatal("no ConfigGroup ingress-controller-crds")
			}
			wantFiles := []any{
				"https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/v2.14.0/helm/aws-load-balancer-controller/crds/crds.yaml",
				"https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/v2.14.0/helm/aws-load-balancer-controller/crds/gateway-crds.yaml",
			}
			if files := crds.Plain(false)["files"]; !reflect.DeepEqual(files, wantFiles) {
				t.Errorf("CRD files %v, want %v", files, wantFiles)
			}
			if !slices.Contains(rel.DependsOn, crds.URN) || in["skipCrds"] != true {
				t.Errorf("release: depends on the CRDs %v, skipCrds %v; want both", slices.Contains(rel.DependsOn, crds.URN), in["skipCrds"])
			}
		})
	}
}

// TestControllerTable keeps the table and the transcription consistent: every chart's recorded
// policy checksum is the one iampolicy.go says it transcribes (a row with another checksum needs
// the transcription redone), the transcription's source is the controller of one of the rows, and
// every row lists its CRD files. The checksums themselves are recorded from upstream by hand (the
// rows' comment), not computed here.
func TestControllerTable(t *testing.T) {
	sourced := false
	for _, v := range stacks.ControllerCharts() {
		c, _ := stacks.ControllerChartFor(v)
		if c.PolicySHA256 != ingress.ControllerPolicySHA256 {
			t.Errorf("chart %s: controller %s's policy has sha256 %s, but iampolicy.go transcribes %s", v, c.Controller, c.PolicySHA256, ingress.ControllerPolicySHA256)
		}
		if len(c.CRDFiles) == 0 {
			t.Errorf("chart %s lists no CRD files", v)
		}
		sourced = sourced || slices.Contains(strings.Split(ingress.ControllerPolicySource, "/"), c.Controller)
	}
	if !sourced {
		t.Errorf("ControllerPolicySource %s is the policy of no controller of the table", ingress.ControllerPolicySource)
	}
}

func TestReplicasFromConfig(t *testing.T) {
	t.Parallel()
	r := run(t, "staging", infratest.WithValue("ingress.controllerReplicas", 3))
	if got := r.rec.Find(releaseType, "ingress-controller").Plain(false)["values"].(map[string]any)["replicaCount"]; got != int64(3) {
		t.Errorf("replicaCount = %v, want 3", got)
	}
}

func TestControllerTrustPolicy(t *testing.T) {
	t.Parallel()
	r := run(t, "prod")
	var doc irsa.Document
	if err := json.Unmarshal([]byte(r.rec.Find("aws:iam/role:Role", "ingress-controller-role").Plain(false)["assumeRolePolicy"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	issuer := r.eks.Outputs["oidcIssuer"].StringValue()
	want := irsa.Condition{"StringEquals": {
		issuer + ":sub": {"system:serviceaccount:kube-system:aws-load-balancer-controller"},
		issuer + ":aud": {"sts.amazonaws.com"},
	}}
	st := doc.Statement[0]
	if len(doc.Statement) != 1 || st.Principal.Federated != r.eks.Outputs["oidcProviderArn"].StringValue() || !reflect.DeepEqual(st.Condition, want) {
		t.Errorf("trust policy %+v, want only the controller's service account", doc)
	}
}

func TestIngressClass(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		opts         []infratest.Option
		defaultClass bool
	}{
		{name: "default", defaultClass: false},
		{name: "defaultClass true", opts: []infratest.Option{infratest.WithValue("ingress.defaultClass", true)}, defaultClass: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "staging", tc.opts...)
			class := r.rec.Find(classType, "ingress-class")
			if class == nil {
				t.Fatal("no IngressClass")
			}
			in := class.Plain(false)
			md := in["metadata"].(map[string]any)
			if md["name"] != "alb" || in["spec"].(map[string]any)["controller"] != "ingress.k8s.aws/alb" || len(md["labels"].(map[string]any)) != 6 {
				t.Errorf("IngressClass %v", in)
			}
			annotations, _ := md["annotations"].(map[string]any)
			if got := annotations["ingressclass.kubernetes.io/is-default-class"] == "true"; got != tc.defaultClass {
				t.Errorf("default-class annotation %v, want %v", annotations, tc.defaultClass)
			}
			if class.Provider == "" {
				t.Error("IngressClass uses the default provider")
			}
			rel := r.rec.Find(releaseType, "ingress-controller")
			if !slices.Contains(class.DependsOn, rel.URN) {
				t.Error("IngressClass does not wait for the controller release")
			}
			if r.controller != class.URN || r.className != "alb" {
				t.Errorf("Ingress.Controller %s ClassName %s, want the IngressClass %s and alb", r.controller, r.className, class.URN)
			}
		})
	}
}

// TestControllerPolicy parses the IAM policy as AWS would: version, no statement that grants every
// action (so none grants * on *), and within the 6,144-character managed policy limit.
func TestControllerPolicy(t *testing.T) {
	t.Parallel()
	r := run(t, "staging")
	pol := r.rec.Find("aws:iam/policy:Policy", "ingress-controller")
	if pol == nil {
		t.Fatal("no controller policy")
	}
	text := pol.Plain(false)["policy"].(string)
	want, err := ingress.ControllerPolicy().JSON()
	if err != nil || text != want {
		t.Fatalf("policy input differs from ControllerPolicy(): %v", err)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Effect    string
			Action    irsa.Values
			Resource  irsa.Values
			Condition map[string]map[string]irsa.Values
		}
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("policy is not JSON: %v", err)
	}
	if doc.Version != "2012-10-17" || len(doc.Statement) != 16 {
		t.Errorf("version %q, %d statements; want 2012-10-17 and upstream's 16", doc.Version, len(doc.Statement))
	}
	actions := map[string]bool{}
	for i, st := range doc.Statement {
		if st.Effect != "Allow" || len(st.Action) == 0 {
			t.Errorf("statement %d: effect %q, %d actions", i, st.Effect, len(st.Action))
		}
		for _, a := range st.Action {
			actions[a] = true
			// No wildcard action at all, so in particular no "*" on "*".
			if strings.Contains(a, "*") {
				t.Errorf("statement %d grants the wildcard action %q on %v", i, a, st.Resource)
			}
		}
		if len(st.Resource) == 0 {
			t.Errorf("statement %d names no resource", i)
		}
	}
	// Spot checks of what the controller needs for ALB Ingresses.
	for _, a := range []string{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:SetRulePriorities", "ec2:GetSecurityGroupsForVpc", "ec2:DescribeRouteTables", "acm:DescribeCertificate"} {
		if !actions[a] {
			t.Errorf("policy lacks %s", a)
		}
	}
	if n := len(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, text)); n > 6144 {
		t.Errorf("policy has %d characters, over IAM's 6,144 for managed policies", n)
	}
}

func TestEveryKubernetesResourceHasTheProvider(t *testing.T) {
	t.Parallel()
	r := run(t, "prod")
	for _, res := range r.rec.Descendants(ingress.Type) {
		if strings.HasPrefix(res.Type, "kubernetes:") && res.Custom && res.Provider == "" {
			t.Errorf("%s %s uses the default provider", res.Type, res.Name)
		}
	}
}

// render is the golden text of a stack: the layer's resources.
func render(t *testing.T, r *result) []byte {
	t.Helper()
	return infratest.RenderYAML(r.rec.Descendants(ingress.Type))
}

// TestGolden renders the layer per stack, and once the controller's IAM policy (the same for every
// stack, transcribed from ingress.ControllerPolicySource), indented for review.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			infratest.Golden(t, stack+".golden.yaml", render(t, run(t, stack)))
		})
	}
	t.Run("policy", func(t *testing.T) {
		var pretty bytes.Buffer
		doc, err := ingress.ControllerPolicy().JSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&pretty, []byte(doc), "", "  "); err != nil {
			t.Fatal(err)
		}
		infratest.Golden(t, "controller-policy.golden.json", append(pretty.Bytes(), '\n'))
	})
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		if a, b := render(t, runFresh(t, stack)), render(t, runFresh(t, stack)); !bytes.Equal(a, b) {
			t.Errorf("%s: two runs render differently", stack)
		}
	}
}
