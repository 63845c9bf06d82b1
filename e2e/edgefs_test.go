//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// TestEdgeFSStack runs the second stack: an existing cluster with a storage pool, EdgeFS on it and
// the datasets on its NFS export. Its first up is interrupted half-way; a refresh and a second up
// must converge with nothing duplicated and nothing orphaned. Then a worker is added, the dataset
// store is switched, and the destroy must leave nothing: no namespace, volume, CRD or finalizer.
func TestEdgeFSStack(t *testing.T) {
	requireCluster(t)
	st := newStack(t, filepath.Join(stackconfig.RepoRoot(), "e2e", "testdata", "Pulumi.edgefs.yaml"), nil, inProcess)
	const ns = "openneuro-edgefs"
	before := inventory(t)

	t.Run("interrupted up converges", func(t *testing.T) {
		interruptedUp(t, st, 20)
		st.refresh()
		st.up("up again after the interruption")
		assertStateIsCluster(t, st, before)
		assertWorkloadsAvailable(t, ns)
		st.previewNoChanges()
	})

	t.Run("worker added", func(t *testing.T) {
		st.configure(map[string]any{"openneuro:app": map[string]any{"workers": 3}})
		got := st.up("update: app.workers 2 -> 3")
		want := map[string]string{
			"StatefulSet openneuro-dataset-worker": "update",
			"Service openneuro-dataset-worker-2":   "create",
			// DATALAD_WORKERS, and every consumer of the ConfigMap rolls.
			"ConfigMap openneuro-configmap":        "update",
			"Deployment openneuro-api":             "update",
			"Deployment openneuro-datalad-service": "update",
			"Deployment openneuro-beat-scheduler":  "update",
			"Deployment openneuro-flower":          "update",
		}
		assertChanges(t, "a worker added", got, want)
		assertWorkloadsAvailable(t, ns)
	})

	t.Run("dataset store switched", func(t *testing.T) {
		st.configure(map[string]any{"openneuro:app": map[string]any{"datasetStore": "storageClass"}})
		got := st.up("update: app.datasetStore edgefs -> storageClass")
		assertNoDataReplaced(t, got)
		assertWorkloadsAvailable(t, ns)
		st.previewNoChanges()
	})

	st.destroy()
	assertNothingLeft(t, before, inventory(t))
}

// interruptedUp starts an up from empty and cancels it (SIGINT to the CLI, as Ctrl-C does) once
// `after` resources have been created; the up must then fail.
func interruptedUp(t *testing.T, st *stack, after int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan events.EngineEvent)
	var once sync.Once
	done := make(chan struct{})
	created := 0
	go func() {
		defer close(done)
		for e := range ch {
			if e.ResOutputsEvent != nil && e.ResOutputsEvent.Metadata.Op == "create" {
				created++
				if created == after {
					once.Do(cancel)
				}
			}
		}
	}()
	st.step("up from empty, interrupted", func() error {
		_, err := st.s.Up(ctx, optup.EventStreams(ch))
		<-done
		if err == nil {
			t.Fatalf("the up finished (%d resources created) before it could be interrupted after %d", created, after)
		}
		t.Logf("interrupted after %d creates: %v", created, firstLine(err.Error()))
		return nil
	})
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// generated are objects the cluster makes itself in every namespace or for every claim.
func generated(o object) bool {
	switch {
	case o.Kind == "ConfigMap" && o.Name == "kube-root-ca.crt":
	case o.Kind == "ServiceAccount" && o.Name == "default":
	case o.Kind == "PersistentVolume" && o.ClaimNamespace != "":
	default:
		return false
	}
	return true
}

// assertStateIsCluster checks that the stack's state and the cluster agree: every object the
// stack added to the cluster (apart from what the cluster generates) is in the state once, and
// every Kubernetes object of the state exists.
func assertStateIsCluster(t *testing.T, st *stack, before map[string]object) {
	t.Helper()
	inState := map[string]int{}
	for _, k := range st.kubeObjects() {
		gvk, obj, _ := strings.Cut(k, " ")
		inState[gvk[strings.LastIndex(gvk, "/")+1:]+" "+obj]++
	}
	after := inventory(t)
	var orphans, missing, twice []string
	for _, o := range added(before, after) {
		if generated(o) {
			continue
		}
		key := o.key()
		if inState[key] == 0 {
			orphans = append(orphans, key)
		}
	}
	for key, n := range inState {
		if n > 1 {
			twice = append(twice, key)
		}
		if _, ok := after[key]; !ok {
			missing = append(missing, key)
		}
	}
	sort.Strings(orphans)
	sort.Strings(missing)
	if len(orphans) > 0 {
		t.Errorf("orphaned (in the cluster, not in the state): %v", orphans)
	}
	if len(missing) > 0 {
		t.Errorf("in the state but not in the cluster: %v", missing)
	}
	if len(twice) > 0 {
		t.Errorf("duplicated in the state: %v", twice)
	}
}
