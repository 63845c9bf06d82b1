// Package infra is the program: it loads the stack configuration and builds the layers in
// dependency order (network -> cluster -> storage, ingress -> edgefs -> openneuro), then exports
// the outputs operators need. main.go only calls Run; tests and cmd/render run it under mocks.
package infra

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Run is the Pulumi program.
func Run(ctx *pulumi.Context) error {
	cfg, err := stacks.Load(ctx)
	if err != nil {
		return err
	}
	ctx.Export("stack", pulumi.String(cfg.Env.Stack))
	return nil
}
