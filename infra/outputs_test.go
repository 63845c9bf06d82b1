package infra_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
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

// TestNatAddressesFromOutside: with network.natEipAllocationIds the NAT gateways use those Elastic
// IPs, in zone order, the stack creates none, and natPublicIps are their addresses, as preflight
// read them; an id the region does not hold stops the program before it registers anything.
func TestNatAddressesFromOutside(t *testing.T) {
	ids := []string{"eipalloc-0a1b2c3d4e5f60001", "eipalloc-0a1b2c3d4e5f60002", "eipalloc-0a1b2c3d4e5f60003"}
	ips := []string{"192.0.2.11", "192.0.2.12", "192.0.2.13"}
	opts := []infratest.Option{infratest.WithValue("network.natEipAllocationIds", []any{ids[0], ids[1], ids[2]})}
	for i := range ids {
		opts = append(opts, infratest.WithElasticIP(ids[i], ips[i]))
	}
	rec, outs := stackOutputs(t, "prod", opts...)
	if n := len(rec.ByType("aws:ec2/eip:Eip")); n != 0 {
		t.Errorf("the stack created %d Elastic IPs beside the given ones", n)
	}
	for i, az := range []string{"usw2-az1", "usw2-az2", "usw2-az3"} { // Pulumi.prod.yaml
		nat := rec.Find("aws:ec2/natGateway:NatGateway", "network-nat-"+az)
		if nat == nil || nat.Plain(false)["allocationId"] != ids[i] {
			t.Errorf("NAT gateway in %s: %+v, want allocation %s", az, nat, ids[i])
		}
	}
	if got, _ := outs["natPublicIps"].value.([]string); !slices.Equal(got, ips) {
		t.Errorf("natPublicIps %v, want %v", got, ips)
	}

	rec, err := infratest.RunStack("prod", append(opts[:1:1], infratest.WithElasticIP(ids[0], ips[0]), infratest.WithElasticIP(ids[2], ips[2]))...)
	if err == nil || !strings.Contains(err.Error(), "network.natEipAllocationIds[1]: no Elastic IP eipalloc-0a1b2c3d4e5f60002 in this account and region") {
		t.Errorf("a missing Elastic IP: %v", err)
	}
	if rec != nil && len(rec.Resources()) > 0 {
		t.Errorf("%d resources registered before the error", len(rec.Resources()))
	}
}
