package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/stacks"
)

// The Cluster Autoscaler rather than Karpenter: the default pool is an EKS managed node group whose
// minSize/maxSize the config already describes, and the autoscaler scales exactly that group (EKS
// tags its Auto Scaling group for auto-discovery), while EKS keeps draining nodes on AMI and Spot
// rebalance events. Karpenter would replace the group with its own NodePools, IAM, SQS interruption
// queue and EventBridge rules for a pool of 3-8 nodes.
const (
	// AutoscalerNamespace and AutoscalerServiceAccount are where the autoscaler runs; its IRSA role
	// trusts exactly that service account.
	AutoscalerNamespace      = "kube-system"
	AutoscalerServiceAccount = "cluster-autoscaler"
	autoscalerRepo           = "https://kubernetes.github.io/autoscaler"
)

// AutoscalerPolicy is the autoscaler's IAM policy (kubernetes/autoscaler
// cluster-autoscaler/cloudprovider/aws/README.md, "IAM Policy"): reads are unrestricted, resizing and
// terminating only Auto Scaling groups tagged as this cluster's, which EKS does for managed node
// groups (k8s.io/cluster-autoscaler/<cluster>=owned).
func AutoscalerPolicy(clusterName string) irsa.Document {
	return irsa.Document{Version: irsa.PolicyVersion, Statement: []irsa.Statement{
		{
			Sid:    "Discover",
			Effect: "Allow",
			Action: irsa.Values{
				"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
				"autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
				"autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
				"ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
				"eks:DescribeNodegroup",
			},
			Resource: irsa.Values{"*"},
		},
		{
			Sid:      "ResizeOwnGroups",
			Effect:   "Allow",
			Action:   irsa.Values{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
			Resource: irsa.Values{"*"},
			Condition: irsa.Condition{"StringEquals": {
				"aws:ResourceTag/k8s.io/cluster-autoscaler/" + clusterName: irsa.Values{"owned"},
			}},
		},
	}}
}

// AutoscalerValues are the cluster-autoscaler chart values.
func AutoscalerValues(cfg stacks.Cluster, region string, roleARN pulumi.StringInput) pulumi.Map {
	return pulumi.Map{
		"fullnameOverride": pulumi.String("cluster-autoscaler"),
		"cloudProvider":    pulumi.String("aws"),
		// IMDS is out of reach of pods (hop limit 1): the region comes from here.
		"awsRegion":     pulumi.String(region),
		"autoDiscovery": pulumi.Map{"clusterName": pulumi.String(cfg.Name)},
		"image":         pulumi.Map{"tag": pulumi.String(cfg.Autoscaler.ImageTag)},
		"rbac": pulumi.Map{"serviceAccount": pulumi.Map{
			"create":      pulumi.Bool(true),
			"name":        pulumi.String(AutoscalerServiceAccount),
			"annotations": pulumi.StringMap{"eks.amazonaws.com/role-arn": roleARN},
		}},
		"extraArgs": pulumi.Map{
			// Scale down to the cheapest fit, and keep the zones of the group balanced.
			"expander":                    pulumi.String("least-waste"),
			"balance-similar-node-groups": pulumi.Bool(true),
			// emptyDir scratch space does not pin a node; otherwise no node would ever scale down.
			"skip-nodes-with-local-storage": pulumi.Bool(false),
		},
		"resources": pulumi.Map{
			"requests": pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("300Mi")},
			"limits":   pulumi.StringMap{"cpu": pulumi.String("500m"), "memory": pulumi.String("600Mi")},
		},
	}
}

// newAutoscaler installs the Cluster Autoscaler with its IRSA role. It runs on the default pool
// (the storage pool's taint keeps it out) and waits for the node groups.
func newAutoscaler(ctx *pulumi.Context, name string, cfg stacks.Cluster, region string, oidcARN, issuer pulumi.StringInput,
	provider *kubernetes.Provider, nodeGroups []pulumi.Resource, parent pulumi.ResourceOption,
) (pulumi.Resource, error) {
	doc, err := AutoscalerPolicy(cfg.Name).JSON()
	if err != nil {
		return nil, err
	}
	policy, err := iam.NewPolicy(ctx, name+"-autoscaler", &iam.PolicyArgs{
		Description: pulumi.String("Cluster Autoscaler of EKS cluster " + cfg.Name),
		Policy:      pulumi.String(doc),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("cluster: autoscaler policy: %w", err)
	}
	role, err := irsa.NewRole(ctx, name+"-autoscaler", &irsa.RoleArgs{
		OIDCProviderARN: oidcARN, OIDCIssuer: issuer,
		Namespace: AutoscalerNamespace, ServiceAccount: AutoscalerServiceAccount,
		Description: "IRSA role of the Cluster Autoscaler",
		Policies:    map[string]pulumi.StringInput{"policy": policy.Arn},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("cluster: autoscaler role: %w", err)
	}
	deps := append(append([]pulumi.Resource{}, nodeGroups...), role.Ready...)
	rel, err := helmv3.NewRelease(ctx, name+"-autoscaler", &helmv3.ReleaseArgs{
		Name:           pulumi.String("cluster-autoscaler"),
		Chart:          pulumi.String("cluster-autoscaler"),
		Version:        pulumi.String(cfg.Autoscaler.ChartVersion),
		Namespace:      pulumi.String(AutoscalerNamespace),
		RepositoryOpts: helmv3.RepositoryOptsArgs{Repo: pulumi.String(autoscalerRepo)},
		Values:         AutoscalerValues(cfg, region, role.ARN),
	}, parent, pulumi.Provider(provider), pulumi.DependsOn(deps))
	if err != nil {
		return nil, fmt.Errorf("cluster: autoscaler release: %w", err)
	}
	return rel, nil
}
