package cluster

import (
	"fmt"
	"strings"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Scaling is a node group's size as EKS holds it.
type Scaling struct{ Desired, Min, Max int }

// ScalingPlan is what pulumi sends for a node group's size, and whether it leaves the current size
// alone.
type ScalingPlan struct {
	Scaling
	// IgnoreDesired keeps the node count the autoscaler chose: pulumi does not send desiredSize.
	IgnoreDesired bool
}

// PlanScaling decides the scaling config of a node group so that no combination of config and live
// size can make EKS reject the update ("Minimum capacity can't be greater than desired size").
//   - Without an autoscaler pulumi owns the size: it sends the configured desiredSize, which
//     validation keeps within minSize..maxSize.
//   - With one, the autoscaler owns the size. While minSize and maxSize stay as they are live,
//     desiredSize is ignored. When they change, pulumi sends the live size clamped into the new
//     range: a raised minSize grows the group to it, a lowered maxSize shrinks it, and any size in
//     range is kept. live is nil when the group does not exist yet (it is then created at the
//     configured desiredSize).
func PlanScaling(ng stacks.NodeGroup, autoscaled bool, live *Scaling) ScalingPlan {
	want := Scaling{Desired: ng.DesiredSize, Min: ng.MinSize, Max: ng.MaxSize}
	if !autoscaled {
		return ScalingPlan{Scaling: want}
	}
	if live == nil || (live.Min == want.Min && live.Max == want.Max) {
		return ScalingPlan{Scaling: want, IgnoreDesired: true}
	}
	want.Desired = min(max(live.Desired, want.Min), want.Max)
	return ScalingPlan{Scaling: want}
}

// liveScaling reads the current size of the node group the program registered as logical name
// logical (EKS name "<logical>-<suffix>", auto-named). nil means it does not exist yet: a first
// pulumi up, where the cluster itself is missing, or a group about to be created.
func liveScaling(ctx *pulumi.Context, clusterName, logical string) (*Scaling, error) {
	ng, err := liveNodeGroup(ctx, clusterName, logical)
	if err != nil || ng == nil || len(ng.ScalingConfigs) == 0 {
		return nil, err
	}
	sc := ng.ScalingConfigs[0]
	return &Scaling{Desired: sc.DesiredSize, Min: sc.MinSize, Max: sc.MaxSize}, nil
}

// LiveStorageGroupVersion is the Kubernetes version the storage node group (edgefs-target) of the
// cluster runs, as EKS reports it; "" when it does not exist yet.
func LiveStorageGroupVersion(ctx *pulumi.Context, clusterName string) (string, error) {
	ng, err := liveNodeGroup(ctx, clusterName, Name+"-"+placement.StoragePoolName)
	if err != nil || ng == nil {
		return "", err
	}
	return ng.Version, nil
}

// Name is the name the program gives the cluster component; its node groups' names start with it.
const Name = "cluster"

// liveNodeGroup is EKS's description of the node group of logical name logical; nil when it does
// not exist (see liveScaling).
func liveNodeGroup(ctx *pulumi.Context, clusterName, logical string) (*awseks.LookupNodeGroupResult, error) {
	groups, err := awseks.GetNodeGroups(ctx, &awseks.GetNodeGroupsArgs{ClusterName: clusterName})
	if err != nil {
		if strings.Contains(err.Error(), "ResourceNotFoundException") {
			return nil, nil
		}
		return nil, fmt.Errorf("cluster: reading the node groups of %s (eks:ListNodegroups, needed to keep the autoscaler's size): %w", clusterName, err)
	}
	var name string
	for _, n := range groups.Names {
		if strings.HasPrefix(n, logical+"-") && !strings.Contains(n[len(logical)+1:], "-") {
			if name != "" {
				return nil, nil // two generations during a replacement: create the new one from config
			}
			name = n
		}
	}
	if name == "" {
		return nil, nil
	}
	ng, err := awseks.LookupNodeGroup(ctx, &awseks.LookupNodeGroupArgs{ClusterName: clusterName, NodeGroupName: name})
	if err != nil {
		return nil, fmt.Errorf("cluster: reading node group %s: %w", name, err)
	}
	return ng, nil
}
