//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// testEdgeFSStack runs the second stack: an existing cluster with a storage pool, EdgeFS on it and
// the datasets on its NFS export, through the procedures of the README: a first up interrupted at
// several points (Ctrl-C, and the runner lost with everything it ran) that a refresh and an up make
// converge, with nothing duplicated and nothing orphaned; the restore runbooks' stop and start of
// the dataset writers, then a worker added; the dataset store switched as "Switch the dataset store"
// does it (writers stopped, datasets copied, the store set); EdgeFS disabled and enabled again in a
// protected stack, as the EdgeFS node renewal does it; and a destroy that leaves nothing: no
// namespace, volume, CRD or finalizer.
func testEdgeFSStack(t *testing.T) {
	st := newStack(t, filepath.Join(stackconfig.RepoRoot(), "e2e", "testdata", "Pulumi.edgefs.yaml"), nil, inProcess)
	const ns, release = edgefsNamespace, "openneuro-edgefs"
	before := inventory(t)

	// Each interruption at another point of the first up; after the lost runner, the README's
	// recovery (Operations, "An interrupted up"): pulumi cancel to drop the lock it left, a refresh
	// that forgets what it was creating, then the next up creates that again, taking over what the
	// lost one had made.
	st.run("interrupted up converges", func(t *testing.T) {
		interruptedUp(t, st, 8, ctrlC)
		interruptedUp(t, st, 25, runnerLost)
		removeTornAttrs(t, st)
		// The lost CLI left its lock on the stack.
		st.step("pulumi cancel (the lost runner's lock)", func() error {
			_, err := st.s.Pulumi(context.Background(), "", "cancel", "--yes", "--stack", st.s.Name())
			return err
		})
		st.refresh()
		interruptedUp(t, st, 20, ctrlC)
		st.refresh()
		st.up("up again after the interruptions")
		assertStateIsCluster(t, st, before)
		assertWorkloadsAvailable(t, ns)
		st.previewNoChanges()
	})

	writers := map[string]int{"statefulset/" + release + "-dataset-worker": 2, "deployment/" + release + "-datalad-service": 1}
	st.run("writers stopped and started, as the restore runbooks do", func(t *testing.T) {
		data := dataObjects(t, ns)
		runScript(t, "dataset-writers.sh", "stop", ns, release)
		assertReplicas(t, map[string]int{"statefulset/" + release + "-dataset-worker": 0, "deployment/" + release + "-datalad-service": 0})
		runScript(t, "dataset-writers.sh", "start", ns, release)
		assertReplicas(t, writers)
		assertWorkloadsAvailable(t, ns)
		st.previewNoChanges()
		assertKept(t, "a stop and start of the writers", data, dataObjects(t, ns), nil)
	})

	st.run("worker added", func(t *testing.T) {
		// The up after the runbook: kubectl's scale owns spec.replicas of both writers now. And the
		// field this change sets is shared with another apply manager, as one a lost up leaves on
		// what it created before it could record it (the next up creates it under a manager of
		// its own): whether the lost runner above hit the ConfigMap or not, the up must take it.
		shareWithLostManager(t, ns, "openneuro-edgefs-configmap", "DATALAD_WORKERS")
		st.change("app.workers 2 -> 3", map[string]any{"openneuro:app": map[string]any{"workers": 3}}, map[string]string{
			"StatefulSet openneuro-dataset-worker": "update",
			"Service openneuro-dataset-worker-2":   "create",
			// DATALAD_WORKERS, and every consumer of the ConfigMap rolls.
			"ConfigMap openneuro-configmap":        "update",
			"Deployment openneuro-api":             "update",
			"Deployment openneuro-datalad-service": "update",
			"Deployment openneuro-beat-scheduler":  "update",
			"Deployment openneuro-flower":          "update",
		}, ns)
		writers["statefulset/"+release+"-dataset-worker"] = 3
		assertReplicas(t, writers)
		assertWorkloadsAvailable(t, ns)
	})

	st.run("dataset store switched, as the README does it", func(t *testing.T) {
		runScript(t, "dataset-writers.sh", "stop", ns, release)
		runScript(t, "copy-datasets.sh", ns, release, release+"-datasets-edgefs", release+"-datasets")
		st.change("app.datasetStore edgefs -> storageClass", map[string]any{"openneuro:app": map[string]any{"datasetStore": "storageClass"}},
			map[string]string{
				"StatefulSet openneuro-dataset-worker": "update",
				"Deployment openneuro-datalad-service": "update",
			}, ns)
		// The up brought the writers back at their configured counts, over kubectl's 0.
		assertReplicas(t, writers)
		assertWorkloadsAvailable(t, ns)
	})

	st.run("EdgeFS disabled and enabled again, protected", func(t *testing.T) {
		st.change("storage.protect true", map[string]any{"openneuro:storage": map[string]any{"protect": true}}, nil, ns)
		data := dataObjects(t, ns)
		st.configure(map[string]any{"openneuro:edgefs": map[string]any{"enabled": false}})
		if refused := st.previewErr("preview: edgefs.enabled false, protected"); !strings.Contains(refused, "because it is protected") {
			t.Errorf("the preview does not refuse to delete what is protected:\n%s", refused)
		}
		// The README's step 2: unprotect EdgeFS's resources, then up.
		runScriptIn(t, st.s.WorkDir, st.s.Env, "unprotect-edgefs.sh", st.s.Name())
		disabled := st.up("update: edgefs.enabled false")
		assertNoDataReplaced(t, onlyOutside(disabled, "edgefs-", "openneuro-datasets-edgefs"))
		st.previewNoChanges()
		assertKept(t, "EdgeFS disabled", data, dataObjects(t, ns), func(key string) bool {
			return strings.Contains(key, "-datasets-edgefs") || strings.HasPrefix(key, "Cluster ")
		})
		st.change("edgefs.enabled true again", map[string]any{"openneuro:edgefs": map[string]any{"enabled": true}}, nil, ns)
		assertWorkloadsAvailable(t, ns)
		st.change("storage.protect false", map[string]any{"openneuro:storage": map[string]any{"protect": false}}, nil, ns)
	})

	st.destroy()
	assertNothingLeft(t, before, inventory(t))
}

// shareWithLostManager applies one key of a ConfigMap, at the value it has, under a field manager
// no later up uses, as a lost up's manager holds the fields of what it created.
func shareWithLostManager(t *testing.T, ns, name, key string) {
	t.Helper()
	client := kubernetes.NewForConfigOrDie(clusterOf(t).Config)
	ctx := context.Background()
	cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	value, ok := cm.Data[key]
	if !ok {
		t.Fatalf("ConfigMap %s/%s has no %s", ns, name, key)
	}
	apply := corev1apply.ConfigMap(name, ns).WithData(map[string]string{key: value})
	if _, err := client.CoreV1().ConfigMaps(ns).Apply(ctx, apply, metav1.ApplyOptions{FieldManager: "pulumi-kubernetes-lost"}); err != nil {
		t.Fatalf("apply %s of ConfigMap %s/%s as another manager: %v", key, ns, name, err)
	}
}

// edgefsNamespace is the EdgeFS stack's app.namespace (e2e/testdata/Pulumi.edgefs.yaml).
const edgefsNamespace = "openneuro-edgefs"

// assertReplicas checks the replicas of the EdgeFS stack's workloads ("statefulset/<name>" or
// "deployment/<name>").
func assertReplicas(t *testing.T, want map[string]int) {
	const ns = edgefsNamespace
	t.Helper()
	client := kubernetes.NewForConfigOrDie(clusterOf(t).Config)
	ctx := context.Background()
	for w, n := range want {
		kind, name, _ := strings.Cut(w, "/")
		var got *int32
		switch kind {
		case "statefulset":
			s, err := client.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got = s.Spec.Replicas
		case "deployment":
			d, err := client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got = d.Spec.Replicas
		}
		switch {
		case got == nil:
			t.Errorf("%s sets no replicas, want %d", w, n)
		case int(*got) != n:
			t.Errorf("%s runs %d replicas, want %d", w, *got, n)
		}
	}
}

// interruption is how an up is stopped half-way.
type interruption int

const (
	// ctrlC is a SIGINT to the CLI (what Ctrl-C or a cancelled job sends): it stops starting
	// steps, finishes those in flight and records them.
	ctrlC interruption = iota
	// runnerLost kills the CLI and everything it started (SIGKILL to its process group), as a lost
	// CI runner does: steps in flight are neither finished nor recorded, and the state keeps them as
	// pending creates.
	runnerLost
)

// interruptedUp starts an up and interrupts it once `after` resources have been created by it; the
// up must then fail.
func interruptedUp(t *testing.T, st *stack, after int, how interruption) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan events.EngineEvent)
	var once sync.Once
	done := make(chan struct{})
	created := 0
	var killErr error
	go func() {
		defer close(done)
		for e := range ch {
			if e.ResOutputsEvent != nil && e.ResOutputsEvent.Metadata.Op == "create" {
				created++
				if created == after {
					once.Do(func() {
						if how == runnerLost {
							if killErr = killCLI(st.s.Name(), "up"); killErr == nil {
								return
							}
						}
						cancel()
					})
				}
			}
		}
	}()
	what := map[interruption]string{ctrlC: "Ctrl-C", runnerLost: "runner lost"}[how]
	st.step(fmt.Sprintf("up, interrupted (%s) after %d creates", what, after), func() error {
		_, err := st.s.Up(ctx, optup.EventStreams(ch))
		if err == nil {
			return fmt.Errorf("the up finished before it could be interrupted after %d creates", after)
		}
		// The events end when the CLI closes their stream; one that failed before it opened it
		// never does.
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("the up failed before it was interrupted: %w", err)
		}
		if killErr != nil {
			return fmt.Errorf("kill the CLI: %w", killErr)
		}
		if created < after {
			return fmt.Errorf("the up failed after %d creates, before it was interrupted: %w", created, err)
		}
		t.Logf("interrupted after %d creates: %v", created, firstLine(err.Error()))
		return nil
	})
}

// removeTornAttrs follows the README's advice for a file backend after a lost runner: the blob
// library writes a state file's metadata (<file>.attrs) in place, not through a temporary file as
// the state itself, so a kill in that moment leaves it empty and every command fails with "failed
// to load checkpoint: EOF". An empty one is deleted (the library reads a missing one as none).
func removeTornAttrs(t *testing.T, st *stack) {
	t.Helper()
	root := filepath.Join(strings.TrimPrefix(st.s.Env["PULUMI_BACKEND_URL"], "file://"), ".pulumi")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".attrs") {
			return err
		}
		if info, err := d.Info(); err != nil || info.Size() > 0 {
			return err
		}
		t.Logf("the lost runner left %s empty: deleted, as the README says", filepath.Base(path))
		return os.Remove(path)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// onlyOutside drops the operations on resources whose logical name starts with one of prefixes.
func onlyOutside(ops map[string]string, prefixes ...string) map[string]string {
	out := map[string]string{}
	for k, op := range ops {
		_, name, _ := strings.Cut(k, " ")
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			out[k] = op
		}
	}
	return out
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
