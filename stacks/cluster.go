package stacks

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// ClusterMode says where OpenNeuro runs.
type ClusterMode string

const (
	// ModeEKS creates the whole AWS platform: VPC, EKS, node groups, EFS, load balancer controller.
	ModeEKS ClusterMode = "eks"
	// ModeExisting deploys onto an existing Kubernetes cluster from a kubeconfig; no AWS at all.
	ModeExisting ClusterMode = "existing"
)

// DefaultKubernetesVersion is the EKS version a stack gets unless it sets cluster.kubernetesVersion.
const DefaultKubernetesVersion = "1.35"

// The node groups' default instance types and sizes (the 2020 eksctl cluster: 3 x m5a.large, and
// the edgefs-target group of 3 x i3en.large with NVMe instance store).
const (
	DefaultPoolInstanceType = "m5a.large"
	DefaultPoolSize         = 3
	StoragePoolInstanceType = "i3en.large"
	StoragePoolSize         = 3
)

// Cluster configures the EKS cluster and its node groups (openneuro:cluster), or the existing
// cluster to deploy onto.
type Cluster struct {
	loadMark
	// Mode is eks (default) or existing.
	Mode ClusterMode `json:"mode,omitempty"`
	// Name is the cluster's name. Default openneuro-<stack>. In eks mode it is the EKS cluster
	// name: the load balancer controller, the subnet tags and every kubeconfig refer to it, so
	// changing it replaces the cluster. In both modes it identifies the cluster to Pulumi: a new
	// kubeconfig or context with the same name is the same cluster (updated in place); a new name
	// means another cluster, onto which every object is created again.
	Name string `json:"name,omitempty"`
	// KubernetesVersion is the EKS minor version. Default 1.35; one of SupportedKubernetesVersions()
	// (1.33, 1.34, 1.35): the versions with a verified row of add-on builds in addons.go.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// VpcCniVersion pins the vpc-cni EKS add-on. Default: the build addons.go lists for
	// kubernetesVersion (v1.21.1-eksbuild.7). Unpinned, pulumi-eks would pick the newest build on
	// every run, and each new build would show as a change.
	VpcCniVersion string `json:"vpcCniVersion,omitempty"`
	// KubeProxyVersion pins the kube-proxy EKS add-on; its minor version must equal
	// kubernetesVersion. Default: the build addons.go lists for kubernetesVersion (e.g.
	// v1.35.3-eksbuild.2 for 1.35).
	KubeProxyVersion string `json:"kubeProxyVersion,omitempty"`
	// EndpointPublicAccess exposes the API endpoint to PublicAccessCIDRs, and only to them. Default:
	// true when publicAccessCidrs lists networks. With no CIDRs it must be set to false explicitly
	// (private endpoint only: run pulumi from inside the VPC, e.g. a self-hosted CI runner or a VPN).
	EndpointPublicAccess *bool `json:"endpointPublicAccess,omitempty"`
	// EndpointPrivateAccess lets nodes and pods reach the API inside the VPC. Default true.
	EndpointPrivateAccess *bool `json:"endpointPrivateAccess,omitempty"`
	// PublicAccessCIDRs are the networks allowed to reach the public API endpoint: where pulumi and
	// kubectl run (an office or VPN range, a CI runner's fixed egress address). Default none: the
	// endpoint is private plus this allowlist, never the whole internet unless 0.0.0.0/0 is written
	// here on purpose. At most 40 blocks (EKS).
	PublicAccessCIDRs []string `json:"publicAccessCidrs,omitempty"`
	// DeployRoleARN is the IAM role that creates the cluster and runs every `pulumi up` (the CI
	// deploy role: the bootstrap project's deployRoleArns output). Required in eks mode. EKS makes
	// the identity that creates a cluster its admin (pulumi-eks always sets
	// bootstrapClusterCreatorAdminPermissions), and that identity cannot get a second access entry;
	// so the first `pulumi up` must run as this role, and it is not listed in adminRoleArns.
	DeployRoleARN string `json:"deployRoleArn,omitempty"`
	// AdminRoleARNs are IAM roles given cluster-admin (AmazonEKSClusterAdminPolicy, cluster scope)
	// through EKS access entries: the operators' roles (the bootstrap project's adminRoleArns
	// output). At least one is required in eks mode: the deploy role trusts only CI, so without one
	// no person can reach the cluster (a stuck rollout, a restore, a break-glass fix) unless
	// noAdminRoles says so on purpose.
	AdminRoleARNs []string `json:"adminRoleArns,omitempty"`
	// NoAdminRoles says that no role but deployRoleArn is to be the cluster's admin (access granted
	// some other way, or the deploy role's operators are enough). Default false; only with no
	// adminRoleArns.
	NoAdminRoles bool `json:"noAdminRoles,omitempty"`
	// ViewerRoleARNs are IAM roles given read-only access (AmazonEKSViewPolicy, cluster scope: no
	// Secrets) through EKS access entries: the pull-request preview role. A preview's server-side
	// dry-runs are forbidden to them, and pulumi-kubernetes then previews client-side. Default none.
	ViewerRoleARNs []string `json:"viewerRoleArns,omitempty"`
	// DefaultNodeGroup is the general-purpose node group. Default m5a.large, 3 nodes (min 3, max 6),
	// on demand, sized by the cluster autoscaler between minSize and maxSize.
	DefaultNodeGroup NodeGroup `json:"defaultNodeGroup,omitempty"`
	// EdgeFSNodeGroup is the storage node group (label and taint openneuro.org/node-pool=edgefs-target)
	// where only Rook/EdgeFS and the dataset workers run. Default disabled for new stacks (it costs
	// three i3en.large and holds the legacy EdgeFS store); staging and prod enable it. When enabled:
	// i3en.large, exactly 3 nodes, fixed size (desiredSize = minSize = maxSize), on demand.
	EdgeFSNodeGroup NodeGroup `json:"edgefsNodeGroup,omitempty"`
	// Autoscaler is the Kubernetes Cluster Autoscaler that sizes the default node group.
	Autoscaler Autoscaler `json:"autoscaler,omitempty"`
	// Kubeconfig is the kubeconfig file used in existing mode. Default "": the secret
	// openneuro:CLUSTER_KUBECONFIG if set, otherwise the ambient kubeconfig ($KUBECONFIG or ~/.kube/config).
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Context is the kubeconfig context used in existing mode. Default "": the current context.
	Context string `json:"context,omitempty"`
	// StoragePool names the existing cluster's storage nodes (existing mode): nodes labelled and
	// tainted <key>=<value>:NoSchedule, where EdgeFS and the dataset workers then run. Default none:
	// they run anywhere. In eks mode the edgefs-target node group is the storage pool.
	StoragePool *StoragePool `json:"storagePool,omitempty"`
	// Dashboard is the optional Kubernetes dashboard (eks mode), reached by port-forward.
	Dashboard Dashboard `json:"dashboard,omitempty"`
	// DockerHubCache routes every Docker Hub image through an ECR pull-through cache (eks mode).
	// Required in eks mode while the stack pulls any image from Docker Hub, unless
	// dockerHubAnonymous says otherwise on purpose.
	DockerHubCache *DockerHubCache `json:"dockerHubCache,omitempty"`
	// DockerHubAnonymous says that the nodes pull Docker Hub's images anonymously, without the
	// cache: Docker Hub's limit of 10 pulls an hour per address can then stop a first up
	// (ImagePullBackOff, toomanyrequests), and validation warns with the stack's numbers. Default
	// false; only without dockerHubCache.
	DockerHubAnonymous bool `json:"dockerHubAnonymous,omitempty"`
}

// NodeGroup sizes one managed node group.
type NodeGroup struct {
	// Enabled turns the node group on. Only the edgefs-target group can be disabled; its pods then
	// run on the default group.
	Enabled *bool `json:"enabled,omitempty"`
	// InstanceType is the EC2 instance type, e.g. m5a.large.
	InstanceType string `json:"instanceType,omitempty"`
	// DesiredSize is the node count pulumi sets. Without the cluster autoscaler it is the size, kept
	// by every pulumi up. With it (default group), it is only the size at creation: afterwards the
	// autoscaler owns the size, and pulumi changes it only when minSize or maxSize move past it (it
	// then clamps the current size into the new range, so no update is rejected).
	DesiredSize int `json:"desiredSize,omitempty"`
	// MinSize is the smallest node count, at least 1. The autoscaler never goes below it.
	MinSize int `json:"minSize,omitempty"`
	// MaxSize is the largest node count, at least MinSize. The autoscaler never goes above it.
	MaxSize int `json:"maxSize,omitempty"`
	// CapacityType is ON_DEMAND (default) or SPOT (default group only: cheaper, but a node can be
	// reclaimed with two minutes' notice). Changing it replaces the node group (a new group is
	// created first).
	CapacityType string `json:"capacityType,omitempty"`
	// SpotInstanceTypes are further instance types of the same size that a SPOT group may use, so
	// that one type running out of Spot capacity does not stop the group, e.g. [m5.large, m6a.large].
	// Only with capacityType SPOT.
	SpotInstanceTypes []string `json:"spotInstanceTypes,omitempty"`
	// DiskSizeGiB is the root EBS volume size. Default 50.
	DiskSizeGiB int `json:"diskSizeGiB,omitempty"`
	// AMIReleaseVersion pins the EKS AL2023 AMI release, e.g. 1.35.0-20260115. Default "": the
	// latest release when the group is created or its Kubernetes version changes. Raising it rolls
	// the nodes one at a time.
	AMIReleaseVersion string `json:"amiReleaseVersion,omitempty"`
	// RollNodes lets a change of kubernetesVersion, amiReleaseVersion or the launch template (disk
	// size) replace the nodes of the edgefs-target group. Default false: EdgeFS keeps its data on the
	// nodes' instance store, which a replaced node loses, and the operator cannot adopt a new node;
	// the group then stays as it is (its kubelet may lag the control plane by up to three minor
	// versions) until the node-by-node procedure of the README is followed with this set to true.
	// Only for edgefsNodeGroup.
	RollNodes bool `json:"rollNodes,omitempty"`
}

// amiReleaseRE is an EKS AMI release version: <kubernetes major.minor.patch>-<YYYYMMDD>.
var amiReleaseRE = regexp.MustCompile(`^([0-9]+\.[0-9]+)\.[0-9]+-[0-9]{8}$`)

// Dashboard configures the optional Kubernetes dashboard.
type Dashboard struct {
	// Enabled installs the dashboard Helm chart. Default false.
	Enabled bool `json:"enabled,omitempty"`
	// ChartVersion pins the kubernetes-dashboard chart. Default 7.13.0.
	ChartVersion string `json:"chartVersion,omitempty"`
}

// Autoscaler configures the Kubernetes Cluster Autoscaler (eks mode).
type Autoscaler struct {
	// Enabled installs the cluster autoscaler for the default node group. Default true. The
	// storage group is fixed-size and never scaled.
	Enabled *bool `json:"enabled,omitempty"`
	// ChartVersion pins the cluster-autoscaler Helm chart. Default 9.52.1.
	ChartVersion string `json:"chartVersion,omitempty"`
	// ImageTag pins the cluster-autoscaler image; its minor version must equal kubernetesVersion.
	// Default: the release for kubernetesVersion (e.g. v1.35.2).
	ImageTag string `json:"imageTag,omitempty"`
}

// IsEnabled reports whether the cluster autoscaler is installed. Enabled is decided by the defaults
// (on in eks mode); unset, outside eks mode, it is off.
func (a Autoscaler) IsEnabled() bool { return a.Enabled != nil && *a.Enabled }

// autoscalerImageTags are the cluster-autoscaler releases per Kubernetes minor version: the
// autoscaler's minor version must match the cluster's (kubernetes/autoscaler releases
// cluster-autoscaler-1.33.6, -1.34.5, -1.35.2 and -1.36.1, published 2026-07-23).
var autoscalerImageTags = map[string]string{
	"1.33": "v1.33.6",
	"1.34": "v1.34.5",
	"1.35": "v1.35.2",
	"1.36": "v1.36.1",
}

// Node group capacity types (EKS CapacityType).
const (
	CapacityOnDemand = "ON_DEMAND"
	CapacitySpot     = "SPOT"
)

// StoragePool is a set of nodes labelled and tainted Key=Value:NoSchedule.
type StoragePool struct {
	// Key is the node label and taint key, e.g. openneuro.org/node-pool.
	Key string `json:"key"`
	// Value is the node label and taint value, e.g. edgefs-target.
	Value string `json:"value"`
}

func (n NodeGroup) isZero() bool { return reflect.DeepEqual(n, NodeGroup{}) }

// IsEnabled reports whether the node group is on. Enabled is decided by the defaults (the default
// group on, the edgefs-target group off); unset, outside eks mode, it is off.
func (n NodeGroup) IsEnabled() bool { return n.Enabled != nil && *n.Enabled }

// HasStoragePool reports whether the stack has tainted storage nodes: the edgefs-target node group
// in eks mode, cluster.storagePool in existing mode.
func (c Cluster) HasStoragePool() bool {
	if c.Mode == ModeExisting {
		return c.StoragePool != nil
	}
	return c.EdgeFSNodeGroup.IsEnabled()
}

func boolPtr(b bool) *bool { return &b }

func (n *NodeGroup) applyDefaults(instanceType string, desired, maxSize int) {
	if n.Enabled == nil {
		n.Enabled = boolPtr(true)
	}
	if n.InstanceType == "" {
		n.InstanceType = instanceType
	}
	if n.DesiredSize == 0 {
		n.DesiredSize = desired
	}
	if n.MinSize == 0 {
		n.MinSize = min(n.DesiredSize, desired)
	}
	if n.MaxSize == 0 {
		n.MaxSize = max(maxSize, n.DesiredSize)
	}
	if n.DiskSizeGiB == 0 {
		n.DiskSizeGiB = 50
	}
	if n.CapacityType == "" {
		n.CapacityType = CapacityOnDemand
	}
}

func (c *Cluster) applyDefaults(env Env) {
	if c.Mode == "" {
		c.Mode = ModeEKS
	}
	if c.Name == "" {
		c.Name = Project + "-" + env.Stack
	}
	if c.Mode != ModeEKS {
		// Existing mode: the AWS-only fields stay empty, so validation can tell that a user set them.
		return
	}
	if c.KubernetesVersion == "" {
		c.KubernetesVersion = DefaultKubernetesVersion
	}
	// An unsupported version gets no builds here; validation then names the supported ones.
	builds, _ := AddonBuildsFor(c.KubernetesVersion)
	setDefault(&c.VpcCniVersion, builds.VpcCni)
	setDefault(&c.KubeProxyVersion, builds.KubeProxy)
	if c.EndpointPrivateAccess == nil {
		c.EndpointPrivateAccess = boolPtr(true)
	}
	if c.EndpointPublicAccess == nil && len(c.PublicAccessCIDRs) > 0 {
		c.EndpointPublicAccess = boolPtr(true)
	}
	c.DefaultNodeGroup.applyDefaults(DefaultPoolInstanceType, DefaultPoolSize, 6)
	if c.EdgeFSNodeGroup.Enabled == nil {
		// Off for new stacks: three i3en.large for the legacy EdgeFS store; stacks that use it say so.
		c.EdgeFSNodeGroup.Enabled = boolPtr(false)
	}
	if c.EdgeFSNodeGroup.IsEnabled() {
		// A storage cluster does not autoscale: EdgeFS places data on these exact nodes.
		c.EdgeFSNodeGroup.applyDefaults(StoragePoolInstanceType, StoragePoolSize, StoragePoolSize)
	}
	if c.Dashboard.Enabled {
		setDefault(&c.Dashboard.ChartVersion, "7.13.0")
	}
	if c.DockerHubCache != nil {
		c.DockerHubCache.applyDefaults()
	}
	if c.Autoscaler.Enabled == nil {
		c.Autoscaler.Enabled = boolPtr(true)
	}
	// Chart 9.52.1 of https://kubernetes.github.io/autoscaler (seen pinned in public EKS configurations
	// of 2025); its image is overridden with the release matching kubernetesVersion.
	setDefault(&c.Autoscaler.ChartVersion, "9.52.1")
	setDefault(&c.Autoscaler.ImageTag, autoscalerImageTags[c.KubernetesVersion])
}

func (c Cluster) validate(v *validator, env Env) {
	v.oneOf("cluster.mode", string(c.Mode), string(ModeEKS), string(ModeExisting))
	switch c.Mode {
	case ModeEKS:
		c.validateEKS(v, env)
	case ModeExisting:
		c.validateExisting(v)
	}
}

func (c Cluster) validateEKS(v *validator, env Env) {
	if env.Region == "" {
		v.addf("aws:region", "is not set; run `pulumi config set aws:region us-east-1` (or your region)")
	}
	if c.Kubeconfig != "" || c.Context != "" {
		v.addf("cluster.kubeconfig", "kubeconfig and context are only used with cluster.mode existing; remove them, the program builds its own kubeconfig for EKS")
	}
	if c.StoragePool != nil {
		v.addf("cluster.storagePool", "is for cluster.mode existing; in eks mode the storage pool is cluster.edgefsNodeGroup")
	}
	if len(c.Name) > 100 || !dnsLabel.MatchString(c.Name) {
		v.addf("cluster.name", "%q is not a valid EKS cluster name; use lower-case letters, digits and '-'", c.Name)
	}
	if _, ok := AddonBuildsFor(c.KubernetesVersion); !ok {
		v.addf("cluster.kubernetesVersion", "%q is not supported: stacks/addons.go has no verified EKS add-on builds for it; use one of %s", c.KubernetesVersion, strings.Join(SupportedKubernetesVersions(), ", "))
	} else if !strings.HasPrefix(c.KubeProxyVersion, "v"+c.KubernetesVersion+".") {
		v.addf("cluster.kubeProxyVersion", "%q does not match kubernetesVersion %s; use a v%s.x-eksbuild.N build (aws eks describe-addon-versions --addon-name kube-proxy)", c.KubeProxyVersion, c.KubernetesVersion, c.KubernetesVersion)
	}
	if _, ok := AddonBuildsFor(c.KubernetesVersion); ok { // else no default, and the version is reported above
		v.version("cluster.vpcCniVersion", c.VpcCniVersion)
	}
	switch {
	case c.EndpointPublicAccess == nil:
		v.addf("cluster.publicAccessCidrs", "is empty; the API endpoint is private plus an allowlist: list the networks pulumi and kubectl run from (e.g. your VPN range 203.0.113.0/24, a CI runner's fixed address /32), or set endpointPublicAccess false and run pulumi from inside the VPC")
	case !*c.EndpointPublicAccess && !*c.EndpointPrivateAccess:
		v.addf("cluster.endpointPublicAccess", "and endpointPrivateAccess are both false; enable at least one, or nobody can reach the API")
	case *c.EndpointPublicAccess && len(c.PublicAccessCIDRs) == 0:
		v.addf("cluster.publicAccessCidrs", "is empty but endpointPublicAccess is true; list the networks allowed to reach the public endpoint (0.0.0.0/0 only on purpose), or set endpointPublicAccess false")
	case !*c.EndpointPublicAccess && len(c.PublicAccessCIDRs) > 0:
		v.addf("cluster.publicAccessCidrs", "is set but endpointPublicAccess is false; remove the CIDRs or enable the public endpoint")
	}
	if len(c.PublicAccessCIDRs) > 40 {
		v.addf("cluster.publicAccessCidrs", "lists %d blocks; EKS allows at most 40, so summarise them", len(c.PublicAccessCIDRs))
	}
	for i, cidr := range c.PublicAccessCIDRs {
		v.cidr(fmt.Sprintf("cluster.publicAccessCidrs[%d]", i), cidr)
	}
	c.validateAccess(v)
	if !c.DefaultNodeGroup.IsEnabled() {
		v.addf("cluster.defaultNodeGroup.enabled", "the default node group cannot be disabled; size it down instead")
	}
	c.DefaultNodeGroup.validate(v, "cluster.defaultNodeGroup", c.KubernetesVersion, false)
	if c.DefaultNodeGroup.RollNodes {
		v.addf("cluster.defaultNodeGroup.rollNodes", "is for edgefsNodeGroup; the default group always rolls its nodes one at a time")
	}
	if c.EdgeFSNodeGroup.IsEnabled() {
		ng := c.EdgeFSNodeGroup
		ng.validate(v, "cluster.edgefsNodeGroup", c.KubernetesVersion, true)
		if ng.MinSize != ng.DesiredSize || ng.MaxSize != ng.DesiredSize {
			v.addf("cluster.edgefsNodeGroup.maxSize", "the storage group is fixed-size (EdgeFS cannot adopt new nodes), but desiredSize/minSize/maxSize are %d/%d/%d; set all three to the same count", ng.DesiredSize, ng.MinSize, ng.MaxSize)
		}
		if ng.CapacityType != CapacityOnDemand {
			v.addf("cluster.edgefsNodeGroup.capacityType", "%q would let EC2 reclaim the nodes that hold EdgeFS data; use ON_DEMAND", ng.CapacityType)
		}
	}
	if c.Autoscaler.IsEnabled() {
		v.version("cluster.autoscaler.chartVersion", c.Autoscaler.ChartVersion)
		if _, ok := AddonBuildsFor(c.KubernetesVersion); ok && !strings.HasPrefix(c.Autoscaler.ImageTag, "v"+c.KubernetesVersion+".") {
			v.addf("cluster.autoscaler.imageTag", "%q does not match kubernetesVersion %s; the autoscaler's minor version must equal the cluster's: use a v%s.x release", c.Autoscaler.ImageTag, c.KubernetesVersion, c.KubernetesVersion)
		}
	}
	if c.Dashboard.Enabled {
		v.version("cluster.dashboard.chartVersion", c.Dashboard.ChartVersion)
	}
	if c.DockerHubCache != nil {
		c.DockerHubCache.validate(v, env, c)
	}
}

// validateAccess checks who can reach the cluster: one deploy role, and each other role in at most
// one list, since EKS allows one access entry per principal (the deploy role has the creator's).
func (c Cluster) validateAccess(v *validator) {
	if c.DeployRoleARN == "" {
		v.addf("cluster.deployRoleArn", "is required in eks mode; set the IAM role that creates the cluster and runs every pulumi up (the bootstrap project's output deployRoleArns), e.g. arn:aws:iam::123456789012:role/openneuro-deploy-staging")
	} else if !iamRoleRE.MatchString(c.DeployRoleARN) {
		v.addf("cluster.deployRoleArn", "%q is not an IAM role ARN; write it like arn:aws:iam::123456789012:role/openneuro-deploy-staging", c.DeployRoleARN)
	}
	switch {
	case len(c.AdminRoleARNs) == 0 && !c.NoAdminRoles:
		v.addf("cluster.adminRoleArns", "is empty, so no person can reach the cluster (the deploy role trusts only CI); list your operators' role, e.g. the bootstrap project's adminRoleArns output (arn:aws:iam::123456789012:role/openneuro-admin-staging), or set cluster.noAdminRoles: true on purpose")
	case len(c.AdminRoleARNs) > 0 && c.NoAdminRoles:
		v.addf("cluster.noAdminRoles", "is true but cluster.adminRoleArns lists roles; remove one of the two")
	}
	seen := map[string]string{}
	if c.DeployRoleARN != "" {
		seen[RoleName(c.DeployRoleARN)] = "cluster.deployRoleArn"
	}
	for _, list := range []struct {
		path string
		arns []string
	}{{"cluster.adminRoleArns", c.AdminRoleARNs}, {"cluster.viewerRoleArns", c.ViewerRoleARNs}} {
		for i, arn := range list.arns {
			path := fmt.Sprintf("%s[%d]", list.path, i)
			if !iamRoleRE.MatchString(arn) {
				v.addf(path, "%q is not an IAM role ARN; write it like arn:aws:iam::123456789012:role/Admin", arn)
				continue
			}
			// Access entries are keyed by role name, and EKS refuses a second entry for a principal
			// (the deploy role has the creator's entry already).
			if first, dup := seen[RoleName(arn)]; dup {
				v.addf(path, "role %s is already given access by %s; EKS allows one access entry per role, list it once", RoleName(arn), first)
				continue
			}
			seen[RoleName(arn)] = path
		}
	}
}

// RoleName is the name of an IAM role ARN: the last element of its path. EKS access entries and
// assumed-role sessions (arn:aws:sts::<account>:assumed-role/<name>/<session>) know a role by it.
func RoleName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func (c Cluster) validateExisting(v *validator) {
	v.notEmpty("cluster.name", c.Name)
	eksOnly := map[string]bool{
		"kubernetesVersion":     c.KubernetesVersion != "",
		"vpcCniVersion":         c.VpcCniVersion != "",
		"kubeProxyVersion":      c.KubeProxyVersion != "",
		"endpointPublicAccess":  c.EndpointPublicAccess != nil,
		"endpointPrivateAccess": c.EndpointPrivateAccess != nil,
		"publicAccessCidrs":     len(c.PublicAccessCIDRs) > 0,
		"deployRoleArn":         c.DeployRoleARN != "",
		"adminRoleArns":         len(c.AdminRoleARNs) > 0,
		"noAdminRoles":          c.NoAdminRoles,
		"viewerRoleArns":        len(c.ViewerRoleARNs) > 0,
		"defaultNodeGroup":      !c.DefaultNodeGroup.isZero(),
		"edgefsNodeGroup":       !c.EdgeFSNodeGroup.isZero(),
		"dashboard":             c.Dashboard != Dashboard{},
		"dockerHubCache":        c.DockerHubCache != nil,
		"dockerHubAnonymous":    c.DockerHubAnonymous,
		"autoscaler":            c.Autoscaler != Autoscaler{},
	}
	for _, key := range sortedKeys(eksOnly) {
		if eksOnly[key] {
			v.addf("cluster."+key, "is an EKS setting but cluster.mode is existing; remove it (the existing cluster is managed elsewhere)")
		}
	}
	if p := c.StoragePool; p != nil {
		v.labelKey("cluster.storagePool.key", p.Key)
		v.labelValue("cluster.storagePool.value", p.Value)
	}
}

func (n NodeGroup) validate(v *validator, path, kubernetesVersion string, needsInstanceStore bool) {
	if !instanceTypeRE.MatchString(n.InstanceType) {
		v.addf(path+".instanceType", "%q is not an EC2 instance type; write it like m5a.large", n.InstanceType)
	} else if needsInstanceStore && !instanceStoreRE.MatchString(n.InstanceType) {
		v.addf(path+".instanceType", "%q has no instance store; EdgeFS needs local NVMe, use an i3en type such as i3en.large", n.InstanceType)
	}
	v.positive(path+".minSize", n.MinSize)
	v.positive(path+".desiredSize", n.DesiredSize)
	v.positive(path+".maxSize", n.MaxSize)
	if n.MinSize > n.MaxSize {
		v.addf(path+".minSize", "%d is greater than maxSize %d; raise maxSize or lower minSize", n.MinSize, n.MaxSize)
	}
	if n.DesiredSize < n.MinSize || n.DesiredSize > n.MaxSize {
		v.addf(path+".desiredSize", "%d is outside minSize..maxSize (%d..%d); pick a size in that range", n.DesiredSize, n.MinSize, n.MaxSize)
	}
	if n.AMIReleaseVersion != "" {
		if m := amiReleaseRE.FindStringSubmatch(n.AMIReleaseVersion); m == nil || m[1] != kubernetesVersion {
			v.addf(path+".amiReleaseVersion", "%q is not an AL2023 AMI release of Kubernetes %s; write it like %s.0-20260115 (aws ssm get-parameter --name /aws/service/eks/optimized-ami/%s/amazon-linux-2023/x86_64/standard/recommended/release_version)", n.AMIReleaseVersion, kubernetesVersion, kubernetesVersion, kubernetesVersion)
		}
	}
	v.oneOf(path+".capacityType", n.CapacityType, CapacityOnDemand, CapacitySpot)
	if len(n.SpotInstanceTypes) > 0 && n.CapacityType != CapacitySpot {
		v.addf(path+".spotInstanceTypes", "is only used with capacityType SPOT; remove it or set capacityType SPOT")
	}
	for i, t := range n.SpotInstanceTypes {
		if !instanceTypeRE.MatchString(t) {
			v.addf(fmt.Sprintf("%s.spotInstanceTypes[%d]", path, i), "%q is not an EC2 instance type; write it like m5.large", t)
		}
	}
	if n.DiskSizeGiB < 20 {
		v.addf(path+".diskSizeGiB", "%d GiB is too small for AL2023 nodes and their images; use at least 20", n.DiskSizeGiB)
	}
}
