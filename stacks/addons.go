package stacks

// AddonBuilds are the EKS add-on builds the program pins for one Kubernetes minor version. An add-on
// build is only accepted by EKS for the cluster versions it lists as compatible
// (`aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>`); a build that is
// not fails the create or upgrade with "Addon version specified is not supported".
type AddonBuilds struct {
	// KubeProxy is the kube-proxy add-on; its minor version must equal the cluster's.
	KubeProxy string
	// VpcCni is the vpc-cni add-on.
	VpcCni string
	// EFSCSIDriver is the aws-efs-csi-driver add-on (2.x: one IAM role for controller and node).
	EFSCSIDriver string
	// EBSCSIDriver is the aws-ebs-csi-driver add-on.
	EBSCSIDriver string
	// MetricsServer is the metrics-server add-on (operations.metrics.metricsServer).
	MetricsServer string
	// CloudWatchObservability is the amazon-cloudwatch-observability add-on
	// (operations.metrics.containerInsights).
	CloudWatchObservability string
}

// addonBuilds are the builds per Kubernetes version, and the set of versions the program supports:
// a version without a verified row is rejected by validation.
//
// Sources:
//   - kube-proxy: the EKS user guide, "Manage kube-proxy in Amazon EKS clusters" (the zh_cn
//     edition of managing-kube-proxy lists v1.33.10-eksbuild.2, v1.34.6-eksbuild.2 and
//     v1.35.3-eksbuild.2).
//   - vpc-cni v1.21.1-eksbuild.7, aws-ebs-csi-driver v1.56.0-eksbuild.1: no EKS page lists them per
//     version; both are in use on EKS 1.33, 1.34 and 1.35 clusters in public Terraform
//     configurations (aws_eks_addon resources pinned next to the matching kube-proxy builds).
//   - aws-efs-csi-driver v2.3.0-eksbuild.2: in use on EKS 1.33 and 1.35 clusters in public
//     configurations; 1.34 lies between them.
//   - metrics-server and amazon-cloudwatch-observability: no AWS page lists their builds per
//     version either. metrics-server v0.8.1-eksbuild.1 is pinned with cluster version 1.34 and
//     1.35 in public Terraform configurations (one of them imported from a live 1.35 cluster), and
//     v0.8.1-eksbuild.4, for 1.33, in a public CDK configuration's per-version map of 1.31-1.35.
//     amazon-cloudwatch-observability v4.10.0-eksbuild.1 is pinned with 1.33 and 1.34 (the same
//     kind of map, 1.30-1.34, and Terraform configurations of 1.34); with 1.35 it is only seen
//     beside kube-proxy v1.35.0-eksbuild.2 in a public Terraform module and running on an active
//     1.35 cluster in a public upgrade log (2026-08-29), the weakest evidence of the table. It
//     stays because stacks/capacity.go sizes the storage nodes by that build's chart requests.
//     Confirm each before a first up: `aws eks describe-addon-versions --kubernetes-version <v>
//     --addon-name metrics-server` (and amazon-cloudwatch-observability).
//
// Kubernetes 1.36 has no row: kube-proxy v1.36.0-eksbuild.14 is documented (ja_jp edition of the
// same page), but no source shows the vpc-cni, EFS and EBS builds above accepted on 1.36. Add a row
// once `aws eks describe-addon-versions --kubernetes-version 1.36` confirms a build of each.
var addonBuilds = map[string]AddonBuilds{
	"1.33": {KubeProxy: "v1.33.10-eksbuild.2", VpcCni: "v1.21.1-eksbuild.7", EFSCSIDriver: "v2.3.0-eksbuild.2", EBSCSIDriver: "v1.56.0-eksbuild.1",
		MetricsServer: "v0.8.1-eksbuild.4", CloudWatchObservability: "v4.10.0-eksbuild.1"},
	"1.34": {KubeProxy: "v1.34.6-eksbuild.2", VpcCni: "v1.21.1-eksbuild.7", EFSCSIDriver: "v2.3.0-eksbuild.2", EBSCSIDriver: "v1.56.0-eksbuild.1",
		MetricsServer: "v0.8.1-eksbuild.1", CloudWatchObservability: "v4.10.0-eksbuild.1"},
	"1.35": {KubeProxy: "v1.35.3-eksbuild.2", VpcCni: "v1.21.1-eksbuild.7", EFSCSIDriver: "v2.3.0-eksbuild.2", EBSCSIDriver: "v1.56.0-eksbuild.1",
		MetricsServer: "v0.8.1-eksbuild.1", CloudWatchObservability: "v4.10.0-eksbuild.1"},
}

// SupportedKubernetesVersions are the EKS versions with a verified row of add-on builds, oldest
// first. The envtest binaries (scripts/tool-versions.env) are built for DefaultKubernetesVersion.
func SupportedKubernetesVersions() []string { return sortedKeys(addonBuilds) }

// AddonBuildsFor returns the pinned builds of a supported Kubernetes version.
func AddonBuildsFor(kubernetesVersion string) (AddonBuilds, bool) {
	b, ok := addonBuilds[kubernetesVersion]
	return b, ok
}
