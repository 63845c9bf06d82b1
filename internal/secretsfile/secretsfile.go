// Package secretsfile reads a secrets file (the format of stacks/secrets.example.yaml: flat KEY: value
// pairs) and turns it into the `pulumi config set --secret` commands that load it into a stack, each
// value on standard input so that it never appears in a process list or shell history. cmd/secrets
// (make secrets, make local) and the e2e tests use it, so the quick start and the tests load secrets
// the same way.
package secretsfile

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Command is one pulumi invocation; the secret value goes to its standard input.
type Command struct {
	Args  []string
	Stdin string
}

// Parse reads a flat KEY: value YAML file, rejecting unknown keys and non-string values. Empty values
// are left out.
func Parse(data []byte) (map[string]string, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, spec := range stacks.SecretSpecs {
		known[string(spec.Key)] = true
	}
	values := map[string]string{}
	var problems []string
	for key, v := range raw {
		if !known[key] {
			problems = append(problems, fmt.Sprintf("%s is not a secret of this program (see stacks/secrets.example.yaml)", key))
			continue
		}
		switch t := v.(type) {
		case nil:
		case string:
			if t != "" {
				values[key] = t
			}
		default:
			problems = append(problems, fmt.Sprintf("%s must be a string; quote it", key))
		}
	}
	slices.Sort(problems)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return values, nil
}

// Commands returns one `pulumi config set --secret` per value, in the order of stacks.SecretSpecs.
// A configFile other than "" is passed as --config-file (a stack file kept outside the repository).
func Commands(stack, configFile string, values map[string]string) []Command {
	var out []Command
	for _, spec := range stacks.SecretSpecs {
		v, ok := values[string(spec.Key)]
		if !ok {
			continue
		}
		args := []string{"pulumi", "config", "set", "--secret", "--stack", stack}
		if configFile != "" {
			args = append(args, "--config-file", configFile)
		}
		out = append(out, Command{Args: append(args, stacks.Project+":"+string(spec.Key)), Stdin: v})
	}
	return out
}

// Example renders stacks/secrets.example.yaml from the secret specs.
func Example() string {
	var b bytes.Buffer
	b.WriteString("# Secrets of one OpenNeuro stack. Copy this file OUTSIDE the repository, fill it in, and load it:\n")
	b.WriteString("#   make secrets STACK=staging FILE=~/openneuro-staging-secrets.yaml\n")
	b.WriteString("# Each non-empty key becomes a Pulumi secret openneuro:<KEY> (encrypted in the stack file) and the\n")
	b.WriteString("# environment variable <KEY> of the application. Empty keys are skipped. Never commit a filled copy.\n")
	b.WriteString("# Generated from stacks/secrets.go: `go run ./cmd/secrets --example > stacks/secrets.example.yaml`.\n")
	for _, spec := range stacks.SecretSpecs {
		need := "optional"
		switch {
		case spec.Required && spec.Only != "":
			need = "REQUIRED in app.generation " + string(spec.Only) + " (leave it empty in the other)"
		case spec.Required:
			need = "REQUIRED"
		case spec.Group != "":
			need = "optional, " + spec.Group + " login (at least one login provider is required)"
		}
		fmt.Fprintf(&b, "\n# %s: %s.\n", need, spec.Description)
		if spec.Key == stacks.SecretDataladSSHKey || spec.Key == stacks.SecretClusterKubeconfig {
			fmt.Fprintf(&b, "%s: |\n  \n", spec.Key)
			continue
		}
		fmt.Fprintf(&b, "%s: \"\"\n", spec.Key)
	}
	return b.String()
}
