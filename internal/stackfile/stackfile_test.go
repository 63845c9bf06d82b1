package stackfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestComposeKeepsEngineKeysAndSecrets: a second Compose takes the new plain config from the
// source but keeps the salt and the secrets the engine wrote into the target.
func TestComposeKeepsEngineKeysAndSecrets(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "Pulumi.local.yaml"), filepath.Join(dir, "out", "Pulumi.sim.yaml")
	write(t, src, "config:\n  openneuro:app:\n    hostname: a.localhost\n    workers: 1\n  openneuro:cluster:\n    mode: existing\n    context: kind-openneuro\n")
	over := map[string]any{"openneuro:cluster": map[string]any{"kubeconfig": "/tmp/k", "context": "sim"}}
	if err := Compose(src, over, dst); err != nil {
		t.Fatal(err)
	}
	// What the engine adds: the salt and a secret.
	data, _ := os.ReadFile(dst)
	write(t, dst, string(data)+"encryptionsalt: v1:abc\n")
	var m map[string]any
	data, _ = os.ReadFile(dst)
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["config"].(map[string]any)["openneuro:JWT_SECRET"] = map[string]any{"secure": "v1:xyz"}
	out, _ := yaml.Marshal(m)
	write(t, dst, string(out))

	// The tracked file changes; compose again.
	write(t, src, "config:\n  openneuro:app:\n    hostname: a.localhost\n    workers: 2\n  openneuro:cluster:\n    mode: existing\n    context: kind-openneuro\n")
	if err := Compose(src, over, dst); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(dst)
	var got struct {
		Salt   string         `json:"encryptionsalt"`
		Config map[string]any `json:"config"`
	}
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Salt != "v1:abc" {
		t.Errorf("encryptionsalt = %q, want the engine's v1:abc kept", got.Salt)
	}
	if s, _ := got.Config["openneuro:JWT_SECRET"].(map[string]any); s["secure"] != "v1:xyz" {
		t.Errorf("the secret was not kept: %v", got.Config["openneuro:JWT_SECRET"])
	}
	app := got.Config["openneuro:app"].(map[string]any)
	if app["workers"] != float64(2) || app["hostname"] != "a.localhost" {
		t.Errorf("openneuro:app = %v, want the source's new workers: 2", app)
	}
	cluster := got.Config["openneuro:cluster"].(map[string]any)
	if cluster["context"] != "sim" || cluster["kubeconfig"] != "/tmp/k" || cluster["mode"] != "existing" {
		t.Errorf("openneuro:cluster = %v, want the overrides merged field by field", cluster)
	}
	if keys, err := SecureKeys(dst); err != nil || strings.Join(keys, ",") != "openneuro:JWT_SECRET" {
		t.Errorf("SecureKeys = %v, %v", keys, err)
	}
}

// TestComposeRefusesATrackedSalt: a tracked stack file with a salt means secrets were written into
// it; composing from it would spread them.
func TestComposeRefusesATrackedSalt(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "Pulumi.local.yaml")
	write(t, src, "encryptionsalt: v1:abc\nconfig: {}\n")
	err := Compose(src, nil, filepath.Join(dir, "out.yaml"))
	if err == nil || !strings.Contains(err.Error(), "plain config only") {
		t.Fatalf("Compose accepted a source with a salt: %v", err)
	}
}

// TestSetSecureKeepsTheRest: secure values are added or replaced; the plain config, the salt, other
// secrets and the header comment stay, and the salt reads back.
func TestSetSecureKeepsTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Pulumi.e2e.yaml")
	write(t, path, "# Written from Pulumi.local.yaml by the project's tools; edit that file instead.\n"+
		"encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2hlY2s=\nconfig:\n  openneuro:app:\n    workers: 1\n"+
		"  openneuro:JWT_SECRET:\n    secure: v1:old\n  openneuro:MONGO_URL:\n    secure: v1:kept\n")
	if err := SetSecure(path, map[string]string{"openneuro:JWT_SECRET": "v1:new", "openneuro:AWS_REGION": "v1:added"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "# Written from Pulumi.local.yaml") {
		t.Errorf("header comment lost:\n%s", data)
	}
	var got struct {
		Salt   string         `json:"encryptionsalt"`
		Config map[string]any `json:"config"`
	}
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"openneuro:JWT_SECRET": "v1:new", "openneuro:AWS_REGION": "v1:added", "openneuro:MONGO_URL": "v1:kept"} {
		if v, _ := got.Config[key].(map[string]any); v["secure"] != want {
			t.Errorf("%s = %v, want secure %s", key, got.Config[key], want)
		}
	}
	if app, _ := got.Config["openneuro:app"].(map[string]any); app["workers"] != float64(1) {
		t.Errorf("plain config changed: %v", got.Config["openneuro:app"])
	}
	if salt, err := EncryptionSalt(path); err != nil || salt != "v1:c2FsdA==:v1:bm9uY2U=:Y2hlY2s=" {
		t.Errorf("EncryptionSalt = %q, %v", salt, err)
	}
	write(t, path, "config: {}\n")
	if _, err := EncryptionSalt(path); err == nil || !strings.Contains(err.Error(), "no encryptionsalt") {
		t.Errorf("a file without a salt: got %v", err)
	}
}
