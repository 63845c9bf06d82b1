package infratest

import (
	"sort"
	"strings"

	"github.com/openneuro/openneuro-infra/internal/recorded"
)

// Redacted replaces every secret value in render output.
const Redacted = recorded.Redacted

// Manifest is one Kubernetes object as the provider would apply it.
type Manifest struct {
	URN    string
	Type   string
	Object map[string]any
}

// APIVersion is the manifest's apiVersion.
func (m Manifest) APIVersion() string { s, _ := m.Object["apiVersion"].(string); return s }

// Kind is the manifest's kind.
func (m Manifest) Kind() string { s, _ := m.Object["kind"].(string); return s }

// Namespace is the manifest's metadata.namespace, empty for cluster-scoped objects.
func (m Manifest) Namespace() string { s, _ := m.metadata()["namespace"].(string); return s }

// Name is the manifest's metadata.name.
func (m Manifest) Name() string { s, _ := m.metadata()["name"].(string); return s }

func (m Manifest) metadata() map[string]any {
	md, _ := m.Object["metadata"].(map[string]any)
	return md
}

// Manifests returns every Kubernetes object, sorted by kind, namespace and name. An object without
// metadata.name gets the provider's auto-name: the logical name plus a suffix (deterministic here).
func (r *Recorder) Manifests(redactSecrets bool) []Manifest {
	var out []Manifest
	for _, res := range r.Resources() {
		if !res.IsKubernetesObject() {
			continue
		}
		obj := res.Plain(redactSecrets)
		md, _ := obj["metadata"].(map[string]any)
		if md == nil {
			md = map[string]any{}
			obj["metadata"] = md
		}
		if name, _ := md["name"].(string); name == "" {
			md["name"] = res.Name + "-" + hexOf(res.URN, 8)
		}
		out = append(out, Manifest{URN: res.URN, Type: res.Type, Object: obj})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind() != b.Kind() {
			return a.Kind() < b.Kind()
		}
		if a.Namespace() != b.Namespace() {
			return a.Namespace() < b.Namespace()
		}
		return a.Name() < b.Name()
	})
	return out
}

// ResourceRecord is one entry of render's resources.json.
type ResourceRecord struct {
	Type           string         `json:"type"`
	Name           string         `json:"name"`
	URN            string         `json:"urn"`
	Parent         string         `json:"parent"`
	DependsOn      []string       `json:"dependsOn"`
	Provider       string         `json:"provider"`
	Protect        bool           `json:"protect"`
	RetainOnDelete bool           `json:"retainOnDelete"`
	Inputs         map[string]any `json:"inputs"`
}

// Records returns every resource for resources.json, secrets redacted, sorted by URN. The provider
// reference drops its id (a fresh UUID in a real run) and keeps the provider's URN.
func (r *Recorder) Records() []ResourceRecord {
	var out []ResourceRecord
	for _, res := range r.Resources() {
		deps := res.DependsOn
		if deps == nil {
			deps = []string{}
		}
		provider := providerURN(res.Provider)
		out = append(out, ResourceRecord{
			Type: res.Type, Name: res.Name, URN: res.URN, Parent: res.Parent, DependsOn: deps,
			Provider: provider, Protect: res.Protect, RetainOnDelete: res.RetainOnDelete,
			Inputs: res.Plain(true),
		})
	}
	return out
}

// providerURN drops the id from a "<urn>::<id>" provider reference.
func providerURN(ref string) string {
	if i := strings.LastIndex(ref, "::"); i >= 0 {
		return ref[:i]
	}
	return ref
}
