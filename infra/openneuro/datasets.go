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

// datasets is the shared volume of the git/git-annex repositories the pods mount.
type datasets struct {
	claimName pulumi.StringPtrOutput
	// shared says every node may mount it at once (ReadWriteMany); otherwise the pods that mount
	// it must share a node.
	shared bool
}

// claimAnnotations are the annotations of every claim. Pulumi does not wait on claims: the
// workloads that mount them are awaited, and a claim await only adds a way to fail (its handling
// of WaitForFirstConsumer classes changed twice upstream, pulumi/pulumi-kubernetes#3130 and #4181:
// before #4181 any update of a bound claim of such a class waited 5 minutes and failed).
func claimAnnotations() pulumi.StringMap {
	return pulumi.StringMap{"pulumi.com/skipAwait": pulumi.String("true")}
}

// volume mounts the datasets claim.
func (d *datasets) volume() corev1.VolumeArgs {
	return corev1.VolumeArgs{
		Name:                  pulumi.String(datasetsVolume),
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: d.claimName.Elem()},
	}
}

// newDatasets creates the datasets claims and returns the one the pods mount:
//   - <release>-datasets, provisioned from Datasets.StorageClass (EFS in eks mode), always;
//   - <release>-datasets-edgefs, bound to a static volume of the EdgeFS NFS export, whenever
//     EdgeFS serves one.
//
// Both exist side by side, so that switching app.datasetStore only rolls the pods onto the other
// claim: nothing is replaced or deleted, and the data of the store left behind stays for the copy
// (README, "Switch the dataset store"). Replacing one claim by the other would delete a claim the
// pods still mount, which hangs behind its protection finalizer (and is refused in prod).
func newDatasets(k *kit) (*datasets, error) {
	d := k.args.Datasets
	set := k.labelSet(compDatasets, "")
	keep := []pulumi.ResourceOption{pulumi.Protect(k.args.Protect), pulumi.RetainOnDelete(k.args.Protect)}
	spec := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.ToStringArray([]string{d.AccessMode}),
		Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(d.Size)}},
	}
	if d.StorageClass != "" {
		spec.StorageClassName = pulumi.String(d.StorageClass)
	}
	meta := k.meta(k.objectName("datasets"), set)
	meta.Annotations = claimAnnotations()
	provisioned, err := corev1.NewPersistentVolumeClaim(k.ctx, k.logical("datasets"), &corev1.PersistentVolumeClaimArgs{
		Metadata: meta,
		Spec:     spec,
	}, append([]pulumi.ResourceOption{k.parent, pulumi.DependsOn(k.args.StorageDrivers)}, keep...)...)
	if err != nil {
		return nil, err
	}
	mounted := &datasets{claimName: provisioned.Metadata.Name(), shared: d.AccessMode == "ReadWriteMany"}
	if d.NFS == nil {
		return mounted, nil
	}

	name := k.objectName("datasets-edgefs")
	pv, err := corev1.NewPersistentVolume(k.ctx, k.logical("datasets-edgefs"), &corev1.PersistentVolumeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: set.Common()},
		Spec: &corev1.PersistentVolumeSpecArgs{
			Capacity: pulumi.StringMap{"storage": pulumi.String(d.Size)},
			// NFS is shared by every node, whatever storage.datasetsAccessMode says of the class.
			AccessModes: pulumi.ToStringArray([]string{"ReadWriteMany"}),
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
	nfsMeta := k.meta(name, set)
	nfsMeta.Annotations = claimAnnotations()
	nfs, err := corev1.NewPersistentVolumeClaim(k.ctx, k.logical("datasets-edgefs"), &corev1.PersistentVolumeClaimArgs{
		Metadata: nfsMeta,
		Spec: &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes: pulumi.ToStringArray([]string{"ReadWriteMany"}),
			Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(d.Size)}},
			// "" (not unset) so the default class's provisioner does not step in.
			StorageClassName: pulumi.String(""),
			VolumeName:       pulumi.String(name),
		},
	}, append([]pulumi.ResourceOption{k.parent, pulumi.DependsOn(append([]pulumi.Resource{pv}, k.args.StorageDrivers...))}, keep...)...)
	if err != nil {
		return nil, err
	}
	if d.FromNFS {
		mounted = &datasets{claimName: nfs.Metadata.Name(), shared: true}
	}
	return mounted, nil
}
