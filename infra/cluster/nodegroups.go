package cluster

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Managed node groups are pulumi-aws eks.NodeGroup resources with our own launch template, not
// pulumi-eks's ManagedNodeGroup:
//   - pulumi-eks's enableIMDSv2 forces hop limit 2 (nodejs/eks/nodes/nodegroup.ts, v3.9.1); hop
//     limit 1 needs a custom launch template there anyway, exclusive with enableIMDSv2;
//   - ignoreChanges on scalingConfig.desiredSize works on this custom resource; on a remote
//     component it would not reach the NodeGroup inside (pulumi-eks's ignoreScalingChanges
//     ignores min and max as well);
//   - the node groups' arguments stay visible to the tests and golden files.
//
// IMDSv2 is required with hop limit 1 (EKS BPG: pods must not borrow the node role; AWS also
// defaults AL2023 managed nodes to 1). Nothing in a pod relies on IMDS: the load balancer controller
// gets region and vpcId explicitly (infra/ingress); the CSI controllers use IRSA, whose webhook
// injects AWS_REGION; the CSI node plugins fall back to the Kubernetes API for instance id and zone
// (aws-ebs-csi-driver docs/install.md, "Kubernetes metadata"; that source lacks the ENI count, so
// the EBS per-node attach limit is an estimate, harmless for our few gp3 volumes); aws-node and
// kube-proxy run on the host network, where hop limit 1 suffices. The app uses static keys and
// EdgeFS calls no AWS API.
const (
	// DefaultNodeGroup is the general-purpose node group's key.
	DefaultNodeGroup = "default"
	// AMIType is the EKS-optimized Amazon Linux 2023 x86_64 AMI family.
	AMIType = "AL2023_x86_64_STANDARD"
	// IMDSHopLimit is the nodes' IMDSv2 PUT response hop limit.
	IMDSHopLimit = 1
	// rootDevice is the root volume of AL2023 EKS AMIs.
	rootDevice = "/dev/xvda"
)

// NodePolicies are the AWS managed policies of the node role: what kubelet and the VPC CNI need to
// join and network, ECR pulls, and SSM Session Manager instead of SSH (EKS BPG "Hosts").
var NodePolicies = []string{
	"AmazonEKSWorkerNodePolicy",
	"AmazonEC2ContainerRegistryReadOnly",
	"AmazonEKS_CNI_Policy",
	"AmazonSSMManagedInstanceCore",
}

type nodeGroups struct {
	names     pulumi.StringArray
	resources []pulumi.Resource
	pool      *placement.Pool
}

type nodeGroupSpec struct {
	key     string
	cfg     stacks.NodeGroup
	pool    *placement.Pool
	protect bool
}

func newNodeGroups(ctx *pulumi.Context, name string, args *Args, eksCluster *eks.Cluster, parent pulumi.ResourceOption) (*nodeGroups, error) {
	cfg := args.Config
	role, ready, err := nodeRole(ctx, name, parent)
	if err != nil {
		return nil, err
	}
	cache, err := dockerHubCache(ctx, name, cfg.DockerHubCache, role, parent)
	if err != nil {
		return nil, err
	}
	ready = append(ready, cache...)
	// The node groups wait for the whole pulumi-eks component (control plane, access entries,
	// vpc-cni add-on), the node role's policies, the Docker Hub cache and the NAT routes of their
	// subnets.
	deps := append(append([]pulumi.Resource{eksCluster}, ready...), args.NodeDependencies...)

	specs := []nodeGroupSpec{{key: DefaultNodeGroup, cfg: cfg.DefaultNodeGroup}}
	out := &nodeGroups{}
	if cfg.EdgeFSNodeGroup.IsEnabled() {
		// Losing the storage nodes loses EdgeFS data on their NVMe disks: protected in prod.
		out.pool = placement.StoragePool()
		specs = append(specs, nodeGroupSpec{key: placement.StoragePoolName, cfg: cfg.EdgeFSNodeGroup, pool: out.pool, protect: args.Protect})
	}
	for _, s := range specs {
		// Only the default group is autoscaled; the storage group is fixed-size (validation).
		autoscaled := s.pool == nil && cfg.Autoscaler.IsEnabled()
		var live *Scaling
		if autoscaled {
			if live, err = liveScaling(ctx, cfg.Name, name+"-"+s.key); err != nil {
				return nil, err
			}
		}
		plan := PlanScaling(s.cfg, autoscaled, live)
		ng, err := newNodeGroup(ctx, name, cfg, args.PrivateSubnetIDs, role, s, plan, parent,
			pulumi.DependsOn(deps), pulumi.Protect(s.protect))
		if err != nil {
			return nil, err
		}
		out.names = append(out.names, ng.NodeGroupName)
		out.resources = append(out.resources, ng)
	}
	return out, nil
}

// nodeRole is the IAM role of every node, with only the managed policies nodes need. EKS creates
// the EC2_LINUX access entry of a managed node group's role itself.
func nodeRole(ctx *pulumi.Context, name string, parent pulumi.ResourceOption) (*iam.Role, []pulumi.Resource, error) {
	trust, err := irsa.AssumeRoleByService("ec2.amazonaws.com").JSON()
	if err != nil {
		return nil, nil, err
	}
	role, err := iam.NewRole(ctx, name+"-node", &iam.RoleArgs{
		Description:      pulumi.String("EKS managed node groups"),
		AssumeRolePolicy: pulumi.String(trust),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: node role: %w", err)
	}
	ready := []pulumi.Resource{role}
	for _, policy := range NodePolicies {
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-node-"+policy, &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String(irsa.ManagedPolicyARN(policy)),
		}, parent)
		if err != nil {
			return nil, nil, fmt.Errorf("cluster: node role policy %s: %w", policy, err)
		}
		ready = append(ready, att)
	}
	return role, ready, nil
}

func newNodeGroup(ctx *pulumi.Context, name string, cfg stacks.Cluster, subnets pulumi.StringArrayInput,
	role *iam.Role, s nodeGroupSpec, plan ScalingPlan, parent pulumi.ResourceOption, opts ...pulumi.ResourceOption,
) (*awseks.NodeGroup, error) {
	nameTag := pulumi.StringMap{"Name": pulumi.String(cfg.Name + "-" + s.key)}
	// No security groups in the template: EKS then attaches the cluster security group, the one
	// Cluster.NodeSecurityGroupID names. No image id: EKS picks the AMI from amiType and version.
	lt, err := ec2.NewLaunchTemplate(ctx, name+"-"+s.key, &ec2.LaunchTemplateArgs{
		Description:          pulumi.String("EKS node group " + s.key + " of " + cfg.Name),
		UpdateDefaultVersion: pulumi.Bool(true),
		MetadataOptions: ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(IMDSHopLimit),
			InstanceMetadataTags:    pulumi.String("disabled"),
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String(rootDevice),
			Ebs: ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeSize:          pulumi.Int(s.cfg.DiskSizeGiB),
				VolumeType:          pulumi.String("gp3"),
				Encrypted:           pulumi.String("true"),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: nameTag},
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: nameTag},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("cluster: launch template %s: %w", s.key, err)
	}

	var labels pulumi.StringMap
	var taints awseks.NodeGroupTaintArray
	if s.pool != nil {
		labels = pulumi.ToStringMap(s.pool.NodeLabels())
		// Only pods that tolerate the pool (Rook/EdgeFS, the dataset workers) run there. EKS spells
		// the effect NO_SCHEDULE; Kubernetes shows it as NoSchedule.
		taints = awseks.NodeGroupTaintArray{awseks.NodeGroupTaintArgs{
			Key:    pulumi.String(s.pool.Key),
			Value:  pulumi.String(s.pool.Value),
			Effect: pulumi.String("NO_SCHEDULE"),
		}}
	}
	// The EKS name is auto-named (<logical name>-<suffix>): a change that replaces the group (e.g.
	// the instance type) then creates the new group before draining the old one.
	ng, err := awseks.NewNodeGroup(ctx, name+"-"+s.key, &awseks.NodeGroupArgs{
		ClusterName: pulumi.String(cfg.Name),
		Version:     pulumi.String(cfg.KubernetesVersion),
		NodeRoleArn: role.Arn,
		SubnetIds:   subnets,
		AmiType:     pulumi.String(AMIType),
		// SPOT (validation allows it for the default group only) changes force a new group, which
		// is created before the old one is drained (auto-named).
		CapacityType: pulumi.String(s.cfg.CapacityType),
		// Unset: EKS takes the latest AMI release at creation and keeps it; set: a new release rolls
		// the nodes (maxUnavailable 1).
		ReleaseVersion: optional(s.cfg.AMIReleaseVersion),
		InstanceTypes:  pulumi.ToStringArray(append([]string{s.cfg.InstanceType}, s.cfg.SpotInstanceTypes...)),
		ScalingConfig: awseks.NodeGroupScalingConfigArgs{
			DesiredSize: pulumi.Int(plan.Desired),
			MinSize:     pulumi.Int(plan.Min),
			MaxSize:     pulumi.Int(plan.Max),
		},
		UpdateConfig: awseks.NodeGroupUpdateConfigArgs{MaxUnavailable: pulumi.Int(1)},
		LaunchTemplate: awseks.NodeGroupLaunchTemplateArgs{
			Id:      lt.ID(),
			Version: lt.LatestVersion.ApplyT(strconv.Itoa).(pulumi.StringOutput),
		},
		Labels: labels,
		Taints: taints,
		Tags:   nameTag,
	}, append(opts, parent, pulumi.IgnoreChanges(ignoredChanges(s, plan)))...)
	if err != nil {
		return nil, fmt.Errorf("cluster: node group %s: %w", s.key, err)
	}
	return ng, nil
}

// ignoredChanges are the inputs an update leaves alone: the autoscaler's node count when the plan
// says so, and on the storage pool whatever would replace its nodes (Kubernetes version, AMI
// release, launch template) unless cluster.edgefsNodeGroup.rollNodes allows it: each replaced node
// takes its EdgeFS data with it.
func ignoredChanges(s nodeGroupSpec, plan ScalingPlan) []string {
	var ignore []string
	if plan.IgnoreDesired {
		ignore = append(ignore, "scalingConfig.desiredSize")
	}
	if s.pool != nil && !s.cfg.RollNodes {
		ignore = append(ignore, "version", "releaseVersion", "launchTemplate")
	}
	return ignore
}

// optional is nil for "", so an unset value stays out of the inputs.
func optional(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}
