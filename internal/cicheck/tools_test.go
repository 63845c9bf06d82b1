package cicheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// TestToolVersionCheckReadsWholeOutput runs scripts/tools.sh's version check against a fake binary
// that prints its version first and then much more, as etcd --version does. A check that stops
// reading at the first match (`| grep -q` under pipefail) kills the binary with SIGPIPE and fails
// at random; measured on the old check: 2 failures in 30 runs against the real etcd.
func TestToolVersionCheckReadsWholeOutput(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "etcd")
	script := "#!/bin/sh\necho 'etcd Version: 3.6.5'\nseq 1 200000\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tools := filepath.Join(stackconfig.RepoRoot(), "scripts", "tools.sh")
	check := fmt.Sprintf(`source %q; for i in $(seq 1 20); do reports %q --version 'etcd Version: 3.6.5' || { echo "run $i failed"; exit 1; }; done
reports %q --version 'etcd Version: 9.9.9' && { echo "a wrong version passed"; exit 1; }; exit 0`, tools, fake, fake)
	out, err := exec.Command("bash", "-c", check).CombinedOutput()
	if err != nil {
		t.Fatalf("the version check is unreliable: %v\n%s", err, out)
	}
}

// TestToolsScriptParses checks that scripts/tools.sh parses, refuses an unknown group, and that
// sourcing it runs nothing (the test above relies on that).
func TestToolsScriptParses(t *testing.T) {
	tools := filepath.Join(stackconfig.RepoRoot(), "scripts", "tools.sh")
	if out, err := exec.Command("bash", "-n", tools).CombinedOutput(); err != nil {
		t.Fatalf("tools.sh does not parse: %v\n%s", err, out)
	}
	out, err := exec.Command("bash", tools, "everything").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "usage:") {
		t.Errorf("tools.sh everything: want a usage error, got %v: %s", err, out)
	}
	out, err = exec.Command("bash", "-c", "source "+tools+" && echo sourced").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "sourced" {
		t.Errorf("sourcing tools.sh did more than define functions: %v: %s", err, out)
	}
}
