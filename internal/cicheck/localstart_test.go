package cicheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/kubecheck"
	"github.com/openneuro/openneuro-infra/stacks"
)

// TestLocalSecretsValidate runs scripts/local-secrets.sh and deploys the local stack (under mocks)
// with exactly its secrets: the quick start's development secrets must pass the program's validation.
func TestLocalSecretsValidate(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	out, err := exec.Command(filepath.Join(infratest.RepoRoot(), "scripts", "local-secrets.sh")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var secrets map[string]string
	if err := yaml.UnmarshalStrict(out, &secrets); err != nil {
		t.Fatalf("local-secrets.sh prints no valid secrets file: %v", err)
	}
	var opts []infratest.Option
	for _, spec := range stacks.SecretSpecs {
		opts = append(opts, infratest.WithoutValue(spec.Key))
	}
	for key, value := range secrets {
		opts = append(opts, infratest.WithSecret(key, value))
	}
	rec := infratest.Run(t, "local", opts...)
	if len(rec.ByType("kubernetes:apps/v1:StatefulSet")) == 0 {
		t.Error("the local stack deployed no workers")
	}
	again, err := exec.Command(filepath.Join(infratest.RepoRoot(), "scripts", "local-secrets.sh")).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"JWT_SECRET", "FLOWER_BASIC_AUTH", "DATALAD_SSH_KEY"} {
		var second map[string]string
		_ = yaml.Unmarshal(again, &second)
		if second[key] == secrets[key] {
			t.Errorf("%s is the same in two runs; it must be generated, not fixed", key)
		}
	}
}

// TestLocalUpScript checks what can be checked without Docker: the script parses, names files that
// exist and the stack that exists, and the dev manifests decode strictly into Kubernetes types.
func TestLocalUpScript(t *testing.T) {
	root := infratest.RepoRoot()
	script := filepath.Join(root, "scripts", "local-up.sh")
	if err := exec.Command("bash", "-n", script).Run(); err != nil {
		t.Fatalf("local-up.sh does not parse: %v", err)
	}
	text := strings.Join(scriptLines(t), "\n")
	files := regexp.MustCompile(`(?m)(?:^|[\s"=])((?:dev|scripts)/[\w.-]+)`).FindAllStringSubmatch(text, -1)
	if len(files) < 3 {
		t.Errorf("local-up.sh names %d repository files, want dev/kind.yaml, dev/mongo.yaml, scripts/local-secrets.sh", len(files))
	}
	for _, m := range files {
		f := m[1]
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("local-up.sh uses %s, which does not exist", f)
		}
	}
	if !strings.Contains(text, "--stack local") {
		t.Error("local-up.sh must deploy the stack local")
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

func scriptLines(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(infratest.RepoRoot(), "scripts", "local-up.sh"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n")
}
