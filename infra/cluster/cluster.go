// Package cluster is the EKS layer: the control plane through pulumi-eks, access entries, the OIDC
// provider for IRSA, secrets envelope encryption, control-plane logs, the default and edgefs-target
// managed node groups, and the one Kubernetes provider every Kubernetes resource of the program uses.
package cluster

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Type is the component's type token.
const Type = "openneuro:cluster:Cluster"

// Args configures the cluster layer.
type Args struct {
	// Config is the stack's openneuro:cluster config as stacks.Load returns it (eks mode, defaults filled, validated).
	Config stacks.Cluster
	// VpcID is the VPC the cluster runs in. Required.
	VpcID pulumi.StringInput
	// PublicSubnetIDs are the subnets for internet-facing load balancers. Required.
	PublicSubnetIDs pulumi.StringArrayInput
	// PrivateSubnetIDs are the subnets of the nodes and pods. Required.
	PrivateSubnetIDs pulumi.StringArrayInput
	// Region is the AWS region, for the cluster autoscaler (pods cannot read it from IMDS). Required
	// with the autoscaler.
	Region string
	// NodeDependencies are what nodes need before they boot: the private subnets' NAT routes
	// (network.Network.EgressRoutes). Optional; empty with an existing VPC.
	NodeDependencies []pulumi.Resource
	// Protect protects what a deletion could not give back: the KMS key of the Secrets (also
	// retained on delete), the control-plane log group (retained), the EKS control plane
	// (aws:eks/cluster:Cluster inside pulumi-eks's component, not its other children) and the
	// edgefs-target node group, whose NVMe disks hold EdgeFS data. Default false; prod true.
	Protect bool
}

// Cluster is the cluster layer's result.
type Cluster struct {
	pulumi.ResourceState

	// Name is the EKS cluster name (cluster.name, default openneuro-<stack>).
	Name pulumi.StringOutput `pulumi:"name"`
	// KubeconfigJSON is a kubeconfig for the cluster (secret). It runs `aws eks get-token`, so the
	// aws CLI must be on the PATH wherever it is used.
	KubeconfigJSON pulumi.StringOutput `pulumi:"kubeconfigJson"`
	// OIDCProviderARN is the ARN of the cluster's IAM OIDC provider, for IRSA trust policies.
	OIDCProviderARN pulumi.StringOutput `pulumi:"oidcProviderArn"`
	// OIDCIssuer is the cluster's OIDC issuer without https://, for IRSA trust conditions.
	OIDCIssuer pulumi.StringOutput `pulumi:"oidcIssuer"`
	// NodeSecurityGroupID is the security group the nodes actually carry: the cluster security
	// group EKS creates and attaches to every managed node (see nodegroups.go).
	NodeSecurityGroupID pulumi.StringOutput `pulumi:"nodeSecurityGroupId"`
	// NodeGroupNames are the EKS names of the managed node groups (default first).
	NodeGroupNames pulumi.StringArrayOutput `pulumi:"nodeGroupNames"`

	// Provider is the Kubernetes provider for this cluster; every Kubernetes resource uses it.
	Provider *kubernetes.Provider
	// NodeGroups are the managed node groups. Add-ons, Helm releases and workloads depend on them:
	// they cannot start without nodes, and on destroy they go before the nodes do.
	NodeGroups []pulumi.Resource
	// StoragePool is the tainted edgefs-target pool, nil when cluster.edgefsNodeGroup.enabled is false.
	StoragePool *placement.Pool
}

// Control-plane log types sent to CloudWatch (EKS BPG "Enable audit logs", CIS EKS 2.1.1).
var controlPlaneLogTypes = []string{"api", "audit", "authenticator"}

// New creates the EKS cluster, its node groups and its Kubernetes provider.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if args == nil || args.VpcID == nil || args.PublicSubnetIDs == nil || args.PrivateSubnetIDs == nil {
		return nil, errors.New("cluster: VpcID, PublicSubnetIDs and PrivateSubnetIDs are required")
	}
	cfg := args.Config
	if !cfg.FromLoad() || cfg.Mode != stacks.ModeEKS {
		return nil, errors.New("cluster: Config must be an eks-mode cluster config from stacks.Load")
	}
	if cfg.Autoscaler.IsEnabled() && args.Region == "" {
		return nil, errors.New("cluster: Region is required with the cluster autoscaler")
	}
	entries, err := accessEntries(cfg.AdminRoleARNs, cfg.ViewerRoleARNs)
	if err != nil {
		return nil, err
	}

	comp := &Cluster{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)

	cp, err := newControlPlaneDeps(ctx, name, cfg.Name, args.Protect, parent)
	if err != nil {
		return nil, err
	}

	// API: access entries only, no aws-auth ConfigMap (EKS BPG "Cluster access").
	apiAuthentication := eks.AuthenticationModeApi
	clusterArgs := &eks.ClusterArgs{
		Name:    pulumi.String(cfg.Name),
		Version: pulumi.String(cfg.KubernetesVersion),
		VpcId:   args.VpcID.ToStringOutput(),
		// Nodes in private subnets; public subnets only for internet-facing load balancers.
		PublicSubnetIds:  args.PublicSubnetIDs,
		PrivateSubnetIds: args.PrivateSubnetIDs,
		// Our own managed node groups (nodegroups.go) instead of pulumi-eks's self-managed one.
		SkipDefaultNodeGroup: pulumi.BoolRef(true),
		// No pulumi-eks node/cluster security groups: managed nodes carry the cluster security
		// group EKS creates, and that one group then is the nodes' only group tagged
		// kubernetes.io/cluster/<name>, which the load balancer controller requires (it refuses
		// nodes with two such groups). NodeSecurityGroupId then returns EKS's cluster group.
		SkipDefaultSecurityGroups: pulumi.BoolRef(true),
		EndpointPublicAccess:      pulumi.BoolPtr(*cfg.EndpointPublicAccess),
		EndpointPrivateAccess:     pulumi.BoolPtr(*cfg.EndpointPrivateAccess),
		CreateOidcProvider:        pulumi.BoolPtr(true),
		AuthenticationMode:        &apiAuthentication,
		AccessEntries:             entries,
		EncryptionConfigKeyArn:    cp.key.Arn,
		EnabledClusterLogTypes:    pulumi.ToStringArray(controlPlaneLogTypes),
		// Pinned: unpinned, pulumi-eks looks up the newest build on every run (a diff each time AWS
		// publishes one, and an aws-node/kube-proxy restart on every node when applied).
		// EnableNetworkPolicy starts the VPC CNI's network policy agent on every node: without it
		// the application's NetworkPolicies are stored but nothing enforces them.
		VpcCniOptions:         &eks.VpcCniOptionsArgs{AddonVersion: pulumi.String(cfg.VpcCniVersion), EnableNetworkPolicy: pulumi.BoolPtr(true)},
		KubeProxyAddonOptions: &eks.KubeProxyAddonOptionsArgs{Version: pulumi.String(cfg.KubeProxyVersion)},
		// The tag carries the log group's name into the cluster's inputs: EKS must not create the
		// group itself (without retention) before ours exists.
		ClusterTags: pulumi.StringMap{"openneuro.org/control-plane-logs": cp.logGroup.Name},
	}
	if *cfg.EndpointPublicAccess {
		// pulumi-eks rejects publicAccessCidrs when the public endpoint is off.
		clusterArgs.PublicAccessCidrs = pulumi.ToStringArray(cfg.PublicAccessCIDRs)
	}
	// vpc-cni, kube-proxy and coredns keep pulumi-eks's and EKS's defaults: vpc-cni and kube-proxy
	// become EKS add-ons before any node exists (they need none), coredns stays the self-managed
	// Deployment EKS bootstraps, because pulumi-eks only makes it an add-on with its default node
	// group and an add-on created before the nodes would wait out its 20-minute timeout.
	eksOpts := []pulumi.ResourceOption{parent}
	if args.Protect {
		eksOpts = append(eksOpts, pulumi.Transforms([]pulumi.ResourceTransform{protectControlPlane}))
	}
	eksCluster, err := eks.NewCluster(ctx, name+"-eks", clusterArgs, eksOpts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: eks: %w", err)
	}

	groups, err := newNodeGroups(ctx, name, args, eksCluster, parent)
	if err != nil {
		return nil, err
	}

	// One provider per stack, identified by the cluster name (kubeprovider.Args says why).
	provider, err := kubernetes.NewProvider(ctx, name+"-k8s", kubeprovider.Args(eksCluster.KubeconfigJson, cfg.Name), parent)
	if err != nil {
		return nil, fmt.Errorf("cluster: kubernetes provider: %w", err)
	}

	if cfg.Autoscaler.IsEnabled() {
		if _, err := newAutoscaler(ctx, name, cfg, args.Region, eksCluster.OidcProviderArn, eksCluster.OidcIssuer,
			provider, groups.resources, parent); err != nil {
			return nil, err
		}
	}

	comp.Name = pulumi.String(cfg.Name).ToStringOutput()
	comp.KubeconfigJSON = pulumi.ToSecret(eksCluster.KubeconfigJson).(pulumi.StringOutput)
	comp.OIDCProviderARN = eksCluster.OidcProviderArn
	comp.OIDCIssuer = eksCluster.OidcIssuer
	comp.NodeSecurityGroupID = eksCluster.NodeSecurityGroupId
	comp.NodeGroupNames = groups.names.ToStringArrayOutput()
	comp.Provider = provider
	comp.NodeGroups = groups.resources
	comp.StoragePool = groups.pool

	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"name":                comp.Name,
		"kubeconfigJson":      comp.KubeconfigJSON,
		"oidcProviderArn":     comp.OIDCProviderARN,
		"oidcIssuer":          comp.OIDCIssuer,
		"nodeSecurityGroupId": comp.NodeSecurityGroupID,
		"nodeGroupNames":      comp.NodeGroupNames,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}
