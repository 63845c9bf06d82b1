package stackconfig_test

import (
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

func TestReadMergesDefaultsStackFileAndPlaceholders(t *testing.T) {
	values, err := stackconfig.Read("prod")
	cfg, secretKeys := values.Config, values.SecretKeys
	if err != nil {
		t.Fatal(err)
	}
	if cfg["aws:region"] != "us-west-2" {
		t.Errorf("aws:region %q", cfg["aws:region"])
	}
	if !strings.Contains(cfg["openneuro:app"], `"hostname":"openneuro.org"`) {
		t.Errorf("openneuro:app %s", cfg["openneuro:app"])
	}
	if cfg["openneuro:edgefs"] != "{}" {
		t.Errorf("an unset layer key takes Pulumi.yaml's default {}, got %q", cfg["openneuro:edgefs"])
	}
	if cfg["pulumi:disable-default-providers"] != `["kubernetes"]` {
		t.Errorf("project-wide value not applied: %q", cfg["pulumi:disable-default-providers"])
	}
	if len(secretKeys) == 0 || cfg["openneuro:MONGO_URL"] == "" {
		t.Error("secrets have no placeholders")
	}
}

// TestLoadAppliesChanges: Load reads the stack with the changes applied, and returns the
// validation error of a bad change, naming the key.
func TestLoadAppliesChanges(t *testing.T) {
	cfg, err := stackconfig.Load("prod", stackconfig.WithValue("app.workers", 3))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OpenNeuro.Workers != 3 || cfg.Env.Stack != "prod" {
		t.Errorf("workers %d, stack %q; want 3 and prod", cfg.OpenNeuro.Workers, cfg.Env.Stack)
	}
	_, err = stackconfig.Load("prod", stackconfig.WithoutValue("JWT_SECRET"))
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Errorf("a missing secret: %v; want an error naming JWT_SECRET", err)
	}
	if _, err := stackconfig.Load("no-such-stack"); err == nil || !strings.Contains(err.Error(), "Pulumi.no-such-stack.yaml") {
		t.Errorf("a missing stack file: %v; want an error naming the file", err)
	}
}
