//go:build e2e

// Package e2e is tier 4: the program through the real Pulumi engine (the pulumi CLI and the
// Kubernetes provider, driven by the Automation API with the program inline) against simulated
// clusters (internal/sim): up from empty, an empty second preview, every change the README
// documents or invites, with the data-holding objects checked, an upgrade from the previous
// release, bad input, an interrupted up, and a destroy that leaves nothing. Run by `make test`:
//
//	OPENNEURO_SIM_BIN="$(scripts/tools.sh sim)" go test -tags e2e -v ./e2e/
//
// Without OPENNEURO_SIM_BIN the tests skip, except with CI=true, where they fail.
package e2e

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openneuro/openneuro-infra/internal/sim"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// Tier 4 runs on two simulated clusters at once, a group of stacks on each, one stack after
// another: the waits of one cluster's stacks (rollouts, deletions) overlap the work of the
// other's, and no stack sees another group's objects in the inventories it compares.
var (
	clusters = map[string]*sim.Cluster{}
	workDir  string
	binDir   string
	skipMsg  string
)

// TestClusterA runs the EdgeFS stack, then the upgrade from the previous release.
func TestClusterA(t *testing.T) {
	onCluster(t, "a", []stackTest{{"EdgeFSStack", testEdgeFSStack}, {"UpgradeFromPreviousRelease", testUpgradeFromPreviousRelease}})
}

// TestClusterB runs the current generation's stack, then the quick start's (local).
func TestClusterB(t *testing.T) {
	onCluster(t, "b", []stackTest{{"CurrentStack", testCurrentStack}, {"LocalStack", testLocalStack}})
}

// stackTest is the test of one stack's life.
type stackTest struct {
	name string
	run  func(t *testing.T)
}

// onCluster starts the simulated cluster of that name and runs the tests on it, each as a subtest,
// in parallel with the other cluster's. It skips (or, with CI=true, fails) when the tools are
// missing.
func onCluster(t *testing.T, name string, tests []stackTest) {
	if binDir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: tier 4 must run)", skipMsg)
		}
		t.Skip(skipMsg)
	}
	t.Parallel()
	start := time.Now()
	c, err := sim.Start(context.Background(), sim.Options{Dir: filepath.Join(workDir, "cluster-"+name), BinDir: binDir})
	if err != nil {
		t.Fatalf("start the simulated cluster %s: %v (logs in %s)", name, err, workDir)
	}
	t.Logf("simulated cluster %s ready in %s", name, time.Since(start).Round(100*time.Millisecond))
	clustersMu.Lock()
	clusters[t.Name()] = c
	clustersMu.Unlock()
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop the simulated cluster %s: %v", name, err)
		}
	})
	for _, st := range tests {
		t.Run(st.name, st.run)
	}
}

var clustersMu sync.Mutex

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	bin := os.Getenv("OPENNEURO_SIM_BIN")
	if bin == "" {
		skipMsg = "OPENNEURO_SIM_BIN is not set: run the README's test command `make test`, which builds the tools (scripts/tools.sh sim)"
		return m.Run()
	}
	binDir = bin
	if err := os.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var err error
	if workDir, err = os.MkdirTemp("", "openneuro-e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	provider, err := exec.LookPath("pulumi-resource-kubernetes")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if err := installShim(filepath.Join(workDir, "shim")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	providerBuild = describeProvider(provider)
	proxyProvider = strings.HasPrefix(providerBuild, "the module proxy's")
	fmt.Fprintf(os.Stderr, "e2e: Kubernetes provider %s: %s\n", provider, providerBuild)
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: failed; the clusters' logs and the stacks are kept in %s\n", workDir)
		return code
	}
	_ = os.RemoveAll(workDir)
	return code
}

// clusterOf is the simulated cluster a test runs on: its group's (TestClusterA, TestClusterB).
func clusterOf(t testing.TB) *sim.Cluster {
	top, _, _ := strings.Cut(t.Name(), "/")
	clustersMu.Lock()
	defer clustersMu.Unlock()
	c, ok := clusters[top]
	if !ok {
		t.Fatalf("%s runs on no simulated cluster", top)
	}
	return c
}

// providerBuild says which build of the Kubernetes provider tier 4 runs (describeProvider);
// proxyProvider is true for the module proxy's, whose known bugs previewNoChanges accounts for.
var (
	providerBuild string
	proxyProvider bool
)

// cliPIDs is the folder where the pulumi shim records the process id of the latest run of each
// pulumi command on each stack (<stack>-up.pid for `pulumi up --stack <stack>`), so that a test can
// kill the CLI as a lost runner would.
var cliPIDs string

// installShim puts a pulumi and a Kubernetes provider first on PATH that record their process
// ids, then become the real ones (exec: the same process): the CLI's by its stack and command (the
// first argument that is not a flag or a flag's value: the Automation API puts --non-interactive
// first), the provider's by the CLI that started it. killCLI reads them.
func installShim(dir string) error {
	cliPIDs = filepath.Join(dir, "pids")
	if err := os.MkdirAll(cliPIDs, 0o755); err != nil {
		return err
	}
	for name, record := range map[string]string{
		"pulumi": `cmd= stack= prev=
for a; do
  case $prev in --stack | -s) stack=$a ;; esac
  case $a in --stack=*) stack=${a#--stack=} ;; -*) ;; *) [ -n "$cmd" ] || [ "$prev" = --stack ] || [ "$prev" = -s ] || cmd=$a ;; esac
  prev=$a
done
echo $$ > %q/"$stack-$cmd.pid"`,
		"pulumi-resource-kubernetes": `echo $$ >> %q/"plugins-of-$PPID"`,
	} {
		real, err := exec.LookPath(name)
		if err != nil {
			return err
		}
		script := fmt.Sprintf("#!/bin/sh\n"+record+"\nexec %q \"$@\"\n", cliPIDs, real)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			return err
		}
	}
	return os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// killCLI kills the running pulumi command (up, preview, ...) and the provider plugins it started,
// as a lost machine would: nothing of it gets to finish or record anything.
func killCLI(stack, command string) error {
	b, err := os.ReadFile(filepath.Join(cliPIDs, stack+"-"+command+".pid"))
	if err != nil {
		return err
	}
	cli := strings.TrimSpace(string(b))
	plugins, _ := os.ReadFile(filepath.Join(cliPIDs, "plugins-of-"+cli))
	for _, p := range append([]string{cli}, strings.Fields(string(plugins))...) {
		pid, err := strconv.Atoi(p)
		if err != nil {
			return err
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && p == cli {
			return fmt.Errorf("kill pulumi %s (%d): %w", command, pid, err)
		}
	}
	return nil
}

// describeProvider names the build of the provider plugin from its Go build information, as
// scripts/tools.sh does: the module proxy's build of the provider module (a pseudo-version; the
// plugin reports the SDK's version so that the engine accepts it), or a build from the provider's
// own source (the pulumi-kubernetes repository at a release tag, the build users install).
func describeProvider(path string) string {
	const module = "github.com/pulumi/pulumi-kubernetes/provider/v4"
	users := toolVersion("PULUMI_KUBERNETES_PROVIDER_USERS_RELEASE")
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "unknown build: " + err.Error()
	}
	label := "unknown"
	for _, s := range info.Settings {
		if m := versionFlag.FindStringSubmatch(s.Value); s.Key == "-ldflags" && m != nil {
			label = m[1]
		}
	}
	if info.Main.Path == module {
		return fmt.Sprintf("built from pulumi-kubernetes source, version %s (users run %s)", label, users)
	}
	for _, d := range info.Deps {
		if d.Path != module {
			continue
		}
		if d.Version == toolVersion("PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION") {
			// scripts/tools.sh labels it with go.mod's SDK version (built with -trimpath, which
			// keeps -ldflags out of the build information).
			return fmt.Sprintf("the module proxy's %s (%s), labelled with go.mod's SDK version; users run %s",
				d.Version, toolVersion("PULUMI_KUBERNETES_PROVIDER_MODULE_RELEASE"), users)
		}
		return fmt.Sprintf("a build of %s %s, labelled %s", module, d.Version, label)
	}
	return "not a build of " + module
}

var versionFlag = regexp.MustCompile(`(?:main\.version|pkg/version\.Version)=([^ '"]+)`)

// toolVersion is one KEY=value of scripts/tool-versions.env, unquoted; "" when it is not there.
func toolVersion(key string) string {
	b, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "scripts", "tool-versions.env"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
