//go:build e2e

// Package e2e is tier 4: the program through the real Pulumi engine (the pulumi CLI and the
// Kubernetes provider, driven by the Automation API with the program inline) against a simulated
// cluster (internal/sim): up from empty, an empty second preview, the updates operators make, bad
// input, an interrupted up, and a destroy that leaves nothing. Run by `make test`:
//
//	OPENNEURO_SIM_BIN="$(scripts/tools.sh sim)" go test -tags e2e -v ./e2e/
//
// Without OPENNEURO_SIM_BIN the tests skip, except with CI=true, where they fail.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openneuro/openneuro-infra/internal/sim"
)

// cluster is the simulated cluster every test deploys onto; nil when skipped.
var (
	cluster *sim.Cluster
	workDir string
	skipMsg string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	bin := os.Getenv("OPENNEURO_SIM_BIN")
	if bin == "" {
		skipMsg = "OPENNEURO_SIM_BIN is not set: run the README's test command `make test`, which builds the tools (scripts/tools.sh sim)"
		return m.Run()
	}
	if err := os.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var err error
	if workDir, err = os.MkdirTemp("", "openneuro-e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	start := time.Now()
	cluster, err = sim.Start(ctx, sim.Options{Dir: filepath.Join(workDir, "cluster"), BinDir: bin})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start the simulated cluster: %v\n(logs in %s)\n", err, workDir)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: simulated cluster ready in %s\n", time.Since(start).Round(100*time.Millisecond))
	code := m.Run()
	if err := cluster.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stop:", err)
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: failed; the cluster's logs and the stacks are kept in %s\n", workDir)
		return code
	}
	_ = os.RemoveAll(workDir)
	return code
}

// requireCluster skips (or, with CI=true, fails) a test when the tools are missing.
func requireCluster(t *testing.T) {
	t.Helper()
	if cluster != nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: tier 4 must run)", skipMsg)
	}
	t.Skip(skipMsg)
}
