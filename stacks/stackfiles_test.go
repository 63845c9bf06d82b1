package stacks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// pinned are the values stack files repeat on purpose (and say so in a comment): a later change of
// the default must not change them for that stack.
var pinned = map[string]string{
	"staging: app.replicas.api":                  "staging stays at 2 API pods in the current generation, whose default is 4",
	"staging: app.replicas.web":                  "staging stays at 2 web pods in the current generation, whose default is 3",
	"prod: storage.reclaimPolicy":                "a teardown must never delete production's volumes",
	"prod: storage.efs.owner":                    "fixed when the datasets access point is created",
	"prod: cluster.edgefsNodeGroup.instanceType": "EdgeFS data lives on these nodes' NVMe",
	"prod: cluster.edgefsNodeGroup.desiredSize":  "EdgeFS data lives on these nodes' NVMe",
	"prod: cluster.edgefsNodeGroup.minSize":      "EdgeFS data lives on these nodes' NVMe",
	"prod: cluster.edgefsNodeGroup.maxSize":      "EdgeFS data lives on these nodes' NVMe",
}

// TestStackFilesSetOnlyWhatDiffers: every value in a Pulumi.<stack>.yaml changes the loaded config,
// unless it is pinned, so a stack file reads as the list of that stack's choices and a changed
// default reaches every stack that did not choose otherwise. Each key is removed in turn; if the
// config stays the same, the key restates a default.
func TestStackFilesSetOnlyWhatDiffers(t *testing.T) {
	names, err := stackconfig.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, stack := range names {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			want, err := loadedJSON(stack)
			if err != nil {
				t.Fatal(err)
			}
			keys := stackFileKeys(t, stack)
			for key := range pinned {
				if s, path, _ := strings.Cut(key, ": "); s == stack && !slices.Contains(keys, path) {
					t.Errorf("Pulumi.%s.yaml: %s is pinned in this test but not set in the file", stack, path)
				}
			}
			for _, path := range keys {
				// Without a required key Load fails: that key is no default either.
				got, err := loadedJSON(stack, stackconfig.WithoutValue(path))
				restated := err == nil && got == want
				_, isPinned := pinned[stack+": "+path]
				switch {
				case restated && !isPinned:
					t.Errorf("Pulumi.%s.yaml: %s restates the default; remove it (or pin it in this test, saying why)", stack, path)
				case isPinned && !restated:
					t.Errorf("Pulumi.%s.yaml: %s is pinned here but differs from the default now; unpin it", stack, path)
				}
			}
		})
	}
}

// loadedJSON is the config Load resolves for a stack, as JSON: every layer, defaults filled.
func loadedJSON(stack string, opts ...stackconfig.Option) (string, error) {
	cfg, err := stackconfig.Load(stack, opts...)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(cfg)
	return string(b), err
}

// stackFileConfig is the config section of Pulumi.<stack>.yaml as written (no defaults, secure
// values as they are).
func stackFileConfig(t *testing.T, stack string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "Pulumi."+stack+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Config map[string]any `json:"config"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	return file.Config
}

// stackFileKeys returns the config paths a stack file sets in the layer keys (openneuro:network,
// ...), down to values that are not objects, e.g. cluster.defaultNodeGroup.maxSize.
func stackFileKeys(t *testing.T, stack string) []string {
	t.Helper()
	config := stackFileConfig(t, stack)
	var paths []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 || freeForm[path] {
			paths = append(paths, path)
			return
		}
		for k, e := range m {
			walk(path+"."+k, e)
		}
	}
	for _, layer := range stacks.LayerKeys() {
		if v, ok := config[stacks.Project+":"+layer]; ok {
			walk(layer, v)
		}
	}
	sort.Strings(paths)
	return paths
}
