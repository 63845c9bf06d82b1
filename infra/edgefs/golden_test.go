package edgefs_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/infra/edgefs"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// TestGolden renders everything the layer registers, then the options the manifests do not show
// (protection, ordering), into three files reviewed like a kubectl diff: crds.golden.yaml, the eight
// CRDs, which are the same for every stack (two thirds of the layer's text); prod.golden.yaml, the
// rest of prod in full; staging.golden.diff, how staging differs from prod. `make golden` rewrites
// them.
func TestGolden(t *testing.T) {
	t.Parallel()
	crds := map[string][]byte{}
	rest := map[string][]byte{}
	for _, stack := range []string{"prod", "staging"} {
		l := runLayer(t, stack, false)
		resources := l.rec.Descendants(edgefs.Token)
		var defs, others []infratest.Resource
		for _, r := range resources {
			if r.Type == crdType {
				defs = append(defs, r)
			} else {
				others = append(others, r)
			}
		}
		crds[stack] = infratest.RenderYAML(defs)
		out := infratest.RenderYAML(others)
		out = append(out, "---\n# options: protect, retainOnDelete, dependsOn (kind/logical name)\n"...)
		rest[stack] = append(out, options(t, l, resources)...)
	}
	t.Run("crds", func(t *testing.T) {
		infratest.Golden(t, "crds.golden.yaml", crds["prod"])
		if !bytes.Equal(crds["staging"], crds["prod"]) {
			t.Errorf("the CRDs differ between stacks, so one crds.golden.yaml cannot hold them:\n%s",
				infratest.Diff("prod", "staging", crds["prod"], crds["staging"]))
		}
	})
	t.Run("prod", func(t *testing.T) { infratest.Golden(t, "prod.golden.yaml", rest["prod"]) })
	t.Run("staging", func(t *testing.T) {
		infratest.GoldenDiff(t, "staging.golden.diff", "prod.golden.yaml", "staging", rest["prod"], rest["staging"])
	})
}

func options(t *testing.T, l layer, resources []infratest.Resource) []byte {
	t.Helper()
	type entry struct {
		Protect        bool     `json:"protect,omitempty"`
		RetainOnDelete bool     `json:"retainOnDelete,omitempty"`
		DependsOn      []string `json:"dependsOn,omitempty"`
	}
	// Kind/name: Roles and RoleBindings share logical names.
	names := map[string]string{}
	for _, r := range l.rec.Resources() {
		names[r.URN] = r.Type[strings.LastIndex(r.Type, ":")+1:] + "/" + r.Name
	}
	byName := map[string]entry{}
	for _, r := range resources {
		e := entry{Protect: r.Protect, RetainOnDelete: r.RetainOnDelete}
		for _, d := range r.DependsOn {
			e.DependsOn = append(e.DependsOn, names[d])
		}
		slices.Sort(e.DependsOn)
		byName[names[r.URN]] = e
	}
	b, err := yaml.Marshal(byName)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
