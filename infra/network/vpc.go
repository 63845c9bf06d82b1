package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Subnet tags the AWS Load Balancer Controller and EKS use to discover subnets.
// Ref: https://docs.aws.amazon.com/eks/latest/userguide/network-load-balancing.html#network-load-balancing-subnet-tagging
const (
	publicELBTag   = "kubernetes.io/role/elb"
	internalELBTag = "kubernetes.io/role/internal-elb"
	clusterTagPfx  = "kubernetes.io/cluster/"
)

// vpc is what newVPC built.
type vpc struct {
	vpcID           pulumi.StringOutput
	public, private pulumi.StringArray
	egress          []pulumi.Resource
	// natIPs are the NAT gateways' Elastic IPs, in zone order: every connection from the nodes to
	// the internet leaves from one of them.
	natIPs pulumi.StringArray
}

// newVPC creates the VPC, its internet gateway, a public and a private subnet per zone, the NAT
// gateway(s) and the route tables. Every per-zone resource is named after its zone, never an index.
func newVPC(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption) (*vpc, error) {
	cfg := args.Config
	privateCIDRs, publicCIDRs, err := SubnetCIDRs(cfg.CIDR, len(cfg.AvailabilityZones))
	if err != nil {
		return nil, err
	}
	tags := func(role string, extra map[string]string) pulumi.StringMap {
		m := pulumi.StringMap{"Name": pulumi.String(args.ClusterName + "-" + role)}
		for k, v := range extra {
			m[k] = pulumi.String(v)
		}
		return m
	}
	cluster := clusterTagPfx + args.ClusterName

	// EKS needs DNS hostnames and resolution for the private API endpoint and nodes; EFS mount
	// targets are reached by their DNS name.
	v, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(cfg.CIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags("vpc", nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("network: vpc: %w", err)
	}
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: v.ID(),
		Tags:  tags("igw", nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("network: internet gateway: %w", err)
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId: v.ID(),
		Tags:  tags("public", nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("network: public route table: %w", err)
	}
	if _, err := ec2.NewRoute(ctx, name+"-public-default", &ec2.RouteArgs{
		RouteTableId:         publicRT.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		GatewayId:            igw.ID(),
	}, parent); err != nil {
		return nil, fmt.Errorf("network: public default route: %w", err)
	}

	out := &vpc{vpcID: v.ID().ToStringOutput()}
	publicSubnets := map[string]*ec2.Subnet{}
	for i, az := range cfg.AvailabilityZones {
		// Public subnets hold load balancers and NAT gateways only; nothing there gets a public IP
		// at launch (NAT gateways use Elastic IPs).
		pub, err := ec2.NewSubnet(ctx, name+"-public-"+az, zoned(az, &ec2.SubnetArgs{
			VpcId:     v.ID(),
			CidrBlock: pulumi.String(publicCIDRs[i]),
			Tags:      tags("public-"+az, map[string]string{publicELBTag: "1", cluster: "shared"}),
		}), parent)
		if err != nil {
			return nil, fmt.Errorf("network: public subnet %s: %w", az, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, name+"-public-"+az, &ec2.RouteTableAssociationArgs{
			SubnetId:     pub.ID(),
			RouteTableId: publicRT.ID(),
		}, parent); err != nil {
			return nil, fmt.Errorf("network: public route table association %s: %w", az, err)
		}
		publicSubnets[az] = pub
		out.public = append(out.public, pub.ID())
	}

	nats, natIPs, err := natGateways(ctx, name, cfg, args.NatPublicIPs, publicSubnets, igw, tags, parent)
	if err != nil {
		return nil, err
	}
	out.natIPs = natIPs

	var privateRouteTables pulumi.StringArray
	var private []privateZone
	for i, az := range cfg.AvailabilityZones {
		priv, err := ec2.NewSubnet(ctx, name+"-private-"+az, zoned(az, &ec2.SubnetArgs{
			VpcId:     v.ID(),
			CidrBlock: pulumi.String(privateCIDRs[i]),
			Tags:      tags("private-"+az, map[string]string{internalELBTag: "1", cluster: "shared"}),
		}), parent)
		if err != nil {
			return nil, fmt.Errorf("network: private subnet %s: %w", az, err)
		}
		// One route table per zone even with a single NAT gateway, so that switching
		// network.natGateways only changes routes, never subnets or associations.
		rt, err := ec2.NewRouteTable(ctx, name+"-private-"+az, &ec2.RouteTableArgs{
			VpcId: v.ID(),
			Tags:  tags("private-"+az, nil),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("network: private route table %s: %w", az, err)
		}
		nat := nats[az]
		if nat == nil {
			nat = nats[cfg.AvailabilityZones[0]]
		}
		route, err := ec2.NewRoute(ctx, name+"-private-"+az+"-default", &ec2.RouteArgs{
			RouteTableId:         rt.ID(),
			DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
			NatGatewayId:         nat.ID(),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("network: private default route %s: %w", az, err)
		}
		assoc, err := ec2.NewRouteTableAssociation(ctx, name+"-private-"+az, &ec2.RouteTableAssociationArgs{
			SubnetId:     priv.ID(),
			RouteTableId: rt.ID(),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("network: private route table association %s: %w", az, err)
		}
		out.private = append(out.private, priv.ID())
		private = append(private, privateZone{zone: az, cidr: privateCIDRs[i], subnetID: priv.ID()})
		out.egress = append(out.egress, route, assoc)
		privateRouteTables = append(privateRouteTables, rt.ID().ToStringOutput())
	}
	if err := newEndpointsAndFlowLogs(ctx, name, cfg, v.ID(), privateRouteTables, private, parent); err != nil {
		return nil, err
	}
	return out, nil
}

// natGateways creates one NAT gateway (and Elastic IP) per zone with natGateways perZone, or one in
// the first zone with single. A NAT gateway keeps its zone's name in both modes, so switching modes
// adds or removes gateways without replacing the first one. With network.natEipAllocationIds the
// gateways use those addresses, allocated outside the stack, and the stack creates none.
func natGateways(ctx *pulumi.Context, name string, cfg stacks.Network, givenIPs []string, public map[string]*ec2.Subnet,
	igw *ec2.InternetGateway, tags func(string, map[string]string) pulumi.StringMap, parent pulumi.ResourceOption,
) (map[string]*ec2.NatGateway, pulumi.StringArray, error) {
	zones := cfg.AvailabilityZones
	if cfg.NatGateways != stacks.NatPerZone {
		zones = zones[:1]
	}
	nats := map[string]*ec2.NatGateway{}
	var ips pulumi.StringArray
	for i, az := range zones {
		var allocation pulumi.StringInput
		if ids := cfg.NatEipAllocationIDs; len(ids) > 0 {
			allocation = pulumi.String(ids[i])
			ips = append(ips, pulumi.String(givenIPs[i]))
		} else {
			eip, err := ec2.NewEip(ctx, name+"-nat-"+az, &ec2.EipArgs{
				Domain: pulumi.String("vpc"),
				Tags:   tags("nat-"+az, nil),
			}, parent)
			if err != nil {
				return nil, nil, fmt.Errorf("network: nat elastic ip %s: %w", az, err)
			}
			allocation = eip.ID()
			ips = append(ips, eip.PublicIp)
		}
		// A NAT gateway in a subnet whose VPC has no internet gateway yet fails to route; AWS
		// documents the dependency, the graph does not see it.
		nat, err := ec2.NewNatGateway(ctx, name+"-nat-"+az, &ec2.NatGatewayArgs{
			AllocationId: allocation,
			SubnetId:     public[az].ID(),
			Tags:         tags("nat-"+az, nil),
		}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
		if err != nil {
			return nil, nil, fmt.Errorf("network: nat gateway %s: %w", az, err)
		}
		nats[az] = nat
	}
	return nats, ips, nil
}

// zoned places a subnet in a zone given by name (us-east-1a) or by zone ID (use1-az1). Names map to
// different physical zones in every account; IDs do not, so a stack file can avoid a zone that lacks
// the node instance types (e.g. use1-az3) in any account.
func zoned(zone string, args *ec2.SubnetArgs) *ec2.SubnetArgs {
	if stacks.IsZoneID(zone) {
		args.AvailabilityZoneId = pulumi.String(zone)
	} else {
		args.AvailabilityZone = pulumi.String(zone)
	}
	return args
}
