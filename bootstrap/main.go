// Command bootstrap is the Pulumi program of the bootstrap project (Pulumi.yaml beside it): the AWS
// prerequisites of the openneuro stacks, created once per account. See package setup and the README.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/bootstrap/setup"
)

func main() { pulumi.Run(setup.Run) }
