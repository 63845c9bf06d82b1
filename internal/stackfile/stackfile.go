// Package stackfile writes a stack's config file outside the repository: the plain config of a
// tracked Pulumi.<stack>.yaml, with overrides, plus whatever the engine keeps in that file itself
// (the passphrase provider's encryption salt and the encrypted secrets). The local quick start, make
// sim and the e2e tests keep their secrets there, so that no development secret or salt is ever
// written into a tracked file, and a change to the tracked file reaches the stack on the next run.
package stackfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"sigs.k8s.io/yaml"
)

// engineKeys are the top-level keys of a stack file that the engine writes: they are kept.
var engineKeys = []string{"secretsprovider", "encryptionsalt", "encryptedkey"}

// Compose writes target: the config of source with overrides deep-merged into it (keys are full
// config keys such as "openneuro:cluster"; object values merge field by field, anything else
// replaces), and the engine keys and secure values target already holds.
func Compose(source string, overrides map[string]any, target string) error {
	src, err := read(source)
	if err != nil {
		return err
	}
	if _, ok := src["encryptionsalt"]; ok {
		return fmt.Errorf("%s holds an encryption salt: a tracked stack file must carry plain config only", source)
	}
	out := map[string]any{}
	cfg := asMap(src["config"])
	for key, v := range overrides {
		cfg[key] = Merge(cfg[key], v)
	}
	if old, err := read(target); err == nil {
		for _, k := range engineKeys {
			if v, ok := old[k]; ok {
				out[k] = v
			}
		}
		for key, v := range asMap(old["config"]) {
			if isSecure(v) {
				cfg[key] = v
			}
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	if len(cfg) > 0 {
		out["config"] = cfg
	}
	data, err := yaml.Marshal(out)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# Written from %s by the project's tools; edit that file instead.\n", filepath.Base(source))
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	return os.WriteFile(target, append([]byte(header), data...), 0o600)
}

// SecureKeys returns the config keys that hold secrets in the stack file at path (none when the
// file does not exist).
func SecureKeys(path string) ([]string, error) {
	m, err := read(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []string
	for key, v := range asMap(m["config"]) {
		if isSecure(v) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// EncryptionSalt returns the passphrase provider's state the engine wrote into the stack file at
// path (its encryptionsalt).
func EncryptionSalt(path string) (string, error) {
	m, err := read(path)
	if err != nil {
		return "", err
	}
	salt, _ := m["encryptionsalt"].(string)
	if salt == "" {
		return "", fmt.Errorf("%s has no encryptionsalt: the stack does not use the passphrase provider", path)
	}
	return salt, nil
}

// SetSecure writes values (full config key to ciphertext) into the stack file at path as secure
// values, keeping everything else and the file's header comment.
func SetSecure(path string, values map[string]string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	m, err := parse(path, data)
	if err != nil {
		return err
	}
	cfg := asMap(m["config"])
	for key, ciphertext := range values {
		cfg[key] = map[string]any{"secure": ciphertext}
	}
	m["config"] = cfg
	out, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	var header []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("#")) {
			break
		}
		header = append(header, line...)
	}
	return os.WriteFile(path, append(header, out...), 0o600)
}

func read(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, data)
}

// parse decodes the stack file at path, read as data.
func parse(path string, data []byte) (map[string]any, error) {
	m := map[string]any{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

func isSecure(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	_, ok = m["secure"]
	return ok
}

// Merge returns override merged into base: maps field by field, anything else replaced. Neither
// argument is modified.
func Merge(base, override any) any {
	b, bok := base.(map[string]any)
	o, ook := override.(map[string]any)
	if !bok || !ook {
		return override
	}
	out := map[string]any{}
	for k, v := range b {
		out[k] = v
	}
	for k, v := range o {
		out[k] = Merge(b[k], v)
	}
	return out
}
