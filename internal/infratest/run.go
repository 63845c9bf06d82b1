package infratest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Option changes what a run sees.
type Option func(*runSettings) error

type runSettings struct {
	config     map[string]string
	secretKeys []string
	program    pulumi.RunFunc
	liveGroups map[string][3]int
}

// WithLiveNodeGroup makes the mocked EKS API report an existing node group (EKS name, e.g.
// cluster-default-abc1234) with its current desired, min and max size, as on a later pulumi up.
func WithLiveNodeGroup(name string, desired, minSize, maxSize int) Option {
	return func(s *runSettings) error {
		if s.liveGroups == nil {
			s.liveGroups = map[string][3]int{}
		}
		s.liveGroups[name] = [3]int{desired, minSize, maxSize}
		return nil
	}
}

// WithValue sets one nested config value, e.g. WithValue("app.workers", 2) or
// WithValue("aws:region", "eu-west-1"); the first path element is the config key.
func WithValue(path string, value any) Option {
	return func(s *runSettings) error {
		key, rest, nested := strings.Cut(path, ".")
		full := qualify(key)
		if !nested {
			v, err := encodeValue(value)
			s.config[full] = v
			return err
		}
		obj := map[string]any{}
		if raw, ok := s.config[full]; ok {
			if err := json.Unmarshal([]byte(raw), &obj); err != nil {
				return fmt.Errorf("%s: %w", full, err)
			}
		}
		setPath(obj, strings.Split(rest, "."), value)
		v, err := encodeValue(obj)
		s.config[full] = v
		return err
	}
}

// WithoutValue removes a config value or secret, e.g. WithoutValue("JWT_SECRET") or
// WithoutValue("app.hostname").
func WithoutValue(path string) Option {
	return func(s *runSettings) error {
		key, rest, nested := strings.Cut(path, ".")
		full := qualify(key)
		if !nested {
			delete(s.config, full)
			return nil
		}
		obj := map[string]any{}
		if raw, ok := s.config[full]; ok {
			if err := json.Unmarshal([]byte(raw), &obj); err != nil {
				return err
			}
		}
		parts := strings.Split(rest, ".")
		parent := obj
		for _, p := range parts[:len(parts)-1] {
			next, _ := parent[p].(map[string]any)
			if next == nil {
				return nil
			}
			parent = next
		}
		delete(parent, parts[len(parts)-1])
		v, err := encodeValue(obj)
		s.config[full] = v
		return err
	}
}

// WithSecret sets a secret config value.
func WithSecret(key, value string) Option {
	return func(s *runSettings) error {
		full := qualify(key)
		s.config[full] = value
		s.secretKeys = append(s.secretKeys, full)
		return nil
	}
}

// WithProgram runs fn instead of the whole program (to test one layer with the stack's config).
func WithProgram(fn pulumi.RunFunc) Option {
	return func(s *runSettings) error { s.program = fn; return nil }
}

func setPath(obj map[string]any, path []string, value any) {
	for _, p := range path[:len(path)-1] {
		next, _ := obj[p].(map[string]any)
		if next == nil {
			next = map[string]any{}
			obj[p] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = value
}

// RunStack evaluates the program for the named stack under mocks, with the stack's real config and
// placeholder secrets, and returns what it registered. The error is the program's (e.g. validation).
func RunStack(stack string, opts ...Option) (*Recorder, error) {
	cfg, secretKeys, err := StackConfig(stack)
	if err != nil {
		return nil, err
	}
	s := &runSettings{config: cfg, secretKeys: secretKeys, program: infra.Run}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	rec := newRecorder(stack, s.config["aws:region"])
	rec.liveNodeGroups = s.liveGroups
	err = pulumi.RunErr(s.program,
		pulumi.WithMocks(stacks.Project, stack, rec),
		func(info *pulumi.RunInfo) {
			info.Config = s.config
			info.ConfigSecretKeys = s.secretKeys
		})
	return rec, err
}

// Run is RunStack that fails the test on error.
func Run(t testing.TB, stack string, opts ...Option) *Recorder {
	t.Helper()
	rec, err := RunStack(stack, opts...)
	if err != nil {
		t.Fatalf("stack %s: %v", stack, err)
	}
	return rec
}

// RunPlatform runs the AWS platform layers for a stack exactly as the program wires them
// (infra.BuildAWS) and calls inspect inside the program, where a test can read the layers' Go
// handles and await their outputs. It fails the test on error.
func RunPlatform(t testing.TB, stack string, inspect func(ctx *pulumi.Context, aws *infra.AWS) error, opts ...Option) (*Recorder, *stacks.Config) {
	t.Helper()
	var cfg *stacks.Config
	program := WithProgram(func(ctx *pulumi.Context) error {
		var err error
		if cfg, err = stacks.Load(ctx); err != nil {
			return err
		}
		aws, err := infra.BuildAWS(ctx, cfg)
		if err != nil {
			return err
		}
		return inspect(ctx, aws)
	})
	return Run(t, stack, append(opts, program)...), cfg
}
