//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// testUpgradeFromPreviousRelease deploys the previous release of the program (the newest version
// of CHANGELOG.md, built from its commit in a git worktree and run as a process of its own) for
// both generations, then upgrades each stack to the working tree as a site that pulls the new
// version does: the preview (what a pull request shows) must succeed, neither it nor the up may
// replace or delete anything that holds data, every claim, volume and StatefulSet must be the same
// object after it, and the next preview must be empty.
func testUpgradeFromPreviousRelease(t *testing.T) {
	rel := previousRelease(t)
	tree, driver := buildRelease(t, rel)
	for _, tc := range []struct {
		name, file, ns string
	}{
		{"upgrade-current", filepath.Join("e2e", "testdata", "Pulumi.current.yaml"), "openneuro-upgrade-current"},
		{"upgrade-2020", "Pulumi.local.yaml", "openneuro-upgrade-2020"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			overrides := map[string]any{"openneuro:app": map[string]any{"namespace": tc.ns}}
			st := newNamedStack(t, tc.name, filepath.Join(tree, "Pulumi.yaml"), filepath.Join(tree, tc.file), overrides, inProcess)
			before := inventory(t)
			st.step("up from empty with "+rel.version, func() error { return runRelease(driver, "up", st) })
			assertWorkloadsAvailable(t, tc.ns)
			data := dataObjects(t, tc.ns)

			st.project = filepath.Join(stackconfig.RepoRoot(), "Pulumi.yaml")
			st.file = filepath.Join(stackconfig.RepoRoot(), tc.file)
			st.configure(nil)
			planned := st.preview("preview of the upgrade to the working tree")
			logOps(t, rel.version+" -> working tree, planned", planned)
			assertNoDataReplaced(t, planned)
			done := st.up("upgrade to the working tree")
			assertNoDataReplaced(t, done)
			assertChanges(t, "the upgrade (against its preview)", done, planned)
			assertWorkloadsAvailable(t, tc.ns)
			// The upgrade's step of CHANGELOG.md: a refresh after the up. Provider v4.32.0 records a
			// StatefulSet whose update changed only its metadata as it was before the update (its
			// await takes the first ready StatefulSet its shared cache holds, and a metadata change
			// does not move the generation it compares), so the next preview would show the new
			// annotations again.
			st.refresh()
			st.previewNoChanges()
			assertKept(t, "the upgrade", data, dataObjects(t, tc.ns), nil)
			assertClaimsOwnedByNoOne(t, tc.ns)

			// A change that drops a field of a workload v0.1.0 created (client-side, with provider
			// v4.29 and later): redis's volume loses its claim for an emptyDir. The upgrade's forced
			// apply took the workload's fields over, so the preview does not keep the old source
			// beside the new one ("may not specify more than 1 volume type").
			st.change("app.redis.persistence false, after the upgrade",
				map[string]any{"openneuro:app": map[string]any{"redis": map[string]any{"persistence": false}}},
				map[string]string{"StatefulSet openneuro-redis": "update", "PersistentVolumeClaimPatch openneuro-redis-data": "retain"}, tc.ns)

			st.destroy()
			assertNothingLeft(t, before, inventory(t))
		})
	}
}

// release is a released version of the program.
type release struct{ version, commit string }

// releaseHeading is a release's heading in CHANGELOG.md.
var releaseHeading = regexp.MustCompile(`^## (v\d+\.\d+\.\d+) \(\d{4}-\d{2}-\d{2}, commit ([0-9a-f]{40})\)`)

// previousRelease is the newest release CHANGELOG.md names, with its commit (a clone may lack the
// tags, not the history).
func previousRelease(t *testing.T) release {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if m := releaseHeading.FindStringSubmatch(line); m != nil {
			return release{version: m[1], commit: m[2]}
		}
	}
	t.Fatal("CHANGELOG.md names no release (## v<x.y.z> (<date>, commit <hash>))")
	return release{}
}

// buildRelease checks the release out into a git worktree, builds the program of that tree into
// a binary that runs it (e2e/testdata/release/main.go, copied in), and returns the tree and the
// binary. The binary is kept in the tools' cache by commit and Go version, since a release never
// changes; the worktree goes when the test ends.
func buildRelease(t *testing.T, rel release) (tree, binary string) {
	t.Helper()
	root := stackconfig.RepoRoot()
	if out, err := exec.Command("git", "-C", root, "cat-file", "-e", rel.commit+"^{commit}").CombinedOutput(); err != nil {
		t.Fatalf("the commit of %s, %s, is not in this clone (%v: %s): tier 4 upgrades from it; fetch the full history "+
			"(git fetch --unshallow) or the tag (git fetch origin tag %s)", rel.version, rel.commit, err, out, rel.version)
	}
	tree = filepath.Join(workDir, "release-"+rel.version)
	if out, err := exec.Command("git", "-C", root, "worktree", "add", "--detach", tree, rel.commit).CombinedOutput(); err != nil {
		t.Fatalf("git worktree add %s: %v\n%s", rel.commit, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("git", "-C", root, "worktree", "remove", "--force", tree).CombinedOutput(); err != nil {
			t.Logf("git worktree remove %s: %v\n%s", tree, err, out)
		}
	})
	cacheDir := os.Getenv("OPENNEURO_TOOLS_CACHE")
	if cacheDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		cacheDir = filepath.Join(home, ".cache", "openneuro-infra")
	}
	binary = filepath.Join(cacheDir, "releases", rel.commit+"-"+runtime.Version(), "release")
	if _, err := os.Stat(binary); err == nil {
		t.Logf("%s (%s): the program's binary is cached in %s", rel.version, rel.commit[:9], binary)
		return tree, binary
	}
	driver, err := os.ReadFile(filepath.Join(root, "e2e", "testdata", "release", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(tree, "internal", "e2erelease")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "main.go"), driver, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	build := exec.Command("go", "build", "-o", binary+".new", "./internal/e2erelease")
	build.Dir = tree
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the program of %s: %v\n%s", rel.version, err, out)
	}
	if err := os.Rename(binary+".new", binary); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s (%s): the program built in %.0fs", rel.version, rel.commit[:9], time.Since(start).Seconds())
	return tree, binary
}

// runRelease runs op (up or preview) of a release's program on the stack, in a process of its own.
func runRelease(binary, op string, st *stack) error {
	cmd := exec.CommandContext(context.Background(), binary, op, st.s.WorkDir, stacks.Project, st.s.Name())
	cmd.Env = os.Environ()
	for k, v := range st.s.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(binary), op, err, out.String())
	}
	return nil
}

// logOps logs operations, one per line, sorted: the upgrade's, for the CHANGELOG.
func logOps(t *testing.T, what string, ops map[string]string) {
	t.Helper()
	lines := make([]string, 0, len(ops))
	for k, op := range ops {
		lines = append(lines, op+" "+k)
	}
	sort.Strings(lines)
	t.Logf("%s: %d operations\n  %s", what, len(lines), strings.Join(lines, "\n  "))
}

// assertClaimsOwnedByNoOne checks that no claim of the namespace has an owner: with one (the
// StatefulSet, under a Delete retention policy), deleting the owner deletes the claim.
func assertClaimsOwnedByNoOne(t *testing.T, ns string) {
	t.Helper()
	client := kubernetes.NewForConfigOrDie(clusterOf(t).Config)
	waitFor(t, "claims without owners in "+ns, func() error {
		claims, err := client.CoreV1().PersistentVolumeClaims(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, c := range claims.Items {
			if len(c.OwnerReferences) > 0 {
				return fmt.Errorf("claim %s is owned by %s %s", c.Name, c.OwnerReferences[0].Kind, c.OwnerReferences[0].Name)
			}
		}
		return nil
	})
}
