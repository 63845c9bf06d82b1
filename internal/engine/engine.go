// Package engine runs the program through the real Pulumi engine: the pulumi CLI and the Kubernetes
// provider plugin (on PATH), driven by the Automation API with the program inline (infra.Run), a
// file backend and the passphrase secrets provider, all in one folder. No language plugin and no
// Pulumi account are needed. The e2e tests (tier 4) and make sim use it.
package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/internal/secretsfile"
	"github.com/openneuro/openneuro-infra/internal/stackfile"
)

// Options select a stack and where it lives.
type Options struct {
	// Dir holds the passphrase, the workspace (work/, with Pulumi.yaml and the stacks' config
	// files) and, with a file backend of its own, the state (backend/).
	Dir string
	// OwnBackend keeps the stack's state in Dir/backend. Default false: the backend the user is
	// logged into (pulumi login).
	OwnBackend bool
	// Stack is the stack name.
	Stack string
	// ProjectFile is the project's Pulumi.yaml: its config declarations apply as with the CLI.
	ProjectFile string
	// StackFile is the tracked Pulumi.<name>.yaml the stack takes its plain config from.
	StackFile string
	// Overrides are merged into that config (full keys such as "openneuro:cluster"; objects merge
	// field by field).
	Overrides map[string]any
	// Program is the Pulumi program.
	Program pulumi.RunFunc
	// PulumiHome isolates the CLI's home (plugins, credentials) from the user's ~/.pulumi, for
	// tests. Default "": the user's.
	PulumiHome string
}

// Stack is a stack of the program in an engine folder.
type Stack struct {
	auto.Stack
	// WorkDir holds Pulumi.yaml and ConfigFile; pulumi commands run there act on this stack.
	WorkDir string
	// ConfigFile is the stack's config file (plain config from StackFile, plus salt and secrets).
	ConfigFile string
	// Env is what a pulumi command needs to reach this stack: backend, passphrase (and Pulumi home).
	Env map[string]string
}

// Open creates or selects the stack and (re)writes its plain config from opts.StackFile and
// opts.Overrides; secrets already set stay.
func Open(ctx context.Context, opts Options) (*Stack, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	proj, err := workspace.LoadProject(opts.ProjectFile)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	configFile := filepath.Join(work, "Pulumi."+opts.Stack+".yaml")
	if err := stackfile.Compose(opts.StackFile, opts.Overrides, configFile); err != nil {
		return nil, fmt.Errorf("engine: stack config: %w", err)
	}
	env := map[string]string{"PULUMI_SKIP_UPDATE_CHECK": "true"}
	// A passphrase of the user's own (exported) wins; otherwise one generated for this stack.
	if os.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" {
		passphrase, err := ensurePassphrase(filepath.Join(dir, "passphrase"))
		if err != nil {
			return nil, err
		}
		env["PULUMI_CONFIG_PASSPHRASE_FILE"] = passphrase
	}
	if opts.OwnBackend {
		backend := filepath.Join(dir, "backend")
		if err := os.MkdirAll(backend, 0o700); err != nil {
			return nil, err
		}
		env["PULUMI_BACKEND_URL"] = "file://" + backend
		proj.Backend = &workspace.ProjectBackend{URL: env["PULUMI_BACKEND_URL"]}
	}
	if opts.PulumiHome != "" {
		env["PULUMI_HOME"] = opts.PulumiHome
	}
	s, err := auto.UpsertStackInlineSource(ctx, opts.Stack, proj.Name.String(), opts.Program,
		auto.WorkDir(work), auto.Project(*proj), auto.SecretsProvider("passphrase"), auto.EnvVars(env))
	if err != nil {
		return nil, fmt.Errorf("engine: stack %s: %w", opts.Stack, err)
	}
	return &Stack{Stack: s, WorkDir: work, ConfigFile: configFile, Env: env}, nil
}

// ensurePassphrase creates the stack's random passphrase once (0600, never in the repository) and
// returns its path.
func ensurePassphrase(path string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}

// Pulumi runs the pulumi CLI on this stack's workspace with stdin, and returns its combined output.
func (s *Stack) Pulumi(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "pulumi", args...)
	cmd.Dir = s.WorkDir
	cmd.Env = os.Environ()
	for k, v := range s.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("pulumi %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// LoadSecrets loads a secrets file into the stack exactly as make secrets and make local do: one
// `pulumi config set --secret` per value, the value on standard input, through the passphrase
// provider, into the stack's own config file.
func (s *Stack) LoadSecrets(ctx context.Context, file []byte) error {
	values, err := secretsfile.Parse(file)
	if err != nil {
		return err
	}
	if len(values) == 0 {
		return errors.New("engine: the secrets file sets nothing")
	}
	for _, c := range secretsfile.Commands(s.Name(), s.ConfigFile, values) {
		if _, err := s.Pulumi(ctx, c.Stdin, c.Args[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// HasSecrets reports whether the stack's config file holds any secret yet.
func (s *Stack) HasSecrets() (bool, error) {
	keys, err := stackfile.SecureKeys(s.ConfigFile)
	return len(keys) > 0, err
}
