package infratest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

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
		switch spec.Key {
		case "CLUSTER_KUBECONFIG":
			continue // only for existing-mode stacks that want it; the ambient kubeconfig is the default
		case "MONGO_URL":
			p[spec.Key] = "mongodb://openneuro:placeholder-mongo-password@mongo.example.invalid:27017/openneuro"
		case "DATALAD_SSH_KEY":
			p[spec.Key] = "-----BEGIN OPENSSH PRIVATE KEY-----\nplaceholder-datalad-ssh-key\n-----END OPENSSH PRIVATE KEY-----\n"
		case "FLOWER_BASIC_AUTH":
			p[spec.Key] = "admin:placeholder-flower-password"
		case "DOI_URL", "ORCID_API_ENDPOINT":
			p[spec.Key] = "https://placeholder-" + strings.ToLower(strings.ReplaceAll(spec.Key, "_", "-")) + ".example.invalid/"
		case "ELASTICSEARCH_CONNECTION":
			p[spec.Key] = "https://elastic:placeholder-es-password@es.example.invalid:9243"
		default:
			p[spec.Key] = "placeholder-" + strings.ToLower(strings.ReplaceAll(spec.Key, "_", "-"))
		}
	}
	return p
}

// StackConfig returns what `pulumi up -s <stack>` would pass the program: Pulumi.yaml's declared
// defaults overlaid by Pulumi.<stack>.yaml, objects JSON-encoded, every secret (secure: values and all
// secret keys) replaced by its placeholder. It also returns the secret keys.
func StackConfig(stack string) (map[string]string, []string, error) {
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
