package network_test

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/openneuro/openneuro-infra/infra/network"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/stacks"
)

const (
	subnetType = "aws:ec2/subnet:Subnet"
	natType    = "aws:ec2/natGateway:NatGateway"
	routeType  = "aws:ec2/route:Route"
)

var allStacks = []string{"staging", "prod"}

// run runs only the network layer for a stack, with the stack's real config, and returns the
// recorder and the layer's resolved outputs.
func run(t *testing.T, stack string, opts ...infratest.Option) (*infratest.Recorder, *stacks.Config, map[string]any) {
	t.Helper()
	var cfg *stacks.Config
	outputs := map[string]any{}
	program := infratest.WithProgram(func(ctx *pulumi.Context) error {
		var err error
		if cfg, err = stacks.Load(ctx); err != nil {
			return err
		}
		net, err := network.New(ctx, "network", &network.Args{Config: cfg.Network, ClusterName: cfg.Cluster.Name})
		if err != nil {
			return err
		}
		for k, o := range map[string]pulumi.Output{"vpcId": net.VpcID, "public": net.PublicSubnetIDs, "private": net.PrivateSubnetIDs, "nat": net.NatPublicIPs} {
			res, err := internals.UnsafeAwaitOutput(ctx.Context(), o)
			if err != nil {
				return err
			}
			outputs[k] = res.Value
		}
		outputs["egress"] = len(net.EgressRoutes)
		return nil
	})
	rec := infratest.Run(t, stack, append(opts, program)...)
	return rec, cfg, outputs
}

func TestCreatedVPC(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			rec, cfg, out := run(t, stack)
			vpc := rec.Find("aws:ec2/vpc:Vpc", "network-vpc")
			if vpc == nil {
				t.Fatal("no VPC")
			}
			in := vpc.Plain(false)
			if in["cidrBlock"] != cfg.Network.CIDR || in["enableDnsHostnames"] != true || in["enableDnsSupport"] != true {
				t.Errorf("vpc inputs = %v, want cidr %s and DNS on", in, cfg.Network.CIDR)
			}
			if out["vpcId"] != vpc.ID {
				t.Errorf("VpcID = %v, want %s", out["vpcId"], vpc.ID)
			}

			private, public, err := network.SubnetCIDRs(cfg.Network.CIDR, stacks.ZoneCount)
			if err != nil {
				t.Fatal(err)
			}
			clusterTag := "kubernetes.io/cluster/" + cfg.Cluster.Name
			var privateIDs, publicIDs []string
			for i, az := range cfg.Network.AvailabilityZones {
				for _, kind := range []struct {
					name, cidr, roleTag string
					ids                 *[]string
				}{
					{"private", private[i], "kubernetes.io/role/internal-elb", &privateIDs},
					{"public", public[i], "kubernetes.io/role/elb", &publicIDs},
				} {
					sn := rec.Find(subnetType, "network-"+kind.name+"-"+az)
					if sn == nil {
						t.Fatalf("no subnet network-%s-%s", kind.name, az)
					}
					p := sn.Plain(false)
					tags, _ := p["tags"].(map[string]any)
					zoneKey := "availabilityZone" // a zone name; a zone ID goes to availabilityZoneId
					if stacks.IsZoneID(az) {
						zoneKey = "availabilityZoneId"
					}
					if p[zoneKey] != az || p["cidrBlock"] != kind.cidr || tags[kind.roleTag] != "1" || tags[clusterTag] != "shared" {
						t.Errorf("%s subnet %s: az %v cidr %v tags %v; want %s, %s, %s=1, %s=shared", kind.name, az, p[zoneKey], p["cidrBlock"], tags, az, kind.cidr, kind.roleTag, clusterTag)
					}
					if p["mapPublicIpOnLaunch"] == true {
						t.Errorf("%s subnet %s maps public IPs on launch", kind.name, az)
					}
					*kind.ids = append(*kind.ids, sn.ID)
				}
			}
			if !reflect.DeepEqual(out["private"], privateIDs) || !reflect.DeepEqual(out["public"], publicIDs) {
				t.Errorf("outputs private %v public %v, want %v and %v (zone order)", out["private"], out["public"], privateIDs, publicIDs)
			}
			if n := len(rec.ByType(subnetType)); n != 2*stacks.ZoneCount {
				t.Errorf("%d subnets, want %d", n, 2*stacks.ZoneCount)
			}
			if out["egress"] != 2*stacks.ZoneCount {
				t.Errorf("EgressRoutes has %v resources, want a route and an association per zone", out["egress"])
			}
		})
	}
}

// TestNATGateways checks natGateways: one shared gateway in staging, one per zone in prod, and
// every private subnet's default route through the gateway of its own zone when there is one.
func TestNATGateways(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			rec, cfg, out := run(t, stack)
			zones := cfg.Network.AvailabilityZones
			nats := rec.ByType(natType)
			want := 1
			if cfg.Network.NatGateways == stacks.NatPerZone {
				want = len(zones)
			}
			if len(nats) != want || len(rec.ByType("aws:ec2/eip:Eip")) != want {
				t.Fatalf("%d NAT gateways and %d EIPs, want %d (natGateways %s)", len(nats), len(rec.ByType("aws:ec2/eip:Eip")), want, cfg.Network.NatGateways)
			}
			// The NAT addresses operators allowlist elsewhere: every gateway's Elastic IP, zone order.
			var ips []string
			for _, az := range zones[:want] {
				eip := rec.Find("aws:ec2/eip:Eip", "network-nat-"+az)
				if eip == nil {
					t.Fatalf("no Elastic IP for the NAT gateway in %s", az)
				}
				ips = append(ips, eip.Outputs["publicIp"].StringValue())
			}
			if !reflect.DeepEqual(out["nat"], ips) {
				t.Errorf("NatPublicIPs %v, want the gateways' Elastic IPs %v", out["nat"], ips)
			}
			for _, az := range zones {
				route := rec.Find(routeType, "network-private-"+az+"-default")
				if route == nil {
					t.Fatalf("no default route for private %s", az)
				}
				natAZ := az
				if want == 1 {
					natAZ = zones[0]
				}
				nat := rec.Find(natType, "network-nat-"+natAZ)
				if nat == nil {
					t.Fatalf("no NAT gateway network-nat-%s", natAZ)
				}
				p := route.Plain(false)
				if p["natGatewayId"] != nat.ID || p["destinationCidrBlock"] != "0.0.0.0/0" {
					t.Errorf("private %s routes 0.0.0.0/0 via %v, want NAT %s", az, p["natGatewayId"], nat.ID)
				}
				publicSubnet := rec.Find(subnetType, "network-public-"+natAZ)
				if nat.Plain(false)["subnetId"] != publicSubnet.ID {
					t.Errorf("NAT %s is not in the public subnet of its zone", natAZ)
				}
			}
			igw := rec.ByType("aws:ec2/internetGateway:InternetGateway")
			pub := rec.Find(routeType, "network-public-default")
			if len(igw) != 1 || pub == nil || pub.Plain(false)["gatewayId"] != igw[0].ID {
				t.Errorf("public default route does not go through the internet gateway")
			}
		})
	}
}

func TestExistingVPCRegistersNothing(t *testing.T) {
	t.Parallel()
	rec, _, out := run(t, "staging",
		infratest.WithValue("network.vpcId", "vpc-0123456789abcdef0"),
		infratest.WithValue("network.publicSubnetIds", []string{"subnet-pub-a", "subnet-pub-b", "subnet-pub-c"}),
		infratest.WithValue("network.privateSubnetIds", []string{"subnet-priv-a", "subnet-priv-b", "subnet-priv-c"}),
	)
	var aws []string
	for _, res := range rec.Resources() {
		if strings.HasPrefix(res.Type, "aws:") {
			aws = append(aws, res.Type+" "+res.Name)
		}
	}
	if len(aws) > 0 {
		t.Errorf("existing-VPC mode registered AWS resources: %v", aws)
	}
	want := map[string]any{
		"vpcId":   "vpc-0123456789abcdef0",
		"public":  []string{"subnet-pub-a", "subnet-pub-b", "subnet-pub-c"},
		"private": []string{"subnet-priv-a", "subnet-priv-b", "subnet-priv-c"},
		"nat":     []string{}, // the program manages no egress of a VPC it did not create
		"egress":  0,
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("outputs = %v, want %v", out, want)
	}
}

// TestNamesAreKeyedByZone guards against index-based names: every per-zone resource carries the
// name of its zone.
func TestNamesAreKeyedByZone(t *testing.T) {
	t.Parallel()
	rec, cfg, _ := run(t, "prod")
	for _, res := range rec.Resources() {
		if !res.Custom || res.Type == "aws:ec2/vpc:Vpc" {
			continue
		}
		for _, digit := range []string{"-0", "-1", "-2"} {
			if strings.HasSuffix(res.Name, digit) {
				t.Errorf("%s %s looks index-named", res.Type, res.Name)
			}
		}
	}
	for _, az := range cfg.Network.AvailabilityZones {
		if rec.Find(subnetType, "network-private-"+az) == nil {
			t.Errorf("no subnet named after zone %s", az)
		}
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			rec, _, _ := run(t, stack)
			infratest.Golden(t, stack+".golden.yaml", infratest.RenderYAML(rec.Descendants(network.Type)))
		})
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		a, _, _ := run(t, stack)
		b, _, _ := run(t, stack)
		ra, rb := infratest.RenderYAML(a.Descendants(network.Type)), infratest.RenderYAML(b.Descendants(network.Type))
		if !bytes.Equal(ra, rb) {
			t.Errorf("%s: two runs render differently", stack)
		}
		if names(a) != names(b) {
			t.Errorf("%s: two runs register different resources", stack)
		}
	}
}

func names(rec *infratest.Recorder) string {
	var out []string
	for _, r := range rec.Resources() {
		out = append(out, fmt.Sprintf("%s %s", r.URN, r.ID))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestECREndpoints: with network.endpoints.ecr, ecr.api and ecr.dkr interface endpoints in the three
// private subnets with private DNS, behind a security group that admits HTTPS from exactly the
// private subnets' blocks; off by default.
func TestECREndpoints(t *testing.T) {
	t.Parallel()
	if n := len(rec(t, "prod").ByType("aws:ec2/vpcEndpoint:VpcEndpoint")); n != 1 {
		t.Errorf("%d endpoints by default, want the S3 gateway only", n)
	}
	r, cfg, out := run(t, "prod", infratest.WithValue("network.endpoints.ecr", true))
	private, _, err := network.SubnetCIDRs(cfg.Network.CIDR, stacks.ZoneCount)
	if err != nil {
		t.Fatal(err)
	}
	sg := r.Find("aws:ec2/securityGroup:SecurityGroup", "network-ecr-endpoints")
	if sg == nil {
		t.Fatal("no security group for the ECR endpoints")
	}
	var cidrs []string
	for _, rule := range r.ByType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		in := rule.Plain(false)
		if in["securityGroupId"] != sg.ID {
			continue
		}
		if fmt.Sprintf("%v %v %v", in["fromPort"], in["toPort"], in["ipProtocol"]) != "443 443 tcp" {
			t.Errorf("%s: %v", rule.Name, in)
		}
		cidrs = append(cidrs, in["cidrIpv4"].(string))
	}
	sort.Strings(cidrs)
	want := append([]string{}, private...)
	sort.Strings(want)
	if !reflect.DeepEqual(cidrs, want) {
		t.Errorf("HTTPS allowed from %v, want the private subnets %v", cidrs, want)
	}
	for _, svc := range []string{"ecr-api", "ecr-dkr"} {
		ep := r.Find("aws:ec2/vpcEndpoint:VpcEndpoint", "network-"+svc)
		if ep == nil {
			t.Fatalf("no %s endpoint", svc)
		}
		in := ep.Plain(false)
		if in["serviceName"] != "com.amazonaws.us-west-2."+strings.ReplaceAll(svc, "-", ".") || in["vpcEndpointType"] != "Interface" || in["privateDnsEnabled"] != true {
			t.Errorf("%s: %v", svc, in)
		}
		if fmt.Sprint(in["subnetIds"]) != fmt.Sprint(out["private"]) || fmt.Sprint(in["securityGroupIds"]) != fmt.Sprint([]any{sg.ID}) {
			t.Errorf("%s: subnets %v groups %v, want the private subnets %v and %s", svc, in["subnetIds"], in["securityGroupIds"], out["private"], sg.ID)
		}
	}
}

func rec(t *testing.T, stack string, opts ...infratest.Option) *infratest.Recorder {
	r, _, _ := run(t, stack, opts...)
	return r
}
