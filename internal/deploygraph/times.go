package deploygraph

import "strings"

// createSeconds are typical creation times per resource type; where a range was observed, the value
// is near its middle. Sources:
//   - EKS control plane 8m21s-11m23s in published Terraform apply logs of 2024-2026 (e.g.
//     terraform-aws-modules/terraform-aws-eks#3218: 10m6s); AWS announced "9 minutes or less, on
//     average" in 2021 (What's New, 2021-03-19, quoted in aws-samples/eks-workshop#1101);
//   - managed node groups 1m48s-3m41s after the control plane is ACTIVE, add-ons with nodes Ready
//     14-55 s, NAT gateways 1m25s-2m05s, KMS keys 12-29 s: published apply logs of 2024-2026;
//   - EFS mount targets: AWS recommends waiting 90 s after creating one before mounting
//     (docs.aws.amazon.com/efs/latest/ug/mounting-fs-mount-cmd-dns-name.html);
//   - the load balancer controller's Helm release about 45 s plus readiness (one published log);
//   - the ALB: "Wait 2-3 minutes for the ALB to provision and register all targets"
//     (awsdocs/amazon-eks-user-guide latest/ug/automode/auto-elb-example.adoc);
//   - the EdgeFS discovery gate (a Job that waits for the rook-discover DaemonSet's rollout): no
//     published time; it is counted as the DaemonSet rollout it waits for;
//   - VPC interface endpoints (ECR): no published typical time was found; the create waits for the
//     endpoint to become available for up to 10 minutes (hashicorp/terraform-provider-aws
//     internal/service/ec2/vpc_endpoint.go, vpcEndpointCreationTimeout), and the estimate uses that
//     bound, so a test that finds them off the critical path holds for any real time.
//
// Every other type (CloudWatch alarms and log groups, SNS topics and subscriptions, AWS Backup
// vaults, plans and selections, flow logs, IAM roles (1-2 s observed), security group rules,
// HorizontalPodAutoscalers, which pulumi-kubernetes does not await) is one create call with no
// waiter, counted as the 2 s default.
var createSeconds = map[string]int{
	"eks:index:Cluster":                                           600, // control plane 8m21s-11m23s observed
	"aws:eks/cluster:Cluster":                                     600,
	"eks:index:ManagedNodeGroup":                                  180, // 1m48s-3m41s after the control plane is ACTIVE
	"aws:eks/nodeGroup:NodeGroup":                                 180,
	"aws:eks/addon:Addon":                                         45, // 14-55 s with nodes Ready
	"aws:eks/accessEntry:AccessEntry":                             5,
	"aws:eks/accessPolicyAssociation:AccessPolicyAssociation":     5,
	"aws:ec2/natGateway:NatGateway":                               105, // 1m25s-2m05s
	"aws:ec2/vpc:Vpc":                                             5,
	"aws:ec2/subnet:Subnet":                                       3,
	"aws:ec2/internetGateway:InternetGateway":                     5,
	"aws:ec2/eip:Eip":                                             5,
	"aws:ec2/launchTemplate:LaunchTemplate":                       5,
	"aws:ec2/securityGroup:SecurityGroup":                         5,
	"aws:kms/key:Key":                                             25, // 12-29 s
	"aws:efs/fileSystem:FileSystem":                               12,
	"aws:efs/mountTarget:MountTarget":                             90,  // >60 s; AWS advises waiting 90 s before mounting
	"aws:ec2/vpcEndpoint:VpcEndpoint":                             600, // upper bound: the provider's wait for "available"
	"kubernetes:helm.sh/v3:Release":                               60,  // the load balancer controller: ~45 s, plus readiness
	"kubernetes:networking.k8s.io/v1:Ingress":                     150, // the ALB: 2-3 min to provision and register targets
	"kubernetes:apps/v1:Deployment":                               60,  // image pull and readiness
	"kubernetes:apps/v1:StatefulSet":                              90,  // ordinals start in parallel or in order
	"kubernetes:apps/v1:DaemonSet":                                45,
	"kubernetes:batch/v1:Job":                                     45, // the EdgeFS discovery gate: a DaemonSet rollout
	"kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": 5,
	"kubernetes:core/v1:PersistentVolumeClaim":                    15,
	"kubernetes:core/v1:PersistentVolumeClaimPatch":               15,
}

// CreateSeconds returns the typical creation time of a resource type: a table value (remote
// components such as pulumi-eks's Cluster included: their AWS children are not visible here), 0 for
// our own components and providers, or a default of 2 s for any other API object.
func CreateSeconds(typ string, custom bool) int {
	if s, ok := createSeconds[typ]; ok {
		return s
	}
	if !custom || strings.HasPrefix(typ, "pulumi:providers:") {
		return 0
	}
	return 2
}
