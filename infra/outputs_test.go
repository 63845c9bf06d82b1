package infra_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/openneuro/openneuro-infra/infra"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// output is one awaited stack output.
type output struct {
	value  any
	secret bool
}

// stackOutputs runs the program for a stack and awaits every output it returns.
func stackOutputs(t *testing.T, stack string, opts ...infratest.Option) (*infratest.Recorder, map[string]output) {
	t.Helper()
	outs := map[string]output{}
	program := infratest.WithProgram(func(ctx *pulumi.Context) error {
		m, err := infra.Program(ctx)
		if err != nil {
			return err
		}
		for name, v := range m {
			res, err := internals.UnsafeAwaitOutput(ctx.Context(), pulumi.ToOutput(v))
			if err != nil {
				return err
			}
			outs[name] = output{value: res.Value, secret: res.Secret}
		}
		return nil
	})
	return infratest.Run(t, stack, append(opts, program)...), outs
}

// TestOperatorOutputs: the addresses operators need: the NAT gateways' public IPs (allowlists of
// MongoDB Atlas, Elasticsearch, mail), the ALB's DNS name and its canonical hosted zone id (Route 53
// alias records), found by the tags the load balancer controller puts on the ALB.
func TestOperatorOutputs(t *testing.T) {
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			rec, outs := stackOutputs(t, stack)
			var eips []string
			for _, eip := range rec.ByType("aws:ec2/eip:Eip") {
				eips = append(eips, eip.Outputs["publicIp"].StringValue())
			}
			got, _ := outs["natPublicIps"].value.([]string)
			if len(eips) == 0 || !slices.Equal(sorted(got), sorted(eips)) {
				t.Errorf("natPublicIps %v, want the NAT Elastic IPs %v", got, eips)
			}
			ing := rec.Find("kubernetes:networking.k8s.io/v1:Ingress", "openneuro-ingress")
			status := ing.Outputs["status"].ObjectValue()["loadBalancer"].ObjectValue()["ingress"].ArrayValue()[0].ObjectValue()
			if want := status["hostname"].StringValue(); outs["loadBalancerHostname"].value != want {
				t.Errorf("loadBalancerHostname %v, want the Ingress's %s", outs["loadBalancerHostname"].value, want)
			}
			if outs["loadBalancerZoneId"].value != infratest.ALBZoneID {
				t.Errorf("loadBalancerZoneId %v, want the ALB's %s", outs["loadBalancerZoneId"].value, infratest.ALBZoneID)
			}
			lookups := rec.Calls("aws:lb/getLoadBalancer:getLoadBalancer")
			if len(lookups) != 1 {
				t.Fatalf("%d load balancer lookups, want 1", len(lookups))
			}
			tags := lookups[0].Args["tags"].Mappable()
			want := map[string]any{"elbv2.k8s.aws/cluster": "openneuro-" + stack, "ingress.k8s.aws/stack": "openneuro/openneuro-" + stack}
			if !reflect.DeepEqual(tags, want) {
				t.Errorf("the ALB is looked up by %v, want the controller's tags %v", tags, want)
			}
			if !outs["kubeconfig"].secret {
				t.Error("kubeconfig is not a secret output")
			}
		})
	}
}

// TestREADMEListsEveryOutput: the README's list of stack outputs is what the program exports.
func TestREADMEListsEveryOutput(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)Stack outputs:(.*?)\n\n").FindSubmatch(data)
	if m == nil {
		t.Fatal("the README has no 'Stack outputs:' paragraph")
	}
	documented := map[string]bool{}
	for _, name := range regexp.MustCompile("`([a-zA-Z]+)`").FindAllSubmatch(m[1], -1) {
		documented[string(name[1])] = true
	}
	exported := map[string]bool{}
	for _, run := range []struct {
		stack string
		opts  []infratest.Option
	}{
		{"prod", []infratest.Option{infratest.WithValue("cluster.dashboard.enabled", true)}},
		{"local", nil},
	} {
		_, outs := stackOutputs(t, run.stack, run.opts...)
		for name := range outs {
			exported[name] = true
		}
	}
	for name := range exported {
		if !documented[name] {
			t.Errorf("the README does not list the output %s", name)
		}
	}
	for name := range documented {
		if !exported[name] {
			t.Errorf("the README lists %s, which no stack exports", name)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
