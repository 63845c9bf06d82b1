//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// TestCurrentStack runs the current generation (e2e/testdata/Pulumi.current.yaml) through its life:
// up from empty, no changes on a second preview, a worker added (its Service and ingress paths
// appear, every reader of DATALAD_WORKERS rolls, nothing else changes), and destroy.
func TestCurrentStack(t *testing.T) {
	requireCluster(t)
	st := newStack(t, filepath.Join(stackconfig.RepoRoot(), "e2e", "testdata", "Pulumi.current.yaml"), nil, inProcess)
	const ns = "openneuro-current"
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

	t.Run("worker added", func(t *testing.T) {
		st.configure(map[string]any{"openneuro:app": map[string]any{"workers": 3}})
		got := st.up("update: app.workers 2 -> 3")
		assertChanges(t, "a worker added", got, map[string]string{
			"StatefulSet openneuro-dataset-worker": "update",
			"Service openneuro-dataset-worker-2":   "create",
			"Ingress openneuro-ingress":            "update",
			// DATALAD_WORKERS, and every consumer of the ConfigMap rolls.
			"ConfigMap openneuro-configmap":  "update",
			"Deployment openneuro-api":       "update",
			"Deployment openneuro-scheduler": "update",
		})
		assertNoDataReplaced(t, got)
		assertWorkloadsAvailable(t, ns)
		client := kubernetes.NewForConfigOrDie(cluster.Config)
		ctx := context.Background()
		if _, err := client.CoreV1().Services(ns).Get(ctx, "openneuro-current-dataset-worker-2", metav1.GetOptions{}); err != nil {
			t.Errorf("the new worker's Service: %v", err)
		}
		ing, err := client.NetworkingV1().Ingresses(ns).Get(ctx, "openneuro-current", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		paths := map[string]string{}
		for _, rule := range ing.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				paths[p.Path] = p.Backend.Service.Name
			}
		}
		for _, p := range []string{"/uploads/2", "/git/2"} {
			if paths[p] != "openneuro-current-dataset-worker-2" {
				t.Errorf("ingress path %s -> %q, want the new worker's Service", p, paths[p])
			}
		}
		st.previewNoChanges()
	})

	st.destroy()
	assertNothingLeft(t, before, inventory(t))
}
