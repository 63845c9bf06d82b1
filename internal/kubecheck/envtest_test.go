package kubecheck

// Tier 3: every object of every stack goes to a real kube-apiserver, started
// with envtest from the binaries scripts/tools.sh builds.

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// fieldManager owns the fields the tests apply.
const fieldManager = "openneuro-test"

// testEnv is the package run's one API server. The first test that needs it starts it (so
// `go test -run TestRules` costs no start-up) and TestMain stops it.
var testEnv struct {
	once sync.Once
	env  *envtest.Environment
	api  *apiServer
	skip string // why the binaries are not there
	err  error
}

func TestMain(m *testing.M) {
	// envtest logs through controller-runtime, which warns with a stack trace when no logger is set.
	ctrllog.SetLogger(logr.Discard())
	code := m.Run()
	if testEnv.env != nil {
		if err := testEnv.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "kubecheck: stop envtest:", err)
		}
	}
	os.Exit(code)
}

// apiServerFor returns the running API server. Without the binaries it skips the test, except with
// CI=true, where tier 3 must run and a missing binary fails.
func apiServerFor(t *testing.T) *apiServer {
	t.Helper()
	testEnv.once.Do(startAPIServer)
	switch {
	case testEnv.skip != "" && os.Getenv("CI") == "true":
		t.Fatalf("%s (CI=true: the API server tests must run)", testEnv.skip)
	case testEnv.skip != "":
		t.Skip(testEnv.skip)
	case testEnv.err != nil:
		t.Fatalf("start envtest: %v", testEnv.err)
	}
	return testEnv.api
}

func startAPIServer() {
	dir, err := assetsDir()
	if err != nil {
		testEnv.err = err
		return
	}
	var missing []string
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if info, err := os.Stat(filepath.Join(dir, bin)); err != nil || info.Mode()&0o111 == 0 {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		testEnv.skip = fmt.Sprintf("envtest binaries %s not in %s: run the README's test command `make test`, "+
			"which builds them (scripts/tools.sh), or set KUBEBUILDER_ASSETS", strings.Join(missing, " and "), dir)
		return
	}
	start := time.Now()
	testEnv.env = &envtest.Environment{
		BinaryAssetsDirectory: dir,
		// The default 20s is tight on 2 busy cores.
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := testEnv.env.Start()
	if err != nil {
		testEnv.err = err
		return
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		testEnv.err = err
		return
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		testEnv.err = err
		return
	}
	testEnv.api = &apiServer{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}
	fmt.Fprintf(os.Stderr, "kubecheck: envtest (%s) started in %s\n", dir, time.Since(start).Round(time.Millisecond))
}

// assetsDir is where etcd and kube-apiserver are: $KUBEBUILDER_ASSETS when set, else the cache
// folder of scripts/tools.sh for the pinned Kubernetes version.
func assetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	version, err := pinnedVersion("KUBERNETES_VERSION")
	if err != nil {
		return "", err
	}
	cache := os.Getenv("OPENNEURO_TOOLS_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the tools cache: %w", err)
		}
		cache = filepath.Join(home, ".cache", "openneuro-infra")
	}
	return filepath.Join(cache, "envtest", "k8s-"+version), nil
}

// pinnedVersion reads one KEY=value of scripts/tool-versions.env, the single place the version is set.
func pinnedVersion(key string) (string, error) {
	path := filepath.Join(stackconfig.RepoRoot(), "scripts", "tool-versions.env")
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read pinned versions: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), key+"="); ok {
			return v, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return "", fmt.Errorf("%s: no %s=", path, key)
}

// apiServer sends objects to the envtest API server.
type apiServer struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

var crdResource = apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")

// validate sends one stack's objects to the API server and returns one line per rejected object.
// Namespaces and CRDs are applied for real, since namespaced objects need their namespace and custom
// resources their CRD; everything else is sent with server-side apply and dryRun=All, so the API
// server's own validation (and admission) judges it without storing it. Namespaces and CRDs of a
// stack stay for the next stacks, as they would on a cluster that ran both; stacks run in order.
func (s *apiServer) validate(ctx context.Context, objs []map[string]any) []string {
	var problems []string
	reject := func(u *unstructured.Unstructured, err error) {
		problems = append(problems, objectID(u)+": "+err.Error())
	}
	var crds, rest []*unstructured.Unstructured
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: o}
		switch u.GroupVersionKind().GroupKind().String() {
		case "Namespace":
			if err := s.apply(ctx, u, false); err != nil {
				reject(u, err)
			}
		case "CustomResourceDefinition.apiextensions.k8s.io":
			crds = append(crds, u)
		default:
			rest = append(rest, u)
		}
	}
	for _, u := range crds {
		if err := s.apply(ctx, u, false); err != nil {
			reject(u, err)
		} else if err := s.waitServed(ctx, u.GetName()); err != nil {
			reject(u, err)
		}
	}
	for _, u := range rest {
		if err := s.apply(ctx, u, true); err != nil {
			reject(u, err)
		}
	}
	return problems
}

// apply sends u with server-side apply, as the Pulumi provider does with enableServerSideApply.
func (s *apiServer) apply(ctx context.Context, u *unstructured.Unstructured, dryRun bool) error {
	gvk := u.GroupVersionKind()
	m, err := s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("the API server does not serve %s: it is not built in and no CustomResourceDefinition of the stack defines it", gvk)
	}
	if err != nil {
		return fmt.Errorf("map %s: %w", gvk, err)
	}
	var r dynamic.ResourceInterface = s.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		r = s.dyn.Resource(m.Resource).Namespace(namespace(u))
	}
	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = r.Apply(ctx, u.GetName(), u, opts)
	return err
}

// waitServed waits until the CRD is established and its kind is in discovery, so its custom
// resources can be sent.
func (s *apiServer) waitServed(ctx context.Context, name string) error {
	var crd apiextensionsv1.CustomResourceDefinition
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := s.dyn.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(got.Object, &crd); err != nil {
			return false, err
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.NamesAccepted && c.Status == apiextensionsv1.ConditionFalse {
				return false, fmt.Errorf("names not accepted: %s", c.Message)
			}
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("wait until established: %w", err)
	}
	// Discovery follows the Established condition shortly after; the mapper caches it until Reset.
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		s.mapper.Reset()
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			_, err := s.mapper.RESTMapping(schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}, v.Name)
			if err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}

// stackRuns caches each stack's objects: the rules and the API server tests share one run.
var stackRuns = struct {
	sync.Mutex
	objs map[string][]map[string]any
}{objs: map[string][]map[string]any{}}

// currentGeneration names, for stackObjects, infratest.CurrentStack moved to the current
// generation (infratest.Current): no committed stack runs it yet.
const currentGeneration = "current generation"

// stackObjects runs the program for the stack (or currentGeneration) under mocks and returns every
// Kubernetes object it would apply, with the harness's placeholder secrets in clear (valid values
// for the API server).
func stackObjects(t *testing.T, stack string) []map[string]any {
	t.Helper()
	stackRuns.Lock()
	defer stackRuns.Unlock()
	key := stack
	if objs, ok := stackRuns.objs[key]; ok {
		return objs
	}
	var opts []infratest.Option
	if stack == currentGeneration {
		stack, opts = infratest.CurrentStack, infratest.Current()
	}
	rec, err := infratest.RunStack(stack, opts...)
	if err != nil {
		t.Fatalf("run stack %s: %v", stack, err)
	}
	var objs []map[string]any
	for _, m := range rec.Manifests(false) {
		objs = append(objs, m.Object)
	}
	stackRuns.objs[key] = objs
	return objs
}

func allStacks(t *testing.T) []string {
	t.Helper()
	stacks, err := stackconfig.Stacks()
	if err != nil || len(stacks) == 0 {
		t.Fatalf("list stacks: %v (found %d)", err, len(stacks))
	}
	return stacks
}

func TestStacksDecodeStrictly(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			var problems []string
			for _, o := range stackObjects(t, stack) {
				if _, _, err := DecodeStrict(o); err != nil {
					problems = append(problems, objectID(&unstructured.Unstructured{Object: o})+": "+err.Error())
				}
			}
			if len(problems) > 0 {
				t.Errorf("%d objects do not decode into their k8s.io/api types:\n%s", len(problems), strings.Join(problems, "\n"))
			}
		})
	}
}

func TestStacksAgainstAPIServer(t *testing.T) {
	stacks := allStacks(t)
	api := apiServerFor(t)
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			objs := stackObjects(t, stack)
			problems := api.validate(t.Context(), objs)
			if len(problems) > 0 {
				t.Errorf("the API server rejected %d of %d objects:\n%s", len(problems), len(objs), strings.Join(problems, "\n"))
			}
			t.Logf("%d objects sent", len(objs))
		})
	}
}

// readObjects parses multi-document YAML into objects, integers as int64 like the harness's.
func readObjects(t *testing.T, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, doc := range strings.Split(text, "\n---\n") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		if string(j) == "null" {
			continue
		}
		var u unstructured.Unstructured
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatalf("fixture: %v", err)
		}
		out = append(out, u.Object)
	}
	return out
}

func validFixture(t *testing.T) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return readObjects(t, string(data))
}

func TestAPIServerAcceptsValidFixture(t *testing.T) {
	api := apiServerFor(t)
	objs := validFixture(t)
	if problems := api.validate(t.Context(), objs); len(problems) > 0 {
		t.Errorf("the API server rejected the valid fixture:\n%s", strings.Join(problems, "\n"))
	}
}

// TestAPIServerRejectsBrokenObjects shows that a broken object fails with the API server's message.
func TestAPIServerRejectsBrokenObjects(t *testing.T) {
	api := apiServerFor(t)
	// The namespace and the CRD of the valid fixture, which the broken objects need.
	var base []map[string]any
	for _, o := range validFixture(t) {
		if k := o["kind"]; k == "Namespace" || k == "CustomResourceDefinition" {
			base = append(base, o)
		}
	}
	for _, tc := range []struct {
		name, object, want string
	}{{
		name: "deployment selector does not match template labels",
		object: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken, namespace: kubecheck-demo}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c, image: busybox:1.37}]}`,
		want: "`selector` does not match template `labels`",
	}, {
		name: "service port 0",
		object: `
apiVersion: v1
kind: Service
metadata: {name: broken, namespace: kubecheck-demo}
spec: {selector: {app: a}, ports: [{port: 0}]}`,
		want: "must be between 1 and 65535",
	}, {
		name: "unknown field",
		object: `
apiVersion: v1
kind: ConfigMap
metadata: {name: broken, namespace: kubecheck-demo}
datas: {a: b}`,
		want: "field not declared in schema",
	}, {
		name: "custom resource against its CRD schema",
		object: `
apiVersion: kubecheck.example.com/v1
kind: Widget
metadata: {name: broken, namespace: kubecheck-demo}
spec: {size: 0}`,
		want: "spec.size: Invalid value",
	}, {
		name: "namespace the program does not create",
		object: `
apiVersion: v1
kind: ConfigMap
metadata: {name: broken, namespace: no-such-namespace}`,
		want: `namespaces "no-such-namespace" not found`,
	}, {
		name: "kind no CRD defines",
		object: `
apiVersion: kubecheck.example.com/v1
kind: Gadget
metadata: {name: broken, namespace: kubecheck-demo}`,
		want: "no CustomResourceDefinition of the stack defines it",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			objs := slices.Concat(base, readObjects(t, tc.object))
			problems := api.validate(t.Context(), objs)
			if len(problems) != 1 || !strings.Contains(problems[0], tc.want) || !strings.Contains(problems[0], "/broken: ") {
				t.Fatalf("want one rejection of the broken object containing %q, got %d:\n%s", tc.want, len(problems), strings.Join(problems, "\n"))
			}
			t.Log(problems[0])
		})
	}
}

func TestDecodeStrict(t *testing.T) {
	for _, tc := range []struct {
		name, object string
		known        bool
		wantErr      string
	}{{
		name:   "valid deployment",
		object: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: 2}",
		known:  true,
	}, {
		name:    "unknown field",
		object:  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replica: 2}",
		known:   true,
		wantErr: `unknown field "spec.replica"`,
	}, {
		name:    "field in the wrong case",
		object:  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {Replicas: 2}",
		known:   true,
		wantErr: `unknown field "spec.Replicas"`,
	}, {
		name:    "wrong type",
		object:  "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: http}]}",
		known:   true,
		wantErr: "cannot unmarshal",
	}, {
		name:   "custom resource is left to the API server",
		object: "apiVersion: kubecheck.example.com/v1\nkind: Widget\nmetadata: {name: a}\nspec: {anything: 1}",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, known, err := DecodeStrict(readObjects(t, tc.object)[0])
			if known != tc.known {
				t.Errorf("known = %v, want %v", known, tc.known)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

// TestCurrentGenerationAgainstAPIServer sends the whole program's objects for the current
// generation (staging moved to it, infratest.Current) to the API server, and runs the project's
// rules over them.
func TestCurrentGenerationAgainstAPIServer(t *testing.T) {
	objs := stackObjects(t, currentGeneration)
	for _, o := range objs {
		if _, _, err := DecodeStrict(o); err != nil {
			t.Errorf("%s: %v", objectID(&unstructured.Unstructured{Object: o}), err)
		}
	}
	for _, v := range Check(objs, slices.Collect(maps.Values(stackconfig.SecretPlaceholders()))) {
		t.Error(v)
	}
	api := apiServerFor(t)
	if problems := api.validate(t.Context(), objs); len(problems) > 0 {
		t.Errorf("the API server rejected %d of %d objects:\n%s", len(problems), len(objs), strings.Join(problems, "\n"))
	}
	t.Logf("%d objects sent", len(objs))
}
