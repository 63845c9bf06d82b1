package cicheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/kubecheck"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// TestLocalUpScript checks what can be checked without Docker: the scripts parse, name files that
// exist, deploy and remove the stack local through cmd/dev (whose secrets path the e2e tier runs
// through the real engine), wait for the ingress-nginx admission jobs, and the dev manifests decode
// strictly into Kubernetes types.
func TestLocalUpScript(t *testing.T) {
	root := stackconfig.RepoRoot()
	for _, name := range []string{"local-up.sh", "local-down.sh"} {
		if err := exec.Command("bash", "-n", filepath.Join(root, "scripts", name)).Run(); err != nil {
			t.Fatalf("%s does not parse: %v", name, err)
		}
	}
	text := strings.Join(scriptLines(t, "local-up.sh"), "\n")
	files := regexp.MustCompile(`(?m)(?:^|[\s"=])((?:dev|scripts)/[\w.-]+)`).FindAllStringSubmatch(text, -1)
	if len(files) < 2 {
		t.Errorf("local-up.sh names %d repository files, want dev/kind.yaml and dev/mongo.yaml", len(files))
	}
	for _, m := range files {
		f := m[1]
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("local-up.sh uses %s, which does not exist", f)
		}
	}
	for script, want := range map[string][]string{
		"local-up.sh":   {"go run ./cmd/dev up local", "wait --for=condition=complete job --all"},
		"local-down.sh": {"go run ./cmd/dev down local", "kind delete cluster"},
	} {
		body := strings.Join(scriptLines(t, script), "\n")
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not run %q", script, w)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(root, "dev", "mongo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
			t.Fatalf("dev/mongo.yaml: %v", err)
		}
		if _, known, err := kubecheck.DecodeStrict(obj); err != nil || !known {
			t.Errorf("dev/mongo.yaml: %v (known kind: %v)", err, known)
		}
	}
}

// TestLocalStackFileHoldsNoSecrets: the local stack's secrets and passphrase salt live outside
// the repository (cmd/dev); the tracked file is plain config only.
func TestLocalStackFileHoldsNoSecrets(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "Pulumi.local.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"encryptionsalt", "secure:", "secretsprovider"} {
		if strings.Contains(string(data), bad) {
			t.Errorf("Pulumi.local.yaml contains %q: development secrets must stay out of tracked files", bad)
		}
	}
}

func scriptLines(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "scripts", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n")
}
