//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// dataKinds are the kinds of resource (as resKey names them) whose replacement or deletion loses
// data: claims (plain or patched), volumes, StatefulSets (the workers' mount their disks, redis
// its claim), namespaces (deleting one deletes its claims), the EdgeFS Cluster and its CRD.
var dataKinds = []string{"PersistentVolumeClaim ", "PersistentVolumeClaimPatch ", "PersistentVolume ", "StatefulSet ",
	"Namespace ", "Cluster ", "CustomResourceDefinition "}

// assertNoDataReplaced fails on a replacement or a deletion of a data-holding resource among the
// operations of a preview or an up; "retain" (Pulumi forgets, the object stays) is fine.
func assertNoDataReplaced(t *testing.T, ops map[string]string) {
	t.Helper()
	for k, op := range ops {
		for _, d := range dataKinds {
			if strings.HasPrefix(k, d) && (op == "replace" || op == "delete") {
				t.Errorf("%s: %s; it holds data", k, op)
			}
		}
	}
}

var edgefsClusters = schema.GroupVersionResource{Group: "edgefs.rook.io", Version: "v1", Resource: "clusters"}

// dataObjects are the objects in the cluster that hold data, "<Kind> <namespace>/<name>" -> UID:
// the namespaces given, and in them every claim and StatefulSet; every volume bound to one of those
// claims; every EdgeFS Cluster.
func dataObjects(t *testing.T, namespaces ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	client := kubernetes.NewForConfigOrDie(clusterOf(t).Config)
	out := map[string]string{}
	ours := map[string]bool{}
	for _, ns := range namespaces {
		ours[ns] = true
		if n, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
			out["Namespace /"+ns] = string(n.UID)
		}
		claims, err := client.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range claims.Items {
			out["PersistentVolumeClaim "+ns+"/"+c.Name] = string(c.UID)
		}
		sets, err := client.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sets.Items {
			out["StatefulSet "+ns+"/"+s.Name] = string(s.UID)
		}
	}
	pvs, err := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pv := range pvs.Items {
		if ref := pv.Spec.ClaimRef; ref != nil && ours[ref.Namespace] {
			out["PersistentVolume /"+pv.Name+" (claim "+ref.Namespace+"/"+ref.Name+")"] = string(pv.UID)
		}
	}
	if crs, err := dynamic.NewForConfigOrDie(clusterOf(t).Config).Resource(edgefsClusters).List(ctx, metav1.ListOptions{}); err == nil {
		for _, c := range crs.Items {
			out["Cluster "+c.GetNamespace()+"/"+c.GetName()] = string(c.GetUID())
		}
	}
	return out
}

// assertKept checks that every data object of before is still there, the same object (its UID),
// except those gone(key) allows to go.
func assertKept(t *testing.T, what string, before, after map[string]string, gone func(key string) bool) {
	t.Helper()
	var lost []string
	for key, uid := range before {
		if gone != nil && gone(key) {
			continue
		}
		switch now, ok := after[key]; {
		case !ok:
			lost = append(lost, key+": deleted")
		case now != uid:
			lost = append(lost, fmt.Sprintf("%s: a new object (uid %s, was %s)", key, now, uid))
		}
	}
	sort.Strings(lost)
	if len(lost) > 0 {
		t.Errorf("%s lost data:\n  %s", what, strings.Join(lost, "\n  "))
	}
}

// change is one change of an operator's: the config changes, a preview that must plan exactly
// want (the operations of resources that change; nil: whatever they are), the up, which must do the
// same, an empty preview after it, and, in both, no data-holding resource replaced or deleted and
// every data object of the namespaces kept.
func (st *stack) change(what string, config map[string]any, want map[string]string, namespaces ...string) {
	st.t.Helper()
	before := dataObjects(st.t, namespaces...)
	st.configure(config)
	planned := st.preview("preview: " + what)
	assertNoDataReplaced(st.t, planned)
	done := st.up("update: " + what)
	assertNoDataReplaced(st.t, done)
	if want != nil {
		assertChanges(st.t, what+" (preview)", planned, want)
		assertChanges(st.t, what, done, want)
	} else {
		assertChanges(st.t, what+" (the up against its preview)", done, planned)
	}
	st.previewNoChanges()
	assertKept(st.t, what, before, dataObjects(st.t, namespaces...), nil)
}

// waitFor polls check until it returns nil or a minute has passed, and fails with its last error.
func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if err = check(); err == nil {
			return
		}
	}
	t.Errorf("%s: %v", what, err)
}

// kubectl runs kubectl on the test's simulated cluster, as a runbook's step, and fails the test
// with its output when it fails.
func kubectl(t *testing.T, args ...string) {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+clusterOf(t).Kubeconfig)
	out, err := cmd.CombinedOutput()
	t.Logf("%-58s %6.1fs", "kubectl "+strings.Join(args, " "), time.Since(start).Seconds())
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// runScript runs one of the repository's scripts (the runbooks' steps) with the simulated
// cluster's kubeconfig, and fails the test with its output when it fails.
func runScript(t *testing.T, name string, args ...string) {
	t.Helper()
	runScriptIn(t, "", nil, name, args...)
}

// runScriptIn runs a script in dir with env added, as an operator runs it in a stack's project
// folder with the stack's backend and passphrase.
func runScriptIn(t *testing.T, dir string, env map[string]string, name string, args ...string) {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(filepath.Join(stackconfig.RepoRoot(), "scripts", name), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+clusterOf(t).Kubeconfig)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	t.Logf("%-58s %6.1fs", "scripts/"+name+" "+strings.Join(args, " "), time.Since(start).Seconds())
	if err != nil {
		t.Fatalf("scripts/%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
