package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// nfsMountOptions mount the EdgeFS export the way git-annex needs it: NFSv3 over TCP (the EdgeFS
// gateway serves v3 with NLM locking, which git-annex's lock files rely on), hard so that a
// gateway restart stalls I/O instead of failing it mid-commit, and without caching negative
// lookups, so that a file a worker just created is visible at once to the DataLad service pods on
// other nodes.
var nfsMountOptions = []string{"nfsvers=3", "proto=tcp", "hard", "timeo=600", "retrans=2", "lookupcache=positive"}

// datasets is the shared volume of the git/git-annex repositories.
type datasets struct {
	claimName pulumi.StringPtrOutput
}

// volume mounts the datasets claim.
func (d *datasets) volume() corev1.VolumeArgs {
	return corev1.VolumeArgs{
		Name:                  pulumi.String(datasetsVolume),
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: d.claimName.Elem()},
	}
}

// newDatasets creates the claim <release>-datasets that the DataLad service and the workers mount
// at /datalad: dynamically provisioned from Datasets.StorageClass, or bound to a static NFS volume.
func newDatasets(k *kit) (*datasets, error) {
	d := k.args.Datasets
	set := k.labelSet(compDatasets, "")
	name := k.objectName("datasets")
	keep := []pulumi.ResourceOption{pulumi.Protect(k.args.Protect), pulumi.RetainOnDelete(k.args.Protect)}
	spec := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.ToStringArray([]string{d.AccessMode}),
		Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(d.Size)}},
	}
	var deps []pulumi.Resource
	deps = append(deps, k.args.StorageDrivers...)
	if d.NFS != nil {
		pv, err := corev1.NewPersistentVolume(k.ctx, k.logical("datasets"), &corev1.PersistentVolumeArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: set.Labels()},
			Spec: &corev1.PersistentVolumeSpecArgs{
				Capacity:    pulumi.StringMap{"storage": pulumi.String(d.Size)},
				AccessModes: pulumi.ToStringArray([]string{d.AccessMode}),
				// The data lives in EdgeFS; deleting the claim must never touch it.
				PersistentVolumeReclaimPolicy: pulumi.String("Retain"),
				StorageClassName:              pulumi.String(""),
				MountOptions:                  pulumi.ToStringArray(nfsMountOptions),
				Nfs:                           &corev1.NFSVolumeSourceArgs{Server: d.NFS.Server, Path: pulumi.String(d.NFS.Path)},
				// Reserved for this claim, so no other claim can bind it.
				ClaimRef: &corev1.ObjectReferenceArgs{Namespace: k.ns, Name: pulumi.String(name)},
			},
		}, append([]pulumi.ResourceOption{k.parent, pulumi.DependsOn(k.args.DependsOn)}, keep...)...)
		if err != nil {
			return nil, err
		}
		deps = append(deps, pv)
		// "" (not unset) so the default class's provisioner does not step in.
		spec.StorageClassName = pulumi.String("")
		spec.VolumeName = pulumi.String(name)
	} else if d.StorageClass != "" {
		spec.StorageClassName = pulumi.String(d.StorageClass)
	}
	pvc, err := corev1.NewPersistentVolumeClaim(k.ctx, k.logical("datasets"), &corev1.PersistentVolumeClaimArgs{
		Metadata: k.meta(name, set),
		Spec:     spec,
	}, append([]pulumi.ResourceOption{k.parent, pulumi.DependsOn(deps)}, keep...)...)
	if err != nil {
		return nil, err
	}
	return &datasets{claimName: pvc.Metadata.Name()}, nil
}
