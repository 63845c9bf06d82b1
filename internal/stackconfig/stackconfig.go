// Package stackconfig is a stack's configuration as the tests see it: Pulumi.yaml's defaults
// overlaid by Pulumi.<stack>.yaml with placeholder secrets, changes to it, and stacks.Load run on it.
// It registers no resources and links no provider SDK, so the config tests build quickly.
package stackconfig

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/stacks"
)

// RepoRoot is the repository's top folder (where Pulumi.yaml is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Stacks lists every stack that has a Pulumi.<stack>.yaml at the repository root, sorted.
func Stacks() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(RepoRoot(), "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	sort.Strings(names)
	return names, nil
}

// SecretPlaceholders are the values the harness gives every secret key: well-formed, so that
// validation passes, and recognisable, so that a rule can find one that leaked into plain text.
func SecretPlaceholders() map[string]string {
	p := map[string]string{}
	for _, spec := range stacks.SecretSpecs {
		key := string(spec.Key)
		switch spec.Key {
		case stacks.SecretClusterKubeconfig:
			continue // only for existing-mode stacks that want it; the ambient kubeconfig is the default
		case stacks.SecretMongoURL:
			p[key] = "mongodb://openneuro:placeholder-mongo-password@mongo.example.invalid:27017/openneuro"
		case stacks.SecretDataladSSHKey:
			p[key] = "-----BEGIN OPENSSH PRIVATE KEY-----\nplaceholder-datalad-ssh-key\n-----END OPENSSH PRIVATE KEY-----\n"
		case stacks.SecretFlowerBasicAuth:
			p[key] = "admin:placeholder-flower-password"
		case stacks.SecretDOIURL, stacks.SecretOrcidAPIEndpoint:
			p[key] = "https://placeholder-" + strings.ToLower(strings.ReplaceAll(key, "_", "-")) + ".example.invalid/"
		case stacks.SecretElasticsearchConnection:
			p[key] = "https://elastic:placeholder-es-password@es.example.invalid:9243"
		default:
			p[key] = "placeholder-" + strings.ToLower(strings.ReplaceAll(key, "_", "-"))
		}
	}
	return p
}

// Values are the config a program run is given: every key qualified with its namespace, objects
// JSON-encoded as the Pulumi CLI passes them, and which of the keys are secrets.
type Values struct {
	Config     map[string]string
	SecretKeys []string
}

// Option changes a stack's Values before a run.
type Option func(*Values) error

// Read returns what `pulumi up -s <stack>` would pass the program: Pulumi.yaml's declared defaults
// overlaid by Pulumi.<stack>.yaml, every secret (secure: values and all secret keys) replaced by its
// placeholder.
func Read(stack string) (Values, error) {
	values, secretKeys, err := read(stack)
	return Values{Config: values, SecretKeys: secretKeys}, err
}

// Load runs stacks.Load, and nothing else, on a stack's config plus opts, as `pulumi up` would.
func Load(stack string, opts ...Option) (*stacks.Config, error) {
	values, err := Read(stack)
	if err != nil {
		return nil, err
	}
	for _, opt := range opts {
		if err := opt(&values); err != nil {
			return nil, err
		}
	}
	var cfg *stacks.Config
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		cfg, err = stacks.Load(ctx)
		return err
	}, pulumi.WithMocks(stacks.Project, stack, noResources{}), func(info *pulumi.RunInfo) {
		info.Config = values.Config
		info.ConfigSecretKeys = values.SecretKeys
	})
	return cfg, err
}

// noResources is the mock monitor of Load: loading config registers nothing and calls nothing.
type noResources struct{}

func (noResources) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return "", nil, fmt.Errorf("stacks.Load registered %s %s; it must register nothing", args.TypeToken, args.Name)
}

func (noResources) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("stacks.Load called %s; it must call nothing", args.Token)
}

func read(stack string) (map[string]string, []string, error) {
	cfg := map[string]string{}
	project, err := readYAML(filepath.Join(RepoRoot(), "Pulumi.yaml"))
	if err != nil {
		return nil, nil, err
	}
	decls, _ := project["config"].(map[string]any)
	for key, decl := range decls {
		d, ok := decl.(map[string]any)
		if !ok {
			continue
		}
		def, has := d["default"]
		if val, set := d["value"]; set {
			def, has = val, true // a project-wide value, e.g. pulumi:disable-default-providers
		}
		if has {
			v, err := encodeValue(def)
			if err != nil {
				return nil, nil, fmt.Errorf("Pulumi.yaml: %s: %w", key, err) //nolint:staticcheck // ST1005: the message starts with the file's name
			}
			cfg[qualify(key)] = v
		}
	}
	stackFile, err := readYAML(filepath.Join(RepoRoot(), "Pulumi."+stack+".yaml"))
	if err != nil {
		return nil, nil, err
	}
	values, _ := stackFile["config"].(map[string]any)
	placeholders := SecretPlaceholders()
	for key, val := range values {
		if m, ok := val.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			continue // a committed encrypted value: the placeholder below stands in for it
		}
		v, err := encodeValue(val)
		if err != nil {
			return nil, nil, fmt.Errorf("Pulumi.%s.yaml: %s: %w", stack, key, err) //nolint:staticcheck // ST1005: the message starts with the file's name
		}
		cfg[qualify(key)] = v
	}
	var secretKeys []string
	for key, val := range placeholders {
		full := stacks.Project + ":" + key
		cfg[full] = val
		secretKeys = append(secretKeys, full)
	}
	sort.Strings(secretKeys)
	return cfg, secretKeys, nil
}

func readYAML(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return out, nil
}

// qualify adds the project namespace to a project-level key declared without one.
func qualify(key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return stacks.Project + ":" + key
}

// encodeValue renders a config value the way the Pulumi CLI hands it to a program: strings as they
// are, everything else as JSON.
func encodeValue(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// WithValue sets one nested config value, e.g. WithValue("app.workers", 2) or
// WithValue("aws:region", "eu-west-1"); the first path element is the config key.
func WithValue(path string, value any) Option {
	return func(vals *Values) error {
		key, rest, nested := strings.Cut(path, ".")
		full := qualify(key)
		if !nested {
			v, err := encodeValue(value)
			vals.Config[full] = v
			return err
		}
		obj := map[string]any{}
		if raw, ok := vals.Config[full]; ok {
			if err := json.Unmarshal([]byte(raw), &obj); err != nil {
				return fmt.Errorf("%s: %w", full, err)
			}
		}
		setPath(obj, strings.Split(rest, "."), value)
		v, err := encodeValue(obj)
		vals.Config[full] = v
		return err
	}
}

// WithoutValue removes a config value or secret, e.g. WithoutValue(stacks.SecretJWTSecret) or
// WithoutValue("app.hostname").
func WithoutValue(path string) Option {
	return func(vals *Values) error {
		key, rest, nested := strings.Cut(path, ".")
		full := qualify(key)
		if !nested {
			delete(vals.Config, full)
			return nil
		}
		obj := map[string]any{}
		if raw, ok := vals.Config[full]; ok {
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
		vals.Config[full] = v
		return err
	}
}

// WithSecret sets a secret config value.
func WithSecret(key, value string) Option {
	return func(vals *Values) error {
		full := qualify(key)
		vals.Config[full] = value
		vals.SecretKeys = append(vals.SecretKeys, full)
		return nil
	}
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
