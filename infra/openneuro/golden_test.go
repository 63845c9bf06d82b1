package openneuro_test

import (
	"testing"

	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// TestGolden renders every object of the layer for each stack; the diff of testdata/*.golden.yaml
// is the reviewer's kubectl diff (`go test ./infra/openneuro/ -update` rewrites them).
func TestGolden(t *testing.T) {
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			rec := run(t, stack, nil)
			infratest.Golden(t, stack+".golden.yaml", infratest.RenderYAML(rec.Descendants(openneuro.Token)))
		})
	}
	// The current generation, on staging moved to it (infratest.Current).
	t.Run("current", func(t *testing.T) {
		rec := run(t, infratest.CurrentStack, nil, infratest.Current()...)
		infratest.Golden(t, "current.golden.yaml", infratest.RenderYAML(rec.Descendants(openneuro.Token)))
	})
}
