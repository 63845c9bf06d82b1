//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// testCurrentStack runs the current generation (e2e/testdata/Pulumi.current.yaml) through the
// changes the README invites: up from empty and an empty second preview, a worker disk grown, the
// disks' class changed (refused, data kept), a worker added, removed (its disk kept) and added back (its disk
// taken back), the OpenNeuro version bumped, and destroy. Each change checks the preview's
// operations, the up's, an empty preview after it, and that every claim, volume and StatefulSet is
// still the same object.
func testCurrentStack(t *testing.T) {
	const ns, release = "openneuro-current", "openneuro-current"
	st := newStack(t, filepath.Join(stackconfig.RepoRoot(), "e2e", "testdata", "Pulumi.current.yaml"),
		map[string]any{"openneuro:app": map[string]any{"version": "v5.5.0"}}, inProcess)
	before := inventory(t)

	created := st.up("up from empty")
	for k, op := range created {
		if op != "create" {
			t.Errorf("up from empty: %s is %s, want create", k, op)
		}
	}
	assertWorkloadsAvailable(t, ns)
	if got := st.outputs()["url"].Value; got != "http://current.localhost" {
		t.Errorf("output url = %v, want http://current.localhost", got)
	}
	st.previewNoChanges()
	for _, n := range []int{0, 1} {
		assertClaimSize(t, ns, openneuro.WorkerClaimName(release, n), "1Gi")
	}

	st.run("worker disk grown", func(t *testing.T) {
		st.change("app.workerDiskSize 1Gi -> 2Gi", map[string]any{"openneuro:app": map[string]any{"workerDiskSize": "2Gi"}},
			map[string]string{
				"PersistentVolumeClaimPatch openneuro-dataset-worker-disk-0": "update",
				"PersistentVolumeClaimPatch openneuro-dataset-worker-disk-1": "update",
			}, ns)
		for _, n := range []int{0, 1} {
			assertClaimSize(t, ns, openneuro.WorkerClaimName(release, n), "2Gi")
		}
		assertWorkloadsAvailable(t, ns)
	})

	// A claim's class cannot change: the API server refuses the update of a data claim (a Patch
	// resource, never replaced), in the preview already, and the up too (the Automation API skips
	// the preview; the CLI's up would stop at it). The up that failed recorded the inputs it sent,
	// so going back to the stack's class is one up that changes nothing in the cluster.
	st.run("disk class changed: refused", func(t *testing.T) {
		data := dataObjects(t, ns)
		st.tryConfig(map[string]any{"openneuro:storage": map[string]any{"blockStorageClass": "another-class"}})
		for what, out := range map[string]string{"preview": st.previewErr("preview: storage.blockStorageClass changed"),
			"up": st.upErr("update: storage.blockStorageClass changed")} {
			// Whichever data claim the engine updates first is refused: redis's or a worker's.
			refusedClaim := false
			for _, claim := range []string{openneuro.RedisClaimName(release), openneuro.WorkerClaimName(release, 0), openneuro.WorkerClaimName(release, 1)} {
				refusedClaim = refusedClaim || strings.Contains(out, `PersistentVolumeClaim "`+claim+`" is invalid`)
			}
			if !strings.Contains(out, "spec is immutable after creation") || !refusedClaim {
				t.Errorf("the %s is not refused by the API server for a data claim's new class:\n%s", what, out)
			}
		}
		assertKept(t, "a refused class change", data, dataObjects(t, ns), nil)
		st.configure(nil) // the stack's own config again
		back := st.up("update: back to the stack's class")
		for k, op := range back {
			if !strings.HasPrefix(k, "PersistentVolumeClaimPatch ") || op != "update" {
				t.Errorf("going back to the stack's class: %s %s; only the claims the failed up touched may update", k, op)
			}
		}
		st.previewNoChanges()
		assertKept(t, "going back to the stack's class", data, dataObjects(t, ns), nil)
		assertWorkloadsAvailable(t, ns)
	})

	// DATALAD_WORKERS, and every consumer of the ConfigMap rolls.
	workerCount := map[string]string{
		"StatefulSet openneuro-dataset-worker": "update",
		"Ingress openneuro-ingress":            "update",
		"ConfigMap openneuro-configmap":        "update",
		"Deployment openneuro-api":             "update",
		"Deployment openneuro-scheduler":       "update",
	}
	with := func(ops map[string]string, more map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range []map[string]string{ops, more} {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	var disk2 string
	st.run("worker added", func(t *testing.T) {
		st.change("app.workers 2 -> 3", map[string]any{"openneuro:app": map[string]any{"workers": 3}}, with(workerCount, map[string]string{
			"Service openneuro-dataset-worker-2":                         "create",
			"PersistentVolumeClaimPatch openneuro-dataset-worker-disk-2": "create",
		}), ns)
		assertWorkloadsAvailable(t, ns)
		assertClaimSize(t, ns, openneuro.WorkerClaimName(release, 2), "2Gi")
		assertIngressPaths(t, ns, "openneuro-current", map[string]string{
			"/uploads/2": "openneuro-current-dataset-worker-2", "/git/2": "openneuro-current-dataset-worker-2"})
		disk2 = dataObjects(t, ns)["PersistentVolumeClaim "+ns+"/"+openneuro.WorkerClaimName(release, 2)]
	})
	st.run("worker removed, its disk kept", func(t *testing.T) {
		st.change("app.workers 3 -> 2", map[string]any{"openneuro:app": map[string]any{"workers": 2}}, with(workerCount, map[string]string{
			"Service openneuro-dataset-worker-2":                         "delete",
			"PersistentVolumeClaimPatch openneuro-dataset-worker-disk-2": "retain",
		}), ns)
		assertWorkloadsAvailable(t, ns)
	})
	st.run("worker added back, onto its disk", func(t *testing.T) {
		st.change("app.workers 2 -> 3 again", map[string]any{"openneuro:app": map[string]any{"workers": 3}}, with(workerCount, map[string]string{
			"Service openneuro-dataset-worker-2":                         "create",
			"PersistentVolumeClaimPatch openneuro-dataset-worker-disk-2": "create",
		}), ns)
		if got := dataObjects(t, ns)["PersistentVolumeClaim "+ns+"/"+openneuro.WorkerClaimName(release, 2)]; disk2 == "" || got != disk2 {
			t.Errorf("worker 2's claim is %q, want the one it had before it was removed (%q)", got, disk2)
		}
		assertWorkloadsAvailable(t, ns)
	})

	st.run("version bump", func(t *testing.T) {
		st.change("app.version v5.5.0 -> v5.5.1", map[string]any{"openneuro:app": map[string]any{"version": "v5.5.1"}}, map[string]string{
			// The release is in the ConfigMap too; every workload runs its images.
			"ConfigMap openneuro-configmap":        "update",
			"StatefulSet openneuro-dataset-worker": "update",
			"Deployment openneuro-api":             "update",
			"Deployment openneuro-web":             "update",
			"Deployment openneuro-scheduler":       "update",
		}, ns)
		assertWorkloadsAvailable(t, ns)
	})

	st.destroy()
	assertNothingLeft(t, before, inventory(t))
}

// assertIngressPaths checks that each path of the Ingress goes to the Service given.
func assertIngressPaths(t *testing.T, ns, name string, want map[string]string) {
	t.Helper()
	ing, err := kubernetes.NewForConfigOrDie(clusterOf(t).Config).NetworkingV1().Ingresses(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, rule := range ing.Spec.Rules {
		for _, p := range rule.HTTP.Paths {
			paths[p.Path] = p.Backend.Service.Name
		}
	}
	for p, svc := range want {
		if paths[p] != svc {
			t.Errorf("ingress path %s -> %q, want %s", p, paths[p], svc)
		}
	}
}
