// Command release runs one release of the program as a process of its own, on a stack the e2e
// tier prepared (e2e/upgrade_test.go): a work folder holding Pulumi.yaml and the stack's config
// file, and an environment that reaches the stack's backend and passphrase. The tier copies this
// file into a checkout of the release and builds it there, so it must compile against every
// release from v0.1.0 on: it uses nothing of the program but infra.Run.
//
//	release up|preview WORKDIR PROJECT STACK
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/openneuro/openneuro-infra/infra"
)

func main() {
	if len(os.Args) != 5 || (os.Args[1] != "up" && os.Args[1] != "preview") {
		fmt.Fprintln(os.Stderr, "usage: release up|preview WORKDIR PROJECT STACK")
		os.Exit(2)
	}
	op, work, project, stack := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	ctx := context.Background()
	s, err := auto.SelectStackInlineSource(ctx, stack, project, infra.Run, auto.WorkDir(work))
	if err == nil {
		if op == "up" {
			_, err = s.Up(ctx, optup.ProgressStreams(os.Stdout))
		} else {
			_, err = s.Preview(ctx, optpreview.ProgressStreams(os.Stdout))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}
