// Package network is the VPC layer: a VPC over three availability zones with public and private
// subnets, NAT and the subnet tags EKS and the AWS Load Balancer Controller look for, or an existing
// VPC's ids when the stack brings its own.
package network

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Type is the component's type token.
const Type = "openneuro:network:Network"

// Args configures the network layer.
type Args struct {
	// Config is the stack's openneuro:network config as stacks.Load returns it (defaults filled, validated).
	Config stacks.Network
	// ClusterName is the EKS cluster name; the subnets carry kubernetes.io/cluster/<name>=shared.
	// Required.
	ClusterName string
	// NatPublicIPs are the addresses of network.natEipAllocationIds, in their order, as preflight
	// read them from AWS. Required with those ids.
	NatPublicIPs []string
}

// Network is the VPC layer's result.
type Network struct {
	pulumi.ResourceState

	// VpcID is the VPC's id (created or from network.vpcId).
	VpcID pulumi.StringOutput `pulumi:"vpcId"`
	// PublicSubnetIDs are the public subnets, one per zone in network.availabilityZones order: the
	// internet-facing load balancers and the NAT gateways live there.
	PublicSubnetIDs pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	// PrivateSubnetIDs are the private subnets, one per zone in network.availabilityZones order: the
	// nodes, the pods (VPC CNI) and the EFS mount targets live there.
	PrivateSubnetIDs pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	// NatPublicIPs are the NAT gateways' public addresses, in zone order (one with natGateways
	// single): what external services (MongoDB Atlas, Elasticsearch, mail) must allow. Empty with an
	// existing VPC, whose egress the program does not manage.
	NatPublicIPs pulumi.StringArrayOutput `pulumi:"natPublicIps"`

	// EgressRoutes are the private subnets' route table associations and default routes through
	// NAT. Nodes depend on them: a node that boots before its subnet routes to NAT cannot reach ECR
	// or the EKS API and the node group fails with NodeCreationFailure. Empty with an existing VPC.
	EgressRoutes []pulumi.Resource
}

// New creates the VPC layer, or only records the existing VPC's ids when network.vpcId is set.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil || args.ClusterName == "" {
		return nil, errors.New("network: ClusterName is required")
	}
	cfg := args.Config
	if !cfg.FromLoad() {
		return nil, errors.New("network: Config must be the network config from stacks.Load")
	}
	switch {
	case cfg.UsesExistingVPC():
		if len(cfg.PublicSubnetIDs) == 0 || len(cfg.PrivateSubnetIDs) == 0 {
			return nil, errors.New("network: vpcId is set but publicSubnetIds or privateSubnetIds is empty")
		}
	case len(cfg.AvailabilityZones) != stacks.ZoneCount:
		return nil, fmt.Errorf("network: %d availability zones configured, want %d", len(cfg.AvailabilityZones), stacks.ZoneCount)
	case len(args.NatPublicIPs) != len(cfg.NatEipAllocationIDs):
		return nil, fmt.Errorf("network: %d NAT addresses for %d natEipAllocationIds", len(args.NatPublicIPs), len(cfg.NatEipAllocationIDs))
	}

	comp := &Network{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}

	if cfg.UsesExistingVPC() {
		comp.VpcID = pulumi.String(cfg.VpcID).ToStringOutput()
		comp.PublicSubnetIDs = pulumi.ToStringArray(cfg.PublicSubnetIDs).ToStringArrayOutput()
		comp.PrivateSubnetIDs = pulumi.ToStringArray(cfg.PrivateSubnetIDs).ToStringArrayOutput()
		comp.NatPublicIPs = pulumi.StringArray{}.ToStringArrayOutput()
	} else {
		v, err := newVPC(ctx, name, args, pulumi.Parent(comp))
		if err != nil {
			return nil, err
		}
		comp.VpcID = v.vpcID
		comp.PublicSubnetIDs = v.public.ToStringArrayOutput()
		comp.PrivateSubnetIDs = v.private.ToStringArrayOutput()
		comp.NatPublicIPs = v.natIPs.ToStringArrayOutput()
		comp.EgressRoutes = v.egress
	}

	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"vpcId":            comp.VpcID,
		"publicSubnetIds":  comp.PublicSubnetIDs,
		"privateSubnetIds": comp.PrivateSubnetIDs,
		"natPublicIps":     comp.NatPublicIPs,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}
