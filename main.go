// Command openneuro-infra is the Pulumi program that deploys OpenNeuro; see README.md.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra"
)

func main() { pulumi.Run(infra.Run) }
