// Package edgefs deploys Rook's EdgeFS storage as typed Kubernetes resources: the eight
// edgefs.rook.io CRDs (apiextensions.k8s.io/v1, schemas generated from package edgefsv1), the operator
// with its RBAC in rook-edgefs-system, and in rook-edgefs the Cluster on the edgefs-target nodes, the
// NFS (and optional S3) service and a Service whose cluster IP the dataset volumes mount.
//
// EdgeFS was last shipped with Rook v1.5.12 and removed in v1.6 (rook/rook#6991, #7066); its upstream
// stopped in 2020 (rook/rook#5823). This is a port of those manifests to current Kubernetes: CRDs in
// apiextensions.k8s.io/v1 with structural schemas, RBAC in rbac.authorization.k8s.io/v1, Pod Security
// Admission labels instead of PodSecurityPolicies (removed in 1.25).
//
// Data lives on the NVMe instance store of the i3en nodes, which does not survive an instance's
// replacement: a node-group update that replaces nodes (AMI or Kubernetes version, instance type,
// launch template) erases one copy per replaced node. With sysRepCount 3 and failureDomain host the
// data survives one node at a time only if EdgeFS has re-replicated before the next node goes, so
// roll the edgefs-target group by hand, one node at a time, checking `efscli system status` in
// between, or treat the update as a restore from backup.
package edgefs

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/labels"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Token is the component's type token.
const Token = "openneuro:edgefs:EdgeFS"

// Kubernetes names. The operator, its example manifests and its generated objects hard-code most of
// them (rook v1.5.12 cluster/examples/kubernetes/edgefs).
const (
	// OperatorNamespace holds the operator and rook-discover.
	OperatorNamespace = "rook-edgefs-system"
	// ClusterNamespace holds the Cluster, the NFS/S3 CRs and everything the operator creates for them.
	ClusterNamespace = "rook-edgefs"
	// ClusterName is the Cluster CR's name; the operator supports one Cluster per namespace.
	ClusterName = "rook-edgefs"

	operatorAccount = "rook-edgefs-system"
	// operatorName is the Deployment's and the container's name: the operator finds its own image by
	// this container name (cmd/rook/edgefs/operator.go) to run rook-discover with it.
	operatorName = "rook-edgefs-operator"
	// clusterAccount runs the target, mgr and prepare pods (spec.serviceAccount) and, hard-coded in
	// the operator, every NFS/S3 gateway pod.
	clusterAccount = "rook-edgefs-cluster"
	// mgrDeployment is the operator's mgr Deployment, whose first container holds efscli (toolbox).
	mgrDeployment = "rook-edgefs-mgr"
)

// appName is the recommended app.kubernetes.io/name and instance of every object.
const appName = "rook-edgefs"

// Args configures the EdgeFS layer.
type Args struct {
	// Config is the edgefs config as stacks.Load returns it (defaults filled, validated). Required;
	// Config.IsEnabled() must be true: call New only for stacks that deploy EdgeFS.
	Config stacks.EdgeFS
	// Provider is the cluster's Kubernetes provider. Required.
	Provider *kubernetes.Provider
	// StoragePool is the tainted edgefs-target node pool the EdgeFS pods are pinned to and tolerate.
	// Default nil (existing clusters): no affinity or tolerations, and EdgeFS uses the empty SSDs of
	// every node.
	StoragePool *placement.Pool
	// Protect protects the Cluster CR, its namespace and the clusters CRD (prod). Default false.
	Protect bool
	// DependsOn are the node groups: the operator and the CRs wait for nodes, and on destroy go before
	// them. Default none.
	DependsOn []pulumi.Resource
}

// EdgeFS is the deployed EdgeFS layer.
type EdgeFS struct {
	pulumi.ResourceState

	// SetupCommand is the one-time shell command that creates, inside EdgeFS, the cluster, tenant,
	// bucket and services the NFS (and S3) CRs serve. It first waits for the Cluster to be Created;
	// run it once after the first `pulumi up`.
	SetupCommand pulumi.StringOutput `pulumi:"setupCommand"`
	// NFSServer is the cluster IP of the NFS Service. A PersistentVolume must use the IP: kubelet
	// mounts from the node, where cluster DNS does not resolve.
	NFSServer pulumi.StringOutput `pulumi:"nfsServer"`

	// NFSPath is the export, /<tenant>/<bucket>.
	NFSPath string
	// NFSService is the NFS Service; volumes that mount NFSServer depend on it.
	NFSService pulumi.Resource
}

// New deploys the CRDs, the operator, the EdgeFS cluster and its NFS (and S3) services.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*EdgeFS, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	comp := &EdgeFS{}
	opts = append([]pulumi.ResourceOption{pulumi.Providers(args.Provider)}, opts...)
	if err := ctx.RegisterComponentResource(Token, name, comp, opts...); err != nil {
		return nil, err
	}

	crds, err := newCRDs(ctx, name, comp, args)
	if err != nil {
		return nil, err
	}
	h, err := newHome(ctx, name, comp, args)
	if err != nil {
		return nil, err
	}
	if err := newNetworkPolicies(ctx, name, comp, args, h); err != nil {
		return nil, err
	}
	rbac, err := newRBAC(ctx, name, comp, args, h)
	if err != nil {
		return nil, err
	}
	// The operator starts after its CRDs, rights and nodes exist; the CRs after the operator, so that
	// on destroy they are deleted while it still runs. Every edge also orders the destroy, reversed.
	base := slices.Concat(crds, rbac, []pulumi.Resource{h.operatorAccount, h.clusterAccount}, args.DependsOn)
	operator, err := newOperator(ctx, name, comp, args, h, base)
	if err != nil {
		return nil, err
	}
	gate, err := newDiscoveryGate(ctx, name, comp, args, h, slices.Concat(base, []pulumi.Resource{operator}))
	if err != nil {
		return nil, err
	}
	nfs, err := newCRs(ctx, name, comp, args, h, slices.Concat(base, []pulumi.Resource{operator, gate}))
	if err != nil {
		return nil, err
	}
	if err := newTargetBudget(ctx, name, comp, args, h); err != nil {
		return nil, err
	}
	service, err := newNFSService(ctx, name, comp, args, h, nfs)
	if err != nil {
		return nil, err
	}

	comp.SetupCommand = pulumi.String(setupCommand(args.Config)).ToStringOutput()
	comp.NFSServer = clusterIP(ctx, service)
	comp.NFSPath = args.Config.NFS.ExportPath()
	comp.NFSService = service
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"setupCommand": comp.SetupCommand,
		"nfsServer":    comp.NFSServer,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

func (a *Args) check() error {
	switch {
	case a == nil:
		return errors.New("edgefs: Args are required")
	case a.Provider == nil:
		return errors.New("edgefs: Provider is required")
	case !a.Config.IsEnabled():
		return errors.New("edgefs: Config.Enabled is false; call edgefs.New only when cfg.EdgeFS.IsEnabled()")
	case !a.Config.FromLoad():
		return errors.New("edgefs: Config is not from stacks.Load, so it has no defaults; pass the config stacks.Load returns")
	}
	return nil
}

// labelSet is the recommended label set of one part; version is the image tag of what runs it.
func labelSet(component, image string) labels.Set {
	return labels.Set{Name: appName, Instance: appName, Component: component, Version: labels.Version(image)}
}

// withUpstream adds the labels Rook's operator.yaml puts on every object it defines.
func withUpstream(l pulumi.StringMap) pulumi.StringMap {
	l["operator"] = pulumi.String("rook")
	l["storage-backend"] = pulumi.String("edgefs")
	return l
}

// podSecurityPrivileged are the Pod Security Admission labels of both namespaces: rook-discover,
// the prepare Jobs and the targets are privileged and mount host paths (/dev, /sys, the data dir).
func podSecurityPrivileged(l pulumi.StringMap) pulumi.StringMap {
	for _, mode := range []string{"enforce", "audit", "warn"} {
		l["pod-security.kubernetes.io/"+mode] = pulumi.String("privileged")
	}
	return l
}

func wrap(role string, err error) error { return fmt.Errorf("edgefs: %s: %w", role, err) }

// clusterIP is the Service's cluster IP. The API server assigns it when it creates the Service, and
// its dry run (the preview of an up that creates the Service) assigns none, which the provider
// reports as "", known; a volume that mounted "" would fail its own dry run ("spec.nfs.server:
// Required value") and with it the preview of enabling EdgeFS. In a preview the IP is therefore
// unknown until the Service has one, as Pulumi models any value that exists only after a create.
func clusterIP(ctx *pulumi.Context, service *corev1.Service) pulumi.StringOutput {
	return service.Spec.ClusterIP().Elem().ApplyT(func(ip string) pulumi.StringOutput {
		if ip == "" && ctx.DryRun() {
			return pulumi.UnsafeUnknownOutput([]pulumi.Resource{service}).(pulumi.AnyOutput).AsStringOutput()
		}
		return pulumi.String(ip).ToStringOutput()
	}).(pulumi.StringOutput)
}
