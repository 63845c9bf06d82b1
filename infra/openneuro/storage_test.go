package openneuro_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// urnOf returns the URN of the resource of the given type and logical name in the run.
func urnOf(t *testing.T, rec *infratest.Recorder, typ, logical string) string {
	t.Helper()
	res := rec.Find(typ, logical)
	if res == nil {
		t.Fatalf("no %s %s", typ, logical)
	}
	return res.URN
}

func dependsOn(res infratest.Resource, urn string) bool { return slices.Contains(res.DependsOn, urn) }

func TestDatasetsClaim(t *testing.T) {
	for _, tc := range []struct{ stack string }{{"staging"}, {"prod"}} {
		t.Run(tc.stack, func(t *testing.T) {
			rec := run(t, tc.stack, nil)
			o := layerObjects(t, rec)
			claimName := "openneuro-" + tc.stack + "-datasets"
			pvc := o.claim(t, claimName)
			equal(t, "class", *pvc.Spec.StorageClassName, "efs")
			equal(t, "access modes", pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany})
			equal(t, "size", pvc.Spec.Resources.Requests[corev1.ResourceStorage], resource.MustParse("100Gi"))
			equal(t, "namespace", pvc.Namespace, "openneuro")
			res := o.get(t, "PersistentVolumeClaim", claimName)
			assertDataClaim(t, res, "openneuro-datasets")
			for _, driver := range []string{efsDriverName, ebsDriverName} {
				if !dependsOn(res, urnOf(t, rec, "aws:eks/addon:Addon", driver)) {
					t.Errorf("the claim does not depend on %s: destroy would remove the driver first", driver)
				}
			}
			if _, ok := o["PersistentVolume/"+claimName]; ok {
				t.Error("a static volume without NFS")
			}
		})
	}
}

func TestDatasetsEdgeFSExport(t *testing.T) {
	rec := run(t, "prod", nil, infratest.WithValue("app.datasetStore", "edgefs"))
	o := layerObjects(t, rec)
	const claimName = "openneuro-prod-datasets-edgefs"
	pv := decode[corev1.PersistentVolume](t, o.get(t, "PersistentVolume", claimName))
	nfsService := rec.Find("kubernetes:core/v1:Service", "edgefs-nfs")
	clusterIP := dig(nfsService.Outputs.Mappable(), "spec", "clusterIP").(string)
	equal(t, "nfs", pv.Spec.NFS, &corev1.NFSVolumeSource{Server: clusterIP, Path: "/openneuro/datasets"})
	equal(t, "access modes", pv.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany})
	equal(t, "reclaim policy", pv.Spec.PersistentVolumeReclaimPolicy, corev1.PersistentVolumeReclaimRetain)
	equal(t, "class", pv.Spec.StorageClassName, "")
	equal(t, "mount options", pv.Spec.MountOptions, []string{"nfsvers=3", "proto=tcp", "hard", "timeo=600", "retrans=2", "lookupcache=positive"})
	equal(t, "claimRef", pv.Spec.ClaimRef, &corev1.ObjectReference{Namespace: "openneuro", Name: claimName})

	pvc := o.claim(t, claimName)
	equal(t, "claim volumeName", pvc.Spec.VolumeName, claimName)
	equal(t, "claim class (none, so no provisioner binds it)", *pvc.Spec.StorageClassName, "")
	pvRes, pvcRes := o.get(t, "PersistentVolume", claimName), o.get(t, "PersistentVolumeClaim", claimName)
	if !dependsOn(pvcRes, pvRes.URN) {
		t.Error("the claim does not depend on its volume")
	}
	if !pvRes.Protect || !pvcRes.Protect {
		t.Error("prod's datasets volume and claim are not protected")
	}
	if pvRes.RetainOnDelete || pvcRes.RetainOnDelete {
		t.Error("the EdgeFS volume and claim are retained on delete: enabling EdgeFS again after disabling it would find them in the way")
	}
	if !dependsOn(pvRes, nfsService.URN) {
		t.Error("the volume does not depend on the NFS Service whose address it mounts")
	}
}

// assertDataClaim checks that a claim is a data claim: a Patch resource of its name, retained on
// delete and not protected (Pulumi never deletes it; a Patch's protect would guard nothing), whose
// annotations skip the await and force its fields over their creator's, and, when it existed as a
// plain claim up to v0.1.0, aliased to that resource.
func assertDataClaim(t *testing.T, res infratest.Resource, logical string) {
	t.Helper()
	equal(t, logical+" type", res.Type, "kubernetes:core/v1:PersistentVolumeClaimPatch")
	equal(t, logical+" name", res.Name, logical)
	equal(t, logical+" retainOnDelete", res.RetainOnDelete, true)
	equal(t, logical+" protect", res.Protect, false)
	md, _ := res.Plain(false)["metadata"].(map[string]any)
	equal[any](t, logical+" annotations", md["annotations"], map[string]any{"pulumi.com/skipAwait": "true", "pulumi.com/patchForce": "true"})
	if strings.Contains(logical, "-disk-") {
		equal(t, logical+" aliases", res.AliasURNs, []string(nil))
		return
	}
	equal(t, logical+" alias: the plain claim it was", res.AliasURNs, []string{strings.Replace(res.URN, res.Type, "kubernetes:core/v1:PersistentVolumeClaim", 1)})
}
