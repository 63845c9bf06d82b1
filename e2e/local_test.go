//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/openneuro/openneuro-infra/internal/sim"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// testLocalStack runs the quick start's stack (Pulumi.local.yaml) through its life: up from empty,
// no changes on a second preview, the updates operators make, bad input, and destroy.
func testLocalStack(t *testing.T) {
	st := newStack(t, filepath.Join(stackconfig.RepoRoot(), "Pulumi.local.yaml"), map[string]any{
		// v3.14.0 (2020-05-04, the EKS deployment's tag), so that the version bump below goes to the
		// default v3.14.2.
		"openneuro:app": map[string]any{"version": "v3.14.0"},
	}, viaCLI)
	before := inventory(t)

	created := st.up("up from empty")
	state := st.kubeObjects()
	if len(created) == 0 || len(created) < len(state) {
		t.Fatalf("up created %d resources, the state holds %d Kubernetes objects", len(created), len(state))
	}
	for k, op := range created {
		if op != "create" {
			t.Errorf("up from empty: %s is %s, want create", k, op)
		}
	}
	assertWorkloadsAvailable(t, "openneuro")
	out := st.outputs()
	if got := out["url"].Value; got != "http://openneuro.localhost" {
		t.Errorf("output url = %v, want http://openneuro.localhost", got)
	}
	if got := out["loadBalancerHostname"].Value; got != sim.IngressHostname {
		t.Errorf("output loadBalancerHostname = %v, want %s (the Ingress status)", got, sim.IngressHostname)
	}
	assertOnlyInNamespaces(t, before, inventory(t), []string{"openneuro"}, state)

	st.previewNoChanges()

	// The workloads that read the application ConfigMap and Secret through envFrom.
	envConsumers := map[string]string{
		"Deployment openneuro-api": "update", "Deployment openneuro-datalad-service": "update",
		"StatefulSet openneuro-dataset-worker": "update", "Deployment openneuro-beat-scheduler": "update",
		"Deployment openneuro-flower": "update",
	}

	t.Run("version bump", func(t *testing.T) {
		st.configure(map[string]any{"openneuro:app": map[string]any{"version": "v3.14.2"}})
		got := st.up("update: app.version v3.14.0 -> v3.14.2")
		assertNoDataReplaced(t, got)
		for _, k := range []string{"Deployment openneuro-api", "Deployment openneuro-web", "Deployment openneuro-datalad-service",
			"StatefulSet openneuro-dataset-worker", "Deployment openneuro-beat-scheduler", "Deployment openneuro-flower"} {
			if got[k] != "update" {
				t.Errorf("%s: %q, want update (its image changes)", k, got[k])
			}
		}
		for k, op := range got {
			if op != "update" {
				t.Errorf("%s: %s; a version bump only updates", k, op)
			}
		}
		assertWorkloadsAvailable(t, "openneuro")
	})

	t.Run("secret rotated", func(t *testing.T) {
		st.step("rotate JWT_SECRET", func() error {
			return st.s.LoadSecrets(context.Background(), []byte("JWT_SECRET: \"rotated-for-the-e2e-test\"\n"))
		})
		got := st.up("update: one secret rotated")
		want := map[string]string{"Secret openneuro-secret": "update"}
		for k, op := range envConsumers {
			want[k] = op
		}
		assertChanges(t, "a secret rotation", got, want)
		assertWorkloadsAvailable(t, "openneuro")
	})

	t.Run("configmap value", func(t *testing.T) {
		st.configure(map[string]any{"openneuro:app": map[string]any{"googleTrackingId": "G-E2ETEST"}})
		got := st.up("update: a ConfigMap value (app.googleTrackingId)")
		want := map[string]string{"ConfigMap openneuro-configmap": "update"}
		for k, op := range envConsumers {
			want[k] = op
		}
		assertChanges(t, "a ConfigMap value", got, want)
	})

	st.run("redis volume grows", func(t *testing.T) {
		st.change("app.redis.size 1Gi -> 2Gi", map[string]any{"openneuro:app": map[string]any{"redis": map[string]any{"size": "2Gi"}}},
			map[string]string{"PersistentVolumeClaimPatch openneuro-redis-data": "update"}, "openneuro")
		assertClaimSize(t, "openneuro", "openneuro-local-redis-data", "2Gi")
	})

	// A change that drops a field: the broker's data volume goes from its claim to an emptyDir and
	// back (one volume, two sources). With the fields of an object created client-side (the provider
	// since v4.29) still owned by the create, the preview would send both sources and fail ("may not
	// specify more than 1 volume type"); the claim is kept while redis runs without it, and taken
	// back.
	st.run("redis persistence off and on", func(t *testing.T) {
		claim := dataObjects(t, "openneuro")["PersistentVolumeClaim openneuro/openneuro-local-redis-data"]
		st.change("app.redis.persistence false", map[string]any{"openneuro:app": map[string]any{"redis": map[string]any{"persistence": false}}},
			map[string]string{"StatefulSet openneuro-redis": "update", "PersistentVolumeClaimPatch openneuro-redis-data": "retain"}, "openneuro")
		st.change("app.redis.persistence true", map[string]any{"openneuro:app": map[string]any{"redis": map[string]any{"persistence": true}}},
			map[string]string{"StatefulSet openneuro-redis": "update", "PersistentVolumeClaimPatch openneuro-redis-data": "create"}, "openneuro")
		if got := dataObjects(t, "openneuro")["PersistentVolumeClaim openneuro/openneuro-local-redis-data"]; claim == "" || got != claim {
			t.Errorf("redis's claim is %q after persistence came back, want the one it had (%q)", got, claim)
		}
		assertWorkloadsAvailable(t, "openneuro")
	})

	// The end of README "Restore from a backup" when the file system is gone: the datasets claim
	// points at what is lost, so the operator stops the writers, deletes the claim with kubectl
	// (Pulumi never deletes a data claim), and pulumi up --refresh makes it anew and brings the
	// writers back at their counts over kubectl's 0.
	st.run("datasets claim made anew, as a restore onto a new file system does", func(t *testing.T) {
		const ns, release = "openneuro", "openneuro-local"
		key := "PersistentVolumeClaim " + ns + "/" + release + "-datasets"
		old := dataObjects(t, ns)[key]
		runScript(t, "dataset-writers.sh", "stop", ns, release)
		kubectl(t, "-n", ns, "delete", "pvc", release+"-datasets", "--wait=true", "--timeout=60s")
		done := st.upRefresh("up --refresh: the datasets claim made anew")
		assertNoDataReplaced(t, done)
		assertChanges(t, "the claim made anew", done, map[string]string{
			"PersistentVolumeClaimPatch openneuro-datasets": "create",
			"StatefulSet openneuro-dataset-worker":          "update",
			"Deployment openneuro-datalad-service":          "update",
		})
		if now := dataObjects(t, ns)[key]; now == "" || now == old {
			t.Errorf("the datasets claim is %q after the up, want a new one (the old was %q)", now, old)
		}
		assertWorkloadsAvailable(t, ns)
		st.previewNoChanges()
	})

	t.Run("bad input", func(t *testing.T) {
		before := inventory(t)
		st.tryConfig(map[string]any{"openneuro:app": map[string]any{"workers": 0, "hostname": "not a hostname", "redis": map[string]any{"size": "lots"}}})
		out := st.upErr("update with three config errors")
		for _, want := range []string{
			"app.workers: is 0; it must be at least 1",
			`app.hostname: "not a hostname" is not a valid DNS hostname`,
			`app.redis.size: "lots" is not a Kubernetes quantity`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the refused update does not list %q:\n%s", want, out)
			}
		}
		if diff := added(before, inventory(t)); len(diff) > 0 {
			t.Errorf("a refused update created objects: %v", diff)
		}
		// Back to the last good config: nothing to do.
		st.configure(map[string]any{"openneuro:app": map[string]any{"redis": map[string]any{"size": "2Gi"}}})
		st.previewNoChanges()
	})

	st.destroy()
	assertNothingLeft(t, before, inventory(t))
}

// assertWorkloadsAvailable checks that every Deployment and StatefulSet of the namespace gets all
// its replicas ready and up to date within a minute of the up: the provider's await can report
// success on a status the controller has not updated yet, so the test waits for the rollout
// itself.
func assertWorkloadsAvailable(t *testing.T, namespace string) {
	t.Helper()
	client := kubernetes.NewForConfigOrDie(clusterOf(t).Config)
	ctx := context.Background()
	var problems []string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		problems = nil
		deps, err := client.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sets, err := client.AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(deps.Items)+len(sets.Items) == 0 {
			t.Fatalf("no workloads in namespace %s", namespace)
		}
		for _, d := range deps.Items {
			want := *d.Spec.Replicas
			if d.Status.ObservedGeneration != d.Generation || d.Status.AvailableReplicas != want || d.Status.UpdatedReplicas != want || d.Status.Replicas != want {
				problems = append(problems, fmt.Sprintf("Deployment %s/%s: %d available, %d updated, %d in all, want %d",
					namespace, d.Name, d.Status.AvailableReplicas, d.Status.UpdatedReplicas, d.Status.Replicas, want))
			}
		}
		for _, s := range sets.Items {
			if s.Status.ObservedGeneration != s.Generation || !statefulSetReady(s) {
				problems = append(problems, fmt.Sprintf("StatefulSet %s/%s: %d ready, %d updated of %d",
					namespace, s.Name, s.Status.ReadyReplicas, s.Status.UpdatedReplicas, *s.Spec.Replicas))
			}
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		logPodsAndNodes(t, client, namespace)
	}
}

// logPodsAndNodes logs why workloads are not available: each pod's phase, node and conditions,
// and each node's Ready condition (a fake node whose heartbeat lags becomes NotReady, and its pods
// unready, when the machine is overloaded).
func logPodsAndNodes(t *testing.T, client kubernetes.Interface, namespace string) {
	t.Helper()
	ctx := context.Background()
	pods, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("list pods: %v", err)
		return
	}
	for _, p := range pods.Items {
		var conds []string
		for _, c := range p.Status.Conditions {
			conds = append(conds, fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Reason))
		}
		t.Logf("pod %s: %s on %q deleting=%v [%s]", p.Name, p.Status.Phase, p.Spec.NodeName,
			p.DeletionTimestamp != nil, strings.Join(conds, ", "))
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("list nodes: %v", err)
		return
	}
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				t.Logf("node %s: Ready=%s since %s (%s)", n.Name, c.Status, c.LastTransitionTime.Format(time.RFC3339), c.Reason)
			}
		}
	}
}

func statefulSetReady(s appsv1.StatefulSet) bool {
	want := *s.Spec.Replicas
	return s.Status.ReadyReplicas == want && s.Status.UpdatedReplicas == want && s.Status.CurrentRevision == s.Status.UpdateRevision
}

// assertOnlyInNamespaces checks that every object the up added lives in the stack's namespaces, or
// is a cluster-scoped object of the stack's state, or a volume bound to a claim of those namespaces.
func assertOnlyInNamespaces(t *testing.T, before, after map[string]object, namespaces, state []string) {
	t.Helper()
	ours := map[string]bool{}
	for _, ns := range namespaces {
		ours[ns] = true
	}
	inState := map[string]bool{}
	for _, k := range state {
		// "<apiVersion>/<Kind> <ns>/<name>" -> "<Kind> <ns>/<name>"
		gvk, obj, _ := strings.Cut(k, " ")
		inState[gvk[strings.LastIndex(gvk, "/")+1:]+" "+obj] = true
	}
	for _, o := range added(before, after) {
		switch {
		case o.Namespace != "" && ours[o.Namespace]:
		case o.Kind == "Namespace" && ours[o.Name]:
		case o.Kind == "PersistentVolume" && ours[o.ClaimNamespace]:
		case o.Namespace == "" && inState[o.key()]:
		default:
			t.Errorf("%s was created outside the program's namespaces %v and is not in its state", o.key(), namespaces)
		}
	}
}

// assertClaimSize checks a claim's request and the capacity its volume reports.
func assertClaimSize(t *testing.T, namespace, name, size string) {
	t.Helper()
	client := kubernetes.NewForConfigOrDie(clusterOf(t).Config)
	pvc, err := client.CoreV1().PersistentVolumeClaims(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pvc.Spec.Resources.Requests.Storage().String(); got != size {
		t.Errorf("claim %s requests %s, want %s", name, got, size)
	}
	if got := pvc.Status.Capacity.Storage().String(); got != size {
		t.Errorf("claim %s has capacity %s, want %s (resized in place)", name, got, size)
	}
}

// assertNothingLeft checks that a destroy removed everything the stack created: the inventory is
// what it was before the first up, and nothing is stuck terminating.
func assertNothingLeft(t *testing.T, before, after map[string]object) {
	t.Helper()
	for _, o := range added(before, after) {
		t.Errorf("left after destroy: %s (finalizers %v, terminating %v)", o.key(), o.Finalizers, o.Terminating)
	}
	for _, o := range after {
		if o.Terminating {
			t.Errorf("stuck terminating after destroy: %s (finalizers %v)", o.key(), o.Finalizers)
		}
	}
}
