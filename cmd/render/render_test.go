package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

func TestRenderEveryStack(t *testing.T) {
	stacks, err := stackconfig.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			first, second := t.TempDir(), t.TempDir()
			if err := render(stack, first); err != nil {
				t.Fatal(err)
			}
			if err := render(stack, second); err != nil {
				t.Fatal(err)
			}
			rec := infratest.Run(t, stack)

			var records []infratest.ResourceRecord
			data := read(t, filepath.Join(first, "resources.json"))
			if err := json.Unmarshal(data, &records); err != nil {
				t.Fatal(err)
			}
			if len(records) != len(rec.Resources()) {
				t.Errorf("resources.json lists %d resources, the program registers %d", len(records), len(rec.Resources()))
			}
			for i, r := range rec.Resources() {
				if i < len(records) && (records[i].URN != r.URN || records[i].Type != r.Type) {
					t.Errorf("resources.json[%d] is %s, want %s", i, records[i].URN, r.URN)
				}
			}
			for secret, value := range stackconfig.SecretPlaceholders() {
				if bytes.Contains(data, []byte(value)) {
					t.Errorf("resources.json contains the value of %s", secret)
				}
			}

			manifests := rec.Manifests(true)
			var files []string
			_ = filepath.Walk(filepath.Join(first, "manifests"), func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					files = append(files, p)
				}
				return nil
			})
			if len(files) != len(manifests) {
				t.Errorf("manifests/ has %d files, the program has %d Kubernetes objects", len(files), len(manifests))
			}
			for _, f := range files {
				rel, _ := filepath.Rel(first, f)
				if !bytes.Equal(read(t, f), read(t, filepath.Join(second, rel))) {
					t.Errorf("%s differs between two renders", rel)
				}
				if !strings.HasSuffix(f, ".yaml") {
					t.Errorf("%s is not a .yaml file", rel)
				}
			}
			for _, f := range []string{"resources.json", "graph.json", "graph.mmd", "estimate.json", "estimate.txt", "cost.txt"} {
				if !bytes.Equal(read(t, filepath.Join(first, f)), read(t, filepath.Join(second, f))) {
					t.Errorf("%s differs between two renders", f)
				}
			}
			var g struct {
				Nodes []struct{ URN string } `json:"nodes"`
			}
			if err := json.Unmarshal(read(t, filepath.Join(first, "graph.json")), &g); err != nil || len(g.Nodes) != len(rec.Resources()) {
				t.Errorf("graph.json has %d nodes, want one per resource (%d): %v", len(g.Nodes), len(rec.Resources()), err)
			}
		})
	}
}

func TestRenderFailsOnBadConfig(t *testing.T) {
	dir := t.TempDir()
	err := render("staging", dir, infratest.WithValue("app.workers", 0), infratest.WithoutValue("app.hostname"))
	if err == nil || !strings.Contains(err.Error(), "app.workers: is 0") || !strings.Contains(err.Error(), "app.hostname: is required") {
		t.Fatalf("want every validation line, got %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "resources.json")); statErr == nil {
		t.Error("render wrote resources.json for a stack that does not validate")
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRenderCurrentGeneration: --current renders the test stack moved to the current generation:
// the dataset workers with their Services, and no EFS.
func TestRenderCurrentGeneration(t *testing.T) {
	out := t.TempDir()
	if err := render(infratest.CurrentStack, out, infratest.Current()...); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"statefulset-openneuro-staging-dataset-worker.yaml", "service-openneuro-staging-dataset-worker-3.yaml", "deployment-openneuro-staging-scheduler.yaml"} {
		if _, err := os.Stat(filepath.Join(out, "manifests", "openneuro", f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}
	if strings.Contains(string(read(t, filepath.Join(out, "resources.json"))), "aws:efs/fileSystem:FileSystem") {
		t.Error("the current generation renders an EFS file system")
	}
}
