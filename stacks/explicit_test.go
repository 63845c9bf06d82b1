package stacks_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// emptyAllowed are the settings where an explicit 0 or "" is a real choice rather than a mistake.
var emptyAllowed = map[string]string{
	"app.googleTrackingId":  "the default is none",
	"app.googleTrackingIds": "the default is none",
	"cluster.context":       "the default is the kubeconfig's current context",
}

// freeForm are maps whose values belong to another system, where "" can be a value.
var freeForm = map[string]bool{"ingress.annotations": true}

// TestExplicitEmptyValuesAreRejected: Load decodes the operator's values over the defaults, so a
// value set to 0 or "" stays 0 or "" instead of silently becoming the default. Every number and
// every string a stack ends up with (set or defaulted) is set to 0 or "" in turn, and Load must
// name it in an error.
func TestExplicitEmptyValuesAreRejected(t *testing.T) {
	for _, v := range stackVariants(t) {
		cfg, err := stackconfig.Load(v.stack, v.opts...)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		for path, value := range leaves(t, cfg) {
			t.Run(v.name+"/"+path, func(t *testing.T) {
				t.Parallel()
				var empty any = ""
				if _, number := value.(float64); number {
					empty = 0
				}
				_, err := stackconfig.Load(v.stack, append(append([]stackconfig.Option(nil), v.opts...), stackconfig.WithValue(path, empty))...)
				if why, ok := emptyAllowed[path]; ok {
					if err != nil {
						t.Errorf("%s set to %v (allowed: %s): %v", path, empty, why, err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), path) {
					t.Errorf("%s set to %#v (was %v): want an error naming it, got %v", path, empty, value, err)
				}
			})
		}
	}
}

// leaves returns every non-empty number and string of the layers' config by its config path, e.g.
// app.replicas.api. Lists are left out: the config paths here address object keys only.
func leaves(t *testing.T, cfg *stacks.Config) map[string]any {
	t.Helper()
	root := configTree(t, cfg)
	out := map[string]any{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if freeForm[path] {
				return
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(path+"."+k, x[k])
			}
		case float64:
			if x != 0 {
				out[path] = x
			}
		case string:
			if x != "" {
				out[path] = x
			}
		}
	}
	for k, v := range root {
		walk(k, v)
	}
	return out
}

// TestNullValuesAreRejected: a key left without a value in a stack file is a YAML null, which
// decoded as "not set" in some fields (the default, silently) and panicked in others. Every key a
// stack ends up with (an object, a list, a number, a string or a boolean, set or defaulted) is set
// to null in turn, and Load must name it in an error.
func TestNullValuesAreRejected(t *testing.T) {
	for _, v := range stackVariants(t) {
		cfg, err := stackconfig.Load(v.stack, v.opts...)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		for _, path := range keyPaths(t, cfg) {
			t.Run(v.name+"/"+path, func(t *testing.T) {
				t.Parallel()
				_, err := stackconfig.Load(v.stack, append(append([]stackconfig.Option(nil), v.opts...), stackconfig.WithValue(path, nil))...)
				if err == nil || !strings.Contains(err.Error(), path+": is null") {
					t.Errorf("%s set to null: want an error naming it, got %v", path, err)
				}
			})
		}
	}
}

// keyPaths returns the config path of every key below the layers' top-level keys (app.replicas,
// app.replicas.api, ...), whatever its value; not the keys inside free-form maps.
func keyPaths(t *testing.T, cfg *stacks.Config) []string {
	t.Helper()
	root := configTree(t, cfg)
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		out = append(out, path)
		if x, ok := v.(map[string]any); ok && !freeForm[path] {
			for k, child := range x {
				walk(path+"."+k, child)
			}
		}
	}
	for layer, v := range root {
		if x, ok := v.(map[string]any); ok {
			for k, child := range x {
				walk(layer+"."+k, child)
			}
		}
	}
	sort.Strings(out)
	return out
}

// configTree is the layers' config as JSON objects, keyed as the stack files write them.
func configTree(t *testing.T, cfg *stacks.Config) map[string]any {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	return root
}
