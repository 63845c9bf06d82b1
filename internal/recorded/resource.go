// Package recorded is the record of one resource registration as a test run sees it (its type,
// name, options and inputs) and its inputs as plain Go data. It has no Pulumi program in it, so a
// package that reads records (the deploy graph) does not link the program's providers.
package recorded

import (
	"math"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Redacted replaces every secret value in render output.
const Redacted = "[secret]"

// PlainValue turns a property value into plain Go data (map[string]any, []any, string, float64/int64,
// bool, nil). Secrets become Redacted when redact is set; resource references become their URN.
func PlainValue(v resource.PropertyValue, redact bool) any {
	switch {
	case v.IsSecret():
		if redact {
			return redactLeaves(PlainValue(v.SecretValue().Element, false))
		}
		return PlainValue(v.SecretValue().Element, redact)
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return nil
		}
		if o.Secret && redact {
			return redactLeaves(PlainValue(o.Element, false))
		}
		return PlainValue(o.Element, redact)
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
			out[i] = PlainValue(e, redact)
		}
		return out
	case v.IsObject():
		return PlainMap(v.ObjectValue(), redact)
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

// PlainMap is PlainValue of every set property, keyed by the name the provider sends.
func PlainMap(m resource.PropertyMap, redact bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		if e.IsNull() || e.IsComputed() {
			continue
		}
		out[apiKey(string(k))] = PlainValue(e, redact)
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
func (res Resource) Plain(redact bool) map[string]any { return PlainMap(res.Inputs, redact) }

// IsKubernetesObject reports whether the resource is a Kubernetes object the provider applies as a
// manifest (not the provider itself, not a Helm release, not a component).
func (res Resource) IsKubernetesObject() bool {
	return res.Custom && strings.HasPrefix(res.Type, "kubernetes:") && !strings.HasPrefix(res.Type, "kubernetes:helm.sh/")
}

// Resource is one registered resource as the engine would see it.
type Resource struct {
	Type   string
	Name   string
	URN    string
	Parent string
	// Provider is the provider reference ("<urn>::<id>") the resource was registered with, "" for the
	// default provider.
	Provider string
	// Custom is false for component resources.
	Custom bool
	// DependsOn are the URNs of the explicit and implicit (input) dependencies.
	DependsOn []string
	// PropertyDependencies are, per input property, the URNs that property's value came from.
	PropertyDependencies map[string][]string
	Protect              bool
	RetainOnDelete       bool
	DeleteBeforeReplace  bool
	IgnoreChanges        []string
	// CreateTimeout is the resource's custom create timeout ("" for the provider's default).
	CreateTimeout string
	// AliasURNs are the URNs the resource's aliases name: the identities it had before, which the
	// engine matches against the state instead of creating it anew.
	AliasURNs []string
	// Transforms are the resource's transforms. The mocks do not run them: a test applies them to
	// the children a packaged component (pulumi-eks) would register, with ChildOptions.
	Transforms []pulumi.ResourceTransform
	// Inputs are the resource's inputs; secret values are marked secret.
	Inputs resource.PropertyMap
	// Outputs are what the mocks returned (inputs plus canned outputs).
	Outputs resource.PropertyMap
	// ID is the fake physical id the mocks gave the resource.
	ID string
}
