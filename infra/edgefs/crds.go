package edgefs

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	apiextv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// newCRDs installs the eight CRDs controller-gen generated from package edgefsv1, each exactly as
// generated plus the component's labels. The clusters CRD is protected with the Cluster: deleting a
// CRD deletes every object of its kind, so an unprotected CRD would let a replacement take the
// protected Cluster with it.
func newCRDs(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args) ([]pulumi.Resource, error) {
	generated, err := edgefsv1.CRDs()
	if err != nil {
		return nil, wrap("crds", err)
	}
	var crds []pulumi.Resource
	meta := labelSet("crd", args.Config.OperatorImage).Labels()
	for _, crd := range generated {
		spec, err := crdSpecArgs(crd.Spec)
		if err != nil {
			return nil, wrap("crd "+crd.Name, err)
		}
		opts := []pulumi.ResourceOption{pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn)}
		if crd.Spec.Names.Kind == "Cluster" {
			opts = append(opts, pulumi.Protect(args.Protect))
		}
		res, err := apiextv1.NewCustomResourceDefinition(ctx, name+"-crd-"+crd.Spec.Names.Plural, &apiextv1.CustomResourceDefinitionArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name:        pulumi.String(crd.Name),
				Annotations: kubeprovider.Annotations(pulumi.ToStringMap(crd.Annotations)),
				Labels:      meta,
			},
			Spec: spec,
		}, opts...)
		if err != nil {
			return nil, wrap("crd "+crd.Spec.Names.Plural, err)
		}
		crds = append(crds, res)
	}
	return crds, nil
}

// crdSpecArgs converts a generated CRD's spec into the SDK's arguments. What it cannot carry is an
// error, never dropped: the generated files are fixed at build time and a test compares every CRD
// the program sends with its file.
func crdSpecArgs(s apiextensionsv1.CustomResourceDefinitionSpec) (apiextv1.CustomResourceDefinitionSpecArgs, error) {
	if s.Conversion != nil || s.PreserveUnknownFields {
		return apiextv1.CustomResourceDefinitionSpecArgs{}, fmt.Errorf("conversion and preserveUnknownFields are not supported")
	}
	var versions apiextv1.CustomResourceDefinitionVersionArray
	for _, v := range s.Versions {
		if v.Subresources != nil && (v.Subresources.Status != nil || v.Subresources.Scale != nil) {
			// The operator writes status with a full Update, which a status subresource would ignore.
			return apiextv1.CustomResourceDefinitionSpecArgs{}, fmt.Errorf("version %s: subresources are not supported", v.Name)
		}
		if v.Deprecated || len(v.SelectableFields) > 0 {
			return apiextv1.CustomResourceDefinitionSpecArgs{}, fmt.Errorf("version %s: deprecation and selectable fields are not supported", v.Name)
		}
		va := apiextv1.CustomResourceDefinitionVersionArgs{
			Name:    pulumi.String(v.Name),
			Served:  pulumi.Bool(v.Served),
			Storage: pulumi.Bool(v.Storage),
		}
		if v.Subresources != nil {
			va.Subresources = apiextv1.CustomResourceSubresourcesArgs{}
		}
		if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
			schema, err := schemaArgs(*v.Schema.OpenAPIV3Schema)
			if err != nil {
				return apiextv1.CustomResourceDefinitionSpecArgs{}, fmt.Errorf("version %s: %w", v.Name, err)
			}
			va.Schema = apiextv1.CustomResourceValidationArgs{OpenAPIV3Schema: schema}
		}
		var columns apiextv1.CustomResourceColumnDefinitionArray
		for _, c := range v.AdditionalPrinterColumns {
			col := apiextv1.CustomResourceColumnDefinitionArgs{
				Name: pulumi.String(c.Name), Type: pulumi.String(c.Type), JsonPath: pulumi.String(c.JSONPath),
			}
			if c.Description != "" {
				col.Description = pulumi.String(c.Description)
			}
			if c.Format != "" {
				col.Format = pulumi.String(c.Format)
			}
			if c.Priority != 0 {
				col.Priority = pulumi.Int(int(c.Priority))
			}
			columns = append(columns, col)
		}
		if len(columns) > 0 {
			va.AdditionalPrinterColumns = columns
		}
		versions = append(versions, va)
	}
	names := apiextv1.CustomResourceDefinitionNamesArgs{
		Kind:     pulumi.String(s.Names.Kind),
		ListKind: pulumi.String(s.Names.ListKind),
		Plural:   pulumi.String(s.Names.Plural),
		Singular: pulumi.String(s.Names.Singular),
	}
	if len(s.Names.ShortNames) > 0 {
		names.ShortNames = pulumi.ToStringArray(s.Names.ShortNames)
	}
	if len(s.Names.Categories) > 0 {
		names.Categories = pulumi.ToStringArray(s.Names.Categories)
	}
	return apiextv1.CustomResourceDefinitionSpecArgs{
		Group:    pulumi.String(s.Group),
		Scope:    pulumi.String(string(s.Scope)),
		Names:    names,
		Versions: versions,
	}, nil
}

// schemaKeywords are the keywords schemaArgs carries, each in the JSON spelling of the API.
var schemaKeywords = []string{
	"type", "format", "description", "title", "nullable", "default", "enum", "pattern",
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
	"minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
	"required", "properties", "additionalProperties", "items", "allOf", "anyOf", "oneOf", "not",
	"x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-embedded-resource",
	"x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-validations",
}

// schemaArgs converts one OpenAPI schema, and its subschemas, into the SDK's JSONSchemaProps. The SDK
// spells the x-kubernetes-* keywords with underscores; the provider renames them back
// (pulumi-kubernetes provider.go mapReplUnderscoreToDash).
func schemaArgs(s apiextensionsv1.JSONSchemaProps) (apiextv1.JSONSchemaPropsArgs, error) {
	if err := onlyKnownKeywords(s); err != nil {
		return apiextv1.JSONSchemaPropsArgs{}, err
	}
	a := apiextv1.JSONSchemaPropsArgs{
		Type:        optString(s.Type),
		Format:      optString(s.Format),
		Description: optString(s.Description),
		Title:       optString(s.Title),
		Pattern:     optString(s.Pattern),
		Nullable:    optBool(s.Nullable),
		UniqueItems: optBool(s.UniqueItems),

		ExclusiveMinimum: optBool(s.ExclusiveMinimum),
		ExclusiveMaximum: optBool(s.ExclusiveMaximum),

		X_kubernetes_int_or_string:     optBool(s.XIntOrString),
		X_kubernetes_embedded_resource: optBool(s.XEmbeddedResource),
	}
	if s.XPreserveUnknownFields != nil {
		a.X_kubernetes_preserve_unknown_fields = pulumi.Bool(*s.XPreserveUnknownFields)
	}
	if s.XListType != nil {
		a.X_kubernetes_list_type = pulumi.String(*s.XListType)
	}
	if s.XMapType != nil {
		a.X_kubernetes_map_type = pulumi.String(*s.XMapType)
	}
	if len(s.XListMapKeys) > 0 {
		a.X_kubernetes_list_map_keys = pulumi.ToStringArray(s.XListMapKeys)
	}
	var rules apiextv1.ValidationRuleArray
	for _, r := range s.XValidations {
		rule := apiextv1.ValidationRuleArgs{
			Rule:              pulumi.String(r.Rule),
			Message:           optString(r.Message),
			MessageExpression: optString(r.MessageExpression),
			FieldPath:         optString(r.FieldPath),
		}
		if r.Reason != nil {
			rule.Reason = pulumi.String(string(*r.Reason))
		}
		if r.OptionalOldSelf != nil {
			rule.OptionalOldSelf = pulumi.Bool(*r.OptionalOldSelf)
		}
		rules = append(rules, rule)
	}
	if len(rules) > 0 {
		a.X_kubernetes_validations = rules
	}
	if s.Minimum != nil {
		a.Minimum = pulumi.Float64(*s.Minimum)
	}
	if s.Maximum != nil {
		a.Maximum = pulumi.Float64(*s.Maximum)
	}
	if s.MultipleOf != nil {
		a.MultipleOf = pulumi.Float64(*s.MultipleOf)
	}
	a.MinLength, a.MaxLength = optInt(s.MinLength), optInt(s.MaxLength)
	a.MinItems, a.MaxItems = optInt(s.MinItems), optInt(s.MaxItems)
	a.MinProperties, a.MaxProperties = optInt(s.MinProperties), optInt(s.MaxProperties)
	if len(s.Required) > 0 {
		a.Required = pulumi.ToStringArray(s.Required)
	}
	if s.Default != nil {
		v, err := jsonValue(s.Default)
		if err != nil {
			return a, fmt.Errorf("default: %w", err)
		}
		a.Default = v
	}
	if len(s.Enum) > 0 {
		enum := pulumi.Array{}
		for _, e := range s.Enum {
			v, err := jsonValue(&e)
			if err != nil {
				return a, fmt.Errorf("enum: %w", err)
			}
			enum = append(enum, v)
		}
		a.Enum = enum
	}
	if len(s.Properties) > 0 {
		props := apiextv1.JSONSchemaPropsMap{}
		for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
			p, err := schemaArgs(s.Properties[k])
			if err != nil {
				return a, fmt.Errorf("%s: %w", k, err)
			}
			props[k] = p
		}
		a.Properties = props
	}
	if ap := s.AdditionalProperties; ap != nil {
		if ap.Schema == nil {
			a.AdditionalProperties = pulumi.Bool(ap.Allows)
		} else {
			p, err := schemaArgs(*ap.Schema)
			if err != nil {
				return a, fmt.Errorf("additionalProperties: %w", err)
			}
			a.AdditionalProperties = p
		}
	}
	if it := s.Items; it != nil {
		if it.Schema == nil {
			return a, fmt.Errorf("items: an array of schemas is not supported")
		}
		p, err := schemaArgs(*it.Schema)
		if err != nil {
			return a, fmt.Errorf("items: %w", err)
		}
		a.Items = p
	}
	var err error
	if a.AllOf, err = schemaList("allOf", s.AllOf); err != nil {
		return a, err
	}
	if a.AnyOf, err = schemaList("anyOf", s.AnyOf); err != nil {
		return a, err
	}
	if a.OneOf, err = schemaList("oneOf", s.OneOf); err != nil {
		return a, err
	}
	if s.Not != nil {
		p, err := schemaArgs(*s.Not)
		if err != nil {
			return a, fmt.Errorf("not: %w", err)
		}
		a.Not = p
	}
	return a, nil
}

func schemaList(keyword string, list []apiextensionsv1.JSONSchemaProps) (apiextv1.JSONSchemaPropsArrayInput, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := apiextv1.JSONSchemaPropsArray{}
	for i, s := range list {
		p, err := schemaArgs(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", keyword, i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// onlyKnownKeywords fails on a keyword of s (not of its subschemas) that schemaArgs does not carry.
func onlyKnownKeywords(s apiextensionsv1.JSONSchemaProps) error {
	s.Properties, s.AdditionalProperties, s.Items, s.AllOf, s.AnyOf, s.OneOf, s.Not = nil, nil, nil, nil, nil, nil, nil
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	for k := range keys {
		if !slices.Contains(schemaKeywords, k) {
			return fmt.Errorf("schema keyword %s is not supported", k)
		}
	}
	return nil
}

// jsonValue is a JSON literal of a schema (default, enum) as a Pulumi value.
func jsonValue(j *apiextensionsv1.JSON) (pulumi.Input, error) {
	var v any
	if err := json.Unmarshal(j.Raw, &v); err != nil {
		return nil, err
	}
	return pulumi.Any(v), nil
}

func optString(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}

func optBool(b bool) pulumi.BoolPtrInput {
	if !b {
		return nil
	}
	return pulumi.Bool(true)
}

func optInt(n *int64) pulumi.IntPtrInput {
	if n == nil {
		return nil
	}
	return pulumi.Int(int(*n))
}
