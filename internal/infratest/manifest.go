package infratest

import (
	"math"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Redacted replaces every secret value in render output.
const Redacted = "[secret]"

// plain turns a property value into plain Go data (map[string]any, []any, string, float64/int64,
// bool, nil). Secrets become Redacted when redact is set; resource references become their URN.
func plain(v resource.PropertyValue, redact bool) any {
	switch {
	case v.IsSecret():
		if redact {
			return redactLeaves(plain(v.SecretValue().Element, false))
		}
		return plain(v.SecretValue().Element, redact)
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return nil
		}
		if o.Secret && redact {
			return redactLeaves(plain(o.Element, false))
		}
		return plain(o.Element, redact)
	case v.IsComputed():
		return nil
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		n := v.NumberValue()
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n)
		}
		return n
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = plain(e, redact)
		}
		return out
	case v.IsObject():
		return plainMap(v.ObjectValue(), redact)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsAsset(), v.IsArchive():
		return "[asset]"
	}
	return nil
}

// redactLeaves keeps the shape of a secret value (map keys, list lengths) and replaces every leaf, so
// a reviewer still sees which Secret keys exist and changed, never their values.
func redactLeaves(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = redactLeaves(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = redactLeaves(e)
		}
		return out
	case nil:
		return nil
	}
	return Redacted
}

func plainMap(m resource.PropertyMap, redact bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		if e.IsNull() || e.IsComputed() {
			continue
		}
		out[apiKey(string(k))] = plain(e, redact)
	}
	return out
}

// apiKey turns the Go SDK's x_kubernetes_* schema keys (Go names cannot hold dashes) into the
// x-kubernetes-* names the provider sends to the API server (pulumi/pulumi-kubernetes#2128).
func apiKey(k string) string {
	if strings.HasPrefix(k, "x_kubernetes_") {
		return strings.ReplaceAll(k, "_", "-")
	}
	return k
}

// Plain returns the inputs as plain Go data, secrets redacted or not.
func (res Resource) Plain(redact bool) map[string]any { return plainMap(res.Inputs, redact) }

// IsKubernetesObject reports whether the resource is a Kubernetes object the provider applies as a
// manifest (not the provider itself, not a Helm release, not a component).
func (res Resource) IsKubernetesObject() bool {
	return res.Custom && strings.HasPrefix(res.Type, "kubernetes:") && !strings.HasPrefix(res.Type, "kubernetes:helm.sh/")
}

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
