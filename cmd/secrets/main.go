// Command secrets loads a filled copy of stacks/secrets.example.yaml into a stack as Pulumi secrets,
// the counterpart of the old chart's `-f secrets.yaml`:
//
//	go run ./cmd/secrets --stack staging --file ~/openneuro-staging-secrets.yaml
//
// Every non-empty key becomes `pulumi config set --secret --stack <stack> openneuro:<KEY>`, with the
// value on standard input so that it never appears in a process list or shell history. Unknown keys
// are errors (a typo would otherwise leave a required secret unset). `--config-file` names a stack
// file outside the repository (the local stack); `--example` prints the example file; `--dry-run`
// prints the commands without values. The pulumi commands inherit the environment, so a passphrase
// stack needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE set.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/openneuro/openneuro-infra/internal/secretsfile"
)

func main() {
	fs := flag.NewFlagSet("secrets", flag.ExitOnError)
	stack := fs.String("stack", "", "stack to set the secrets on")
	file := fs.String("file", "", "YAML file of KEY: value pairs (see stacks/secrets.example.yaml)")
	configFile := fs.String("config-file", "", "the stack's config file, when it is not Pulumi.<stack>.yaml")
	example := fs.Bool("example", false, "print the example secrets file and exit")
	dryRun := fs.Bool("dry-run", false, "print the pulumi commands (never the values) instead of running them")
	_ = fs.Parse(os.Args[1:])
	if *example {
		fmt.Print(secretsfile.Example())
		return
	}
	if *stack == "" || *file == "" {
		fmt.Fprintln(os.Stderr, "usage: secrets --stack <name> --file <secrets.yaml> [--config-file <file>] [--dry-run]")
		os.Exit(2)
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		fail(err)
	}
	values, err := secretsfile.Parse(data)
	if err != nil {
		fail(fmt.Errorf("%s: %w", *file, err))
	}
	for _, c := range secretsfile.Commands(*stack, *configFile, values) {
		fmt.Println(strings.Join(c.Args, " "))
		if *dryRun {
			continue
		}
		cmd := exec.Command(c.Args[0], c.Args[1:]...)
		cmd.Stdin = strings.NewReader(c.Stdin)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fail(fmt.Errorf("%s: %w", strings.Join(c.Args, " "), err))
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "secrets:", err)
	os.Exit(1)
}
