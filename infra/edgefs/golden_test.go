package edgefs_test

import (
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/infra/edgefs"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// TestGolden renders everything the layer registers for each real stack, then the options the
// manifests do not show (protection, ordering); `go test ./infra/edgefs/ -update` rewrites the files,
// whose diff is reviewed like a kubectl diff.
func TestGolden(t *testing.T) {
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			l := runLayer(t, stack, false)
			resources := l.rec.Descendants(edgefs.Token)
			out := infratest.RenderYAML(resources)
			out = append(out, "---\n# options: protect, retainOnDelete, dependsOn (kind/logical name)\n"...)
			out = append(out, options(t, l, resources)...)
			infratest.Golden(t, stack+".golden.yaml", out)
		})
	}
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
