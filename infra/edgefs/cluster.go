package edgefs

import (
	"encoding/json"
	"slices"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/infra/labels"
	"github.com/openneuro/openneuro-infra/stacks"
)

// storeConfig is the Cluster's storage.config for a consistency level. All keys are strings
// (rook v1.5.12 target/config DefaultStoreConfig).
//
// The i3en nodes have NVMe instance stores and no HDDs, and with useAllSSD false the rtrd engine picks
// HDDs only, so useAllSSD is on in both levels. OpenNeuro's other 2020 keys (useMetadataOffload,
// useBCache, useBCacheWB, mdReserved, hddReadAhead) tune SSD-in-front-of-HDD setups and do nothing, or
// fail, without HDDs; the lmdb page sizes are left at EdgeFS's defaults.
func storeConfig(c stacks.Consistency) map[string]string {
	cfg := map[string]string{"useAllSSD": "true"}
	switch c {
	case stacks.ConsistencyRelaxed:
		// OpenNeuro's 2020 tuning: no sync (consistent on pod crash, not on power loss) and no chunk
		// id verification after network transfers.
		cfg["sync"], cfg["rtVerifyChid"] = "0", "0"
	default:
		// Immediate: every write synced on each device (power-loss consistent) and every chunk
		// verified after transfer, EdgeFS's own defaults, written out so they cannot be lost.
		cfg["sync"], cfg["rtVerifyChid"] = "1", "1"
	}
	return cfg
}

// clusterSpec is the Cluster CR's spec. commitNWait stays unset in both consistency levels: any value
// above 0 stops puts from waiting for the commit.
func clusterSpec(cfg stacks.EdgeFS, placement *edgefsv1.Placement) (edgefsv1.ClusterSpec, error) {
	res, err := requirements(cfg.Resources)
	if err != nil {
		return edgefsv1.ClusterSpec{}, err
	}
	spec := edgefsv1.ClusterSpec{
		EdgefsImageName: cfg.Image,
		// A host path, not dataVolumeSize: in volume mode the mgr and gateway pods mount a PVC
		// named edgefs-datadir that the operator never creates (reference section 7.3 #3).
		DataDirHostPath: cfg.DataDirHostPath,
		ServiceAccount:  clusterAccount,
		Storage: edgefsv1.StorageScopeSpec{
			// Without useAllNodes (or a node list) the operator finds no storage node; target
			// placement narrows "all" to the pool.
			UseAllNodes: true,
			// Every empty, unpartitioned disk: the instance store, never the partitioned root volume
			// (target/layout.go GetContainers skips disks with partitions).
			UseAllDevices: ptr(true),
			Config:        storeConfig(cfg.Consistency),
		},
		SysRepCount:     cfg.SysRepCount,
		FailureDomain:   cfg.FailureDomain,
		Resources:       res,
		ResourceProfile: resourceProfile(res),
	}
	if placement != nil {
		spec.Placement = &edgefsv1.PlacementSpec{All: placement}
	}
	return spec, nil
}

// nfsSpec is the NFS CR's spec. relaxedDirUpdates is written out in both levels, so the live object
// says which one it runs.
func nfsSpec(cfg stacks.EdgeFS, placement *edgefsv1.Placement) (edgefsv1.NFSSpec, error) {
	res, err := requirements(cfg.NFS.Resources)
	if err != nil {
		return edgefsv1.NFSSpec{}, err
	}
	return edgefsv1.NFSSpec{
		Instances:         cfg.NFS.Instances,
		RelaxedDirUpdates: ptr(cfg.Consistency == stacks.ConsistencyRelaxed),
		// The gateways get only this placement, not the Cluster's; they also select the operator's
		// node label <namespace>=cluster, which only storage nodes carry.
		Placement: placement,
		Resources: res,
	}, nil
}

// s3Spec is the S3 CR's spec: path-style S3 (the default s3type) on the default ports.
func s3Spec(cfg stacks.EdgeFS, placement *edgefsv1.Placement) (edgefsv1.S3Spec, error) {
	res, err := requirements(cfg.S3.Resources)
	if err != nil {
		return edgefsv1.S3Spec{}, err
	}
	return edgefsv1.S3Spec{Instances: cfg.S3.Instances, Placement: placement, Resources: res}, nil
}

// newCRs creates the Cluster, NFS and (when enabled) S3 CRs and returns the NFS one. They wait for deps (CRDs, operator,
// RBAC, node groups), so that on destroy they go first, while the operator still runs to remove the
// Cluster's finalizer; the service CRs also wait for the Cluster and go before it.
//
// The Cluster is protected with the stack, but not retained on delete: a retained Cluster outlives
// the operator that would remove its finalizer (cluster.edgefs.rook.io), so the namespace and the
// CRD deletions that follow would hang in Terminating. Deleting the CR does not touch the data
// (the operator only unlabels the nodes); losing the nodes does.
func newCRs(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args, h *home, deps []pulumi.Resource) (nfsCR pulumi.Resource, err error) {
	cfg := args.Config
	pl := poolPlacement(args.StoragePool)
	image := cfg.Image

	spec, err := clusterSpec(cfg, pl)
	if err != nil {
		return nil, wrap("cluster spec", err)
	}
	cluster, err := newCR(ctx, name+"-cluster", "Cluster", ClusterName, labelSet("cluster", image), h, spec,
		pulumi.Parent(comp), pulumi.DependsOn(deps), pulumi.Protect(args.Protect))
	if err != nil {
		return nil, wrap("cluster", err)
	}
	after := pulumi.DependsOn(slices.Concat(deps, []pulumi.Resource{cluster}))

	nfs, err := nfsSpec(cfg, pl)
	if err != nil {
		return nil, wrap("nfs spec", err)
	}
	if nfsCR, err = newCR(ctx, name+"-nfs", "NFS", cfg.NFS.Name, labelSet("nfs", image), h, nfs, pulumi.Parent(comp), after); err != nil {
		return nil, wrap("nfs", err)
	}
	if cfg.S3.Enabled {
		s3, err := s3Spec(cfg, pl)
		if err != nil {
			return nil, wrap("s3 spec", err)
		}
		if _, err := newCR(ctx, name+"-s3", "S3", cfg.S3.Name, labelSet("s3", image), h, s3, pulumi.Parent(comp), after); err != nil {
			return nil, wrap("s3", err)
		}
	}
	return nfsCR, nil
}

// newCR creates one edgefs.rook.io/v1 object in the cluster namespace, its spec the JSON of a typed
// spec.
func newCR(ctx *pulumi.Context, name, kind, k8sName string, set labels.Set, h *home, spec any, opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	fields, err := untyped(spec)
	if err != nil {
		return nil, err
	}
	return apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(edgefsv1.APIVersion),
		Kind:       pulumi.String(kind),
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(k8sName), Namespace: h.clusterNS.Metadata.Name(), Labels: set.Labels(), Annotations: kubeprovider.Annotations(nil),
		},
		OtherFields: kubernetes.UntypedArgs{"spec": fields},
	}, opts...)
}

// untyped turns a typed spec into the plain JSON data the provider sends.
func untyped(spec any) (map[string]any, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func ptr[T any](v T) *T { return &v }
