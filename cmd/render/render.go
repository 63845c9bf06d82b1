package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// render runs the stack under mocks and writes resources.json and manifests/ into out. The options
// change the stack's config (tests use them).
func render(stack, out string, opts ...infratest.Option) error {
	rec, err := infratest.RunStack(stack, opts...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	resources, err := json.MarshalIndent(rec.Records(), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "resources.json"), append(resources, '\n'), 0o644); err != nil {
		return err
	}
	dir := filepath.Join(out, "manifests")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for _, m := range rec.Manifests(true) {
		data, err := yaml.Marshal(m.Object)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, manifestPath(m))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("two objects render to %s", path)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// manifestPath is <namespace>/<kind>-<name>.yaml, or _cluster/<kind>-<name>.yaml for cluster-scoped
// objects: stable across renders, so `diff -r` between two renders reads like kubectl diff.
func manifestPath(m infratest.Manifest) string {
	ns := m.Namespace()
	if ns == "" {
		ns = "_cluster"
	}
	return filepath.Join(ns, strings.ToLower(m.Kind())+"-"+m.Name()+".yaml")
}
