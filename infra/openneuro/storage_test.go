package openneuro_test

import (
	"slices"
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
	for _, tc := range []struct {
		stack   string
		protect bool
	}{{"staging", false}, {"prod", true}} {
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
			equal(t, "protect (storage.protect)", res.Protect, tc.protect)
			equal(t, "retainOnDelete", res.RetainOnDelete, tc.protect)
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
	if !dependsOn(pvRes, nfsService.URN) {
		t.Error("the volume does not depend on the NFS Service whose address it mounts")
	}
}
