//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"

	"github.com/openneuro/openneuro-infra/infra"
	"github.com/openneuro/openneuro-infra/internal/engine"
	"github.com/openneuro/openneuro-infra/internal/secretsfile"
	"github.com/openneuro/openneuro-infra/internal/sim"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/internal/stackfile"
	"github.com/openneuro/openneuro-infra/stacks"
)

// stack is one stack of the program on the simulated cluster.
type stack struct {
	t *testing.T
	s *engine.Stack
	// name is the stack's name; project and file are the Pulumi.yaml and the stack file its plain
	// config comes from (the working tree's, or a release's for the upgrade).
	name, project, file string
	overrides           map[string]any
}

// secretsLoad is how a test stack gets the quick start's development secrets.
type secretsLoad int

const (
	// viaCLI loads them the way make local does: one `pulumi config set --secret` per value, the
	// value on standard input (engine.LoadSecrets), about 12 s on 2 cores.
	viaCLI secretsLoad = iota
	// inProcess encrypts them in the test with the stack's passphrase (engine.EncryptSecrets), under
	// a second, and checks that the CLI reads back every value.
	inProcess
)

// newStack opens a stack whose plain config is the tracked stack file plus overrides, pointed at
// the simulated cluster, with the development secrets of the quick start (scripts/local-secrets.sh)
// loaded by how. The local stack, the quick start's own, loads them as make local does; the others
// take the in-process path, which saves about 12 s each.
func newStack(t *testing.T, file string, overrides map[string]any, how secretsLoad) *stack {
	t.Helper()
	name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "Pulumi."), ".yaml")
	return newNamedStack(t, name, filepath.Join(stackconfig.RepoRoot(), "Pulumi.yaml"), file, overrides, how)
}

// newNamedStack is newStack with the stack's name and project file given.
func newNamedStack(t *testing.T, name, project, file string, overrides map[string]any, how secretsLoad) *stack {
	t.Helper()
	if overrides == nil {
		overrides = map[string]any{}
	}
	st := &stack{t: t, name: name, project: project, file: file, overrides: overrides}
	st.configure(nil)
	secrets, err := exec.Command(filepath.Join(stackconfig.RepoRoot(), "scripts", "local-secrets.sh")).Output()
	if err != nil {
		t.Fatalf("scripts/local-secrets.sh: %v", err)
	}
	if how == viaCLI {
		st.step("load the development secrets", func() error { return st.s.LoadSecrets(context.Background(), secrets) })
		return st
	}
	st.step("encrypt the development secrets", func() error { return st.s.EncryptSecrets(secrets) })
	st.step("read them back through the CLI", func() error { return st.assertSecrets(secrets) })
	return st
}

// assertSecrets checks that the CLI decrypts every value of the secrets file from the stack's
// config file, as the CLI itself would have stored it (one trailing newline dropped).
func (st *stack) assertSecrets(file []byte) error {
	want, err := secretsfile.Parse(file)
	if err != nil {
		return err
	}
	got, err := st.s.GetAllConfig(context.Background())
	if err != nil {
		return err
	}
	for key, value := range want {
		v, ok := got[stacks.Project+":"+key]
		switch {
		case !ok:
			return fmt.Errorf("%s: not in the stack's config", key)
		case !v.Secret:
			return fmt.Errorf("%s: stored as plain text", key)
		case v.Value != cmdutil.RemoveTrailingNewline(value):
			return fmt.Errorf("%s: the CLI reads back a different value", key)
		}
	}
	return nil
}

// configure changes the stack's plain config for good: changes (each a full config key, objects
// merged field by field) go on top of the stack file and the changes made before. Secrets stay.
func (st *stack) configure(changes map[string]any) {
	st.t.Helper()
	for k, v := range changes {
		st.overrides[k] = stackfile.Merge(st.overrides[k], v)
	}
	all := map[string]any{
		"openneuro:cluster": map[string]any{"kubeconfig": clusterOf(st.t).Kubeconfig, "context": sim.ContextName},
	}
	for k, v := range st.overrides {
		all[k] = stackfile.Merge(all[k], v)
	}
	// One engine folder and Pulumi home per cluster: the clusters' stacks run at the same time,
	// and the folder's passphrase and project file are written when a stack opens.
	top, _, _ := strings.Cut(st.t.Name(), "/")
	s, err := engine.Open(context.Background(), engine.Options{
		Dir: filepath.Join(workDir, "pulumi-"+top), Stack: st.name, OwnBackend: true,
		ProjectFile: st.project, StackFile: st.file, Overrides: all, Program: infra.Run,
		PulumiHome: filepath.Join(workDir, "pulumi-home-"+top),
	})
	if err != nil {
		st.t.Fatal(err)
	}
	st.s = s
}

// tryConfig writes changes for one update only: the next configure starts from the config before.
func (st *stack) tryConfig(changes map[string]any) {
	st.t.Helper()
	saved := st.overrides
	st.overrides = map[string]any{}
	for k, v := range saved {
		st.overrides[k] = v
	}
	st.configure(changes)
	st.overrides = saved
}

// step runs fn, logs its wall time and fails the test on error.
func (st *stack) step(what string, fn func() error) {
	st.t.Helper()
	start := time.Now()
	err := fn()
	st.t.Logf("%-58s %6.1fs", st.s.Name()+": "+what, time.Since(start).Seconds())
	if err != nil {
		st.t.Fatalf("%s: %v", what, err)
	}
}

// changes collects the operation on every resource that is not left as it is, keyed
// "<Kind> <logical name>" (e.g. "Deployment openneuro-api"); replacements of any kind read
// "replace", and a delete of a resource retained on delete reads "retain" (Pulumi forgets it, the
// object stays).
type changes struct {
	mu  sync.Mutex
	ops map[string]string
}

func (c *changes) collect() chan<- events.EngineEvent {
	ch := make(chan events.EngineEvent)
	c.ops = map[string]string{}
	go func() {
		for e := range ch {
			if e.ResourcePreEvent == nil {
				continue
			}
			md := e.ResourcePreEvent.Metadata
			op := string(md.Op)
			switch md.Op {
			case "same", "read", "refresh":
				continue
			case "create-replacement", "delete-replaced", "replace", "discard-replaced":
				op = "replace"
			case "delete":
				if md.Old != nil && md.Old.RetainOnDelete {
					op = "retain"
				}
			}
			c.mu.Lock()
			c.ops[resKey(md.URN)] = op
			c.mu.Unlock()
		}
	}()
	return ch
}

func (c *changes) get() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	for k, v := range c.ops {
		out[k] = v
	}
	return out
}

// resKey turns a URN into "<Kind> <logical name>".
func resKey(urn string) string {
	u := resource.URN(urn)
	typ := string(u.Type())
	return typ[strings.LastIndex(typ, ":")+1:] + " " + u.Name()
}

// up runs pulumi up and returns the operations on changed resources.
func (st *stack) up(what string) map[string]string {
	st.t.Helper()
	var c changes
	st.step(what, func() error {
		_, err := st.s.Up(context.Background(), optup.EventStreams(c.collect()))
		return err
	})
	return c.get()
}

// upRefresh runs pulumi up --refresh and returns the operations of its up.
func (st *stack) upRefresh(what string) map[string]string {
	st.t.Helper()
	var c changes
	st.step(what, func() error {
		_, err := st.s.Up(context.Background(), optup.Refresh(), optup.EventStreams(c.collect()))
		return err
	})
	return c.get()
}

// upErr runs pulumi up that is expected to fail, and returns its error output.
func (st *stack) upErr(what string) string {
	st.t.Helper()
	var out string
	st.step(what, func() error {
		_, err := st.s.Up(context.Background())
		if err == nil {
			return fmt.Errorf("pulumi up succeeded; it should have been refused")
		}
		out = err.Error()
		return nil
	})
	return out
}

// preview runs pulumi preview, which must succeed, and returns the operations it plans.
func (st *stack) preview(what string) map[string]string {
	st.t.Helper()
	var c changes
	st.step(what, func() error {
		_, err := st.s.Preview(context.Background(), optpreview.EventStreams(c.collect()))
		return err
	})
	return c.get()
}

// previewErr runs pulumi preview that is expected to fail, and returns its error output.
func (st *stack) previewErr(what string) string {
	st.t.Helper()
	var out string
	st.step(what, func() error {
		_, err := st.s.Preview(context.Background())
		if err == nil {
			return fmt.Errorf("pulumi preview succeeded; it should have been refused")
		}
		out = err.Error()
		return nil
	})
	return out
}

// previewNoChanges asserts that a preview right after an up finds nothing to do.
//
// One known exception, of the module proxy's provider build only (v4.25.0): its StatefulSet await
// can finish on the StatefulSet as it was before the update (fixed in v4.26.0,
// pulumi/pulumi-kubernetes#4094), and the state then records those stale outputs, which the next
// preview shows as a change of that StatefulSet. When that is all the preview shows, and the
// provider is that build, a refresh records the live object and the preview must then be empty.
func (st *stack) previewNoChanges() {
	st.t.Helper()
	changed, err := st.tryPreviewNoChanges()
	if err != nil && staleStatefulSets(changed) {
		st.t.Logf("the preview shows %v, a StatefulSet's outputs the %s recorded before the update; refresh, then preview again",
			changed, providerBuild)
		st.step("refresh (the provider's stale StatefulSet)", func() error {
			_, err := st.s.Refresh(context.Background())
			return err
		})
		_, err = st.tryPreviewNoChanges()
	}
	if err != nil {
		st.t.Fatalf("preview: no changes: %v", err)
	}
}

func (st *stack) tryPreviewNoChanges() (map[string]string, error) {
	st.t.Helper()
	var c changes
	start := time.Now()
	_, err := st.s.Preview(context.Background(), optpreview.ExpectNoChanges(), optpreview.Diff(), optpreview.EventStreams(c.collect()))
	st.t.Logf("%-58s %6.1fs", st.s.Name()+": preview: no changes", time.Since(start).Seconds())
	if err != nil {
		return c.get(), fmt.Errorf("%w\nchanged: %v", err, c.get())
	}
	return nil, nil
}

// staleStatefulSets reports whether the provider is the module proxy's v4.25.0 build and every
// change is an update of a StatefulSet: the one artifact of that build's await race.
func staleStatefulSets(changed map[string]string) bool {
	if !proxyProvider || len(changed) == 0 {
		return false
	}
	for k, op := range changed {
		if !strings.HasPrefix(k, "StatefulSet ") || op != "update" {
			return false
		}
	}
	return true
}

func (st *stack) refresh() {
	st.t.Helper()
	st.step("refresh", func() error {
		_, err := st.s.Refresh(context.Background(), optrefresh.ClearPendingCreates())
		return err
	})
}

func (st *stack) destroy() {
	st.t.Helper()
	st.step("destroy", func() error {
		_, err := st.s.Destroy(context.Background())
		return err
	})
	st.step("remove the stack", func() error {
		return st.s.Workspace().RemoveStack(context.Background(), st.s.Name())
	})
}

// stateResource is a resource of the stack's state.
type stateResource struct {
	URN     string         `json:"urn"`
	Type    string         `json:"type"`
	Custom  bool           `json:"custom"`
	Outputs map[string]any `json:"outputs"`
}

// resources returns the stack's resources from its exported state.
func (st *stack) resources() []stateResource {
	st.t.Helper()
	dep, err := st.s.Export(context.Background())
	if err != nil {
		st.t.Fatal(err)
	}
	var d struct {
		Resources []stateResource `json:"resources"`
	}
	if err := json.Unmarshal(dep.Deployment, &d); err != nil {
		st.t.Fatal(err)
	}
	return d.Resources
}

// kubeObjects returns the Kubernetes objects the state holds, as "<apiVersion>/<Kind> <ns>/<name>".
func (st *stack) kubeObjects() []string {
	var out []string
	for _, r := range st.resources() {
		if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") || r.Type == "pulumi:providers:kubernetes" {
			continue
		}
		out = append(out, objectKey(r.Outputs))
	}
	sort.Strings(out)
	return out
}

func objectKey(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	return fmt.Sprintf("%s/%s %s/%s", obj["apiVersion"], obj["kind"], ns, name)
}

// outputs returns the stack outputs' values.
func (st *stack) outputs() auto.OutputMap {
	st.t.Helper()
	out, err := st.s.Outputs(context.Background())
	if err != nil {
		st.t.Fatal(err)
	}
	return out
}

// assertChanges compares the operations of an update with the expected ones.
func assertChanges(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, op := range want {
		if got[k] != op {
			diffs = append(diffs, fmt.Sprintf("  %s: want %s, got %q", k, op, got[k]))
		}
	}
	for k, op := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("  %s: %s, which %s must not touch", k, op, what))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s changed other resources than expected:\n%s", what, strings.Join(diffs, "\n"))
	}
}

// run runs a subtest with the stack reporting to it (its steps fail the subtest, not the parent).
func (st *stack) run(name string, fn func(t *testing.T)) {
	parent := st.t
	parent.Run(name, func(t *testing.T) {
		st.t = t
		defer func() { st.t = parent }()
		fn(t)
	})
}
