// Command render evaluates the program for a stack offline (Pulumi mocks: no AWS, no cluster, no
// plugins) and writes what it would deploy:
//
//	go run ./cmd/render --stack staging --out out/staging
//
// writes out/staging/resources.json (every resource, secrets as "[secret]") and
// out/staging/manifests/<namespace>/<kind>-<name>.yaml (every Kubernetes object as applied), the
// dependency graph with its deploy-time estimate (estimate.txt) and the monthly cost (cost.txt).
// Diff two renders to review a change at the Kubernetes level without cloud credentials.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/openneuro/openneuro-infra/internal/infratest"
)

func main() {
	fs := flag.NewFlagSet("render", flag.ExitOnError)
	stack := fs.String("stack", "", "stack to render (a Pulumi.<stack>.yaml must exist)")
	out := fs.String("out", "", "output directory (created; its manifests/ folder is replaced)")
	current := fs.Bool("current", false, "render the stack moved to app.generation current, as the tests do (infratest.Current; only --stack "+infratest.CurrentStack+")")
	_ = fs.Parse(os.Args[1:])
	if *stack == "" || *out == "" || (*current && *stack != infratest.CurrentStack) {
		fmt.Fprintln(os.Stderr, "usage: render --stack <name> --out <dir> [--current (with --stack "+infratest.CurrentStack+")]")
		os.Exit(2)
	}
	var opts []infratest.Option
	if *current {
		opts = infratest.Current()
	}
	if err := render(*stack, *out, opts...); err != nil {
		fmt.Fprintf(os.Stderr, "render %s: %v\n", *stack, err)
		os.Exit(1)
	}
}
