// Package engine runs the program through the real Pulumi engine: the pulumi CLI and the Kubernetes
// provider plugin (on PATH), driven by the Automation API with the program inline (infra.Run), a
// file backend and the passphrase secrets provider, all in one folder. No language plugin and no
// Pulumi account are needed. The e2e tests (tier 4) and make sim use it.
package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
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
	commands, err := s.secretCommands(file)
	if err != nil {
		return err
	}
	for _, c := range commands {
		if _, err := s.Pulumi(ctx, c.Stdin, c.Args[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// EncryptSecrets sets the same values as LoadSecrets, but encrypts them in this process and writes
// them into the stack's config file at once. It uses the passphrase provider's own scheme: the
// SDK's AES-256-GCM crypter, its key derived from the passphrase and the salt in the config file
// (checked against the salt's encrypted "pulumi", as the CLI checks it), each value with one
// trailing newline removed, as the CLI does with standard input. LoadSecrets runs the CLI once per
// value and every run derives the key again (1,000,000 PBKDF2 rounds, about 0.4 s on 2 cores);
// this derives it once. For throwaway stacks whose development secrets are loaded many times (the
// e2e tier); the operators' path is LoadSecrets (make secrets, make local).
func (s *Stack) EncryptSecrets(file []byte) error {
	commands, err := s.secretCommands(file)
	if err != nil {
		return err
	}
	phrase, err := s.passphrase()
	if err != nil {
		return err
	}
	state, err := stackfile.EncryptionSalt(s.ConfigFile)
	if err != nil {
		return err
	}
	crypter, err := passphraseCrypter(phrase, state)
	if err != nil {
		return fmt.Errorf("engine: %s: %w", s.ConfigFile, err)
	}
	secure := map[string]string{}
	for _, c := range commands {
		ciphertext, err := crypter.EncryptValue(context.Background(), cmdutil.RemoveTrailingNewline(c.Stdin))
		if err != nil {
			return err
		}
		secure[c.Args[len(c.Args)-1]] = ciphertext
	}
	return stackfile.SetSecure(s.ConfigFile, secure)
}

// secretCommands are the `pulumi config set --secret` commands that load a secrets file into this
// stack, one per value: what LoadSecrets runs and EncryptSecrets does in-process.
func (s *Stack) secretCommands(file []byte) ([]secretsfile.Command, error) {
	values, err := secretsfile.Parse(file)
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, errors.New("engine: the secrets file sets nothing")
	}
	return secretsfile.Commands(s.Name(), s.ConfigFile, values), nil
}

// passphrase is the stack's passphrase as the CLI reads it: the file this package made (or the
// user's PULUMI_CONFIG_PASSPHRASE_FILE), trimmed, or PULUMI_CONFIG_PASSPHRASE.
func (s *Stack) passphrase() (string, error) {
	path := s.Env["PULUMI_CONFIG_PASSPHRASE_FILE"]
	if path == "" {
		if phrase := os.Getenv("PULUMI_CONFIG_PASSPHRASE"); phrase != "" {
			return phrase, nil
		}
		path = os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE")
	}
	if path == "" {
		return "", errors.New("engine: no passphrase: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE")
	}
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

// passphraseCrypter returns the crypter of a passphrase-provider state, v1:<salt>:<the word pulumi
// encrypted>, after checking that the passphrase decrypts the word.
func passphraseCrypter(phrase, state string) (config.Crypter, error) {
	version, rest, _ := strings.Cut(state, ":")
	encodedSalt, check, ok := strings.Cut(rest, ":")
	if version != "v1" || !ok {
		return nil, errors.New("encryptionsalt is not a v1 passphrase state")
	}
	salt, err := base64.StdEncoding.DecodeString(encodedSalt)
	if err != nil {
		return nil, fmt.Errorf("encryptionsalt: %w", err)
	}
	crypter := config.NewSymmetricCrypterFromPassphrase(phrase, salt)
	if got, err := crypter.DecryptValue(context.Background(), check); err != nil || got != "pulumi" {
		return nil, errors.New("the passphrase does not open this stack's secrets")
	}
	return crypter, nil
}

// HasSecrets reports whether the stack's config file holds any secret yet.
func (s *Stack) HasSecrets() (bool, error) {
	keys, err := stackfile.SecureKeys(s.ConfigFile)
	return len(keys) > 0, err
}
