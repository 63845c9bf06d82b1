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

// TestLocalUpScript checks what can be checked without Docker: the scripts parse, name files that
// exist, deploy and remove the stack local through cmd/dev (whose secrets path the e2e tier runs
// through the real engine), wait for the ingress-nginx admission jobs, and the dev manifests decode
// strictly into Kubernetes types.
func TestLocalUpScript(t *testing.T) {
	root := infratest.RepoRoot()
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
	data, err := os.ReadFile(filepath.Join(infratest.RepoRoot(), "Pulumi.local.yaml"))
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
	data, err := os.ReadFile(filepath.Join(infratest.RepoRoot(), "scripts", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n")
}
