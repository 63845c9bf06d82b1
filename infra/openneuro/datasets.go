package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/infra/labels"
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

// claimType is the type token of a plain claim: what the data claims were registered as up to
// v0.1.0, which their alias names.
const claimType = "kubernetes:core/v1:PersistentVolumeClaim"

// dataClaim is a claim that holds data: the datasets, a worker's disk, redis's queue.
type dataClaim struct {
	// role names the Pulumi resource (<component>-<role>); name is the claim's own name.
	role, name string
	set        labels.Set
	accessMode string
	size       string
	// storageClass is the class; "" leaves it to the cluster's default.
	storageClass string
	// wasClaim says it was a plain claim resource of that role up to v0.1.0.
	wasClaim bool
	deps     []pulumi.Resource
}

// newDataClaim creates a data claim as a Patch resource that is retained on delete, so that what
// holds data is never replaced or deleted by an update:
//   - it is created by server-side apply, which takes over a claim of that name that exists: one
//     the StatefulSet controller made from its template (up to v0.1.0), or one kept when
//     app.workers was lowered and needed again;
//   - a larger size grows it in place where the class allows expansion (gp3 does; the EFS claim's
//     size is nominal and fixed, and an existing cluster's class is the operator's to choose);
//   - a Patch resource is replaced only when its name or namespace changes (pulumi-kubernetes
//     provider.go, "Patch resources can be updated in place for all other properties"): a new
//     class or access mode is sent as an update, which the API server refuses, in the preview
//     already ("spec is immutable after creation except resources.requests"), where a plain claim
//     would be deleted and made anew, empty;
//   - Pulumi never deletes it (retainOnDelete: the provider's own advice for a Patch that manages
//     required fields): lowering app.workers or switching the store keeps it, and pulumi destroy
//     leaves it to its namespace, which deletes it with everything in it in a stack without
//     storage.protect, and keeps it in one with (the namespace is retained there);
//   - patchForce (kubeprovider.Annotations, as every object): its fields are taken over from
//     whoever created the claim (the StatefulSet controller, or the provider's client-side create
//     up to v0.1.0) instead of failing the update on a conflict.
func (k *kit) newDataClaim(c dataClaim) (*corev1.PersistentVolumeClaimPatch, error) {
	annotations := kubeprovider.Annotations(claimAnnotations())
	spec := &corev1.PersistentVolumeClaimSpecPatchArgs{
		AccessModes: pulumi.ToStringArray([]string{c.accessMode}),
		Resources:   &corev1.VolumeResourceRequirementsPatchArgs{Requests: pulumi.StringMap{"storage": pulumi.String(c.size)}},
	}
	if c.storageClass != "" {
		spec.StorageClassName = pulumi.String(c.storageClass)
	}
	opts := []pulumi.ResourceOption{k.parent, pulumi.DependsOn(c.deps), pulumi.RetainOnDelete(true)}
	if c.wasClaim {
		opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(claimType)}}))
	}
	return corev1.NewPersistentVolumeClaimPatch(k.ctx, k.logical(c.role), &corev1.PersistentVolumeClaimPatchArgs{
		Metadata: &metav1.ObjectMetaPatchArgs{Name: pulumi.String(c.name), Namespace: k.ns, Labels: c.set.Common(), Annotations: annotations},
		Spec:     spec,
	}, opts...)
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
	provisioned, err := k.newDataClaim(dataClaim{
		role: "datasets", name: k.objectName("datasets"), set: set, accessMode: d.AccessMode, size: d.Size,
		storageClass: d.StorageClass, wasClaim: true, deps: k.args.StorageDrivers,
	})
	if err != nil {
		return nil, err
	}
	// The EdgeFS volume and its claim are protected but not retained: they only point at the
	// export, whose data stays in EdgeFS whatever happens to them (the volume's reclaim policy is
	// Retain). Disabling EdgeFS deletes them, and enabling it again creates them anew, pointing at
	// the new NFS Service; kept, they would stand in the way of that create.
	keep := []pulumi.ResourceOption{pulumi.Protect(k.args.Protect)}
	mounted := &datasets{claimName: provisioned.Metadata.Name(), shared: d.AccessMode == "ReadWriteMany"}
	if d.NFS == nil {
		return mounted, nil
	}

	name := k.objectName("datasets-edgefs")
	pv, err := corev1.NewPersistentVolume(k.ctx, k.logical("datasets-edgefs"), &corev1.PersistentVolumeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: set.Common(), Annotations: kubeprovider.Annotations(nil)},
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
	nfsMeta.Annotations = kubeprovider.Annotations(claimAnnotations())
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
