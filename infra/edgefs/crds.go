package edgefs

import (
	apiextv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
)

// newCRDs installs the eight CRDs. The clusters CRD is protected with the Cluster: deleting a CRD
// deletes every object of its kind, so an unprotected CRD would let a replacement take the protected
// Cluster with it.
func newCRDs(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args) ([]pulumi.Resource, error) {
	var crds []pulumi.Resource
	meta := labelSet("crd", args.Config.OperatorImage).Labels()
	for _, crd := range edgefsv1.CRDs() {
		opts := []pulumi.ResourceOption{pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn)}
		if crd.Kind == "Cluster" {
			opts = append(opts, pulumi.Protect(args.Protect))
		}
		res, err := apiextv1.NewCustomResourceDefinition(ctx, name+"-crd-"+crd.Plural, &apiextv1.CustomResourceDefinitionArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(crd.Name()), Labels: meta},
			Spec: apiextv1.CustomResourceDefinitionSpecArgs{
				Group: pulumi.String(edgefsv1.Group),
				Scope: pulumi.String("Namespaced"),
				Names: apiextv1.CustomResourceDefinitionNamesArgs{
					Kind:     pulumi.String(crd.Kind),
					ListKind: pulumi.String(crd.ListKind),
					Plural:   pulumi.String(crd.Plural),
					Singular: pulumi.String(crd.Singular),
				},
				Versions: apiextv1.CustomResourceDefinitionVersionArray{apiextv1.CustomResourceDefinitionVersionArgs{
					Name:                     pulumi.String(edgefsv1.Version),
					Served:                   pulumi.Bool(true),
					Storage:                  pulumi.Bool(true),
					Schema:                   apiextv1.CustomResourceValidationArgs{OpenAPIV3Schema: schemaArgs(crd.Schema)},
					AdditionalPrinterColumns: columnArgs(crd.Columns),
				}},
			},
		}, opts...)
		if err != nil {
			return nil, wrap("crd "+crd.Plural, err)
		}
		crds = append(crds, res)
	}
	return crds, nil
}

// schemaArgs converts a generated schema into the SDK's JSONSchemaProps.
func schemaArgs(s edgefsv1.Schema) apiextv1.JSONSchemaPropsArgs {
	a := apiextv1.JSONSchemaPropsArgs{}
	if s.Type != "" {
		a.Type = pulumi.String(s.Type)
	}
	if s.Description != "" {
		a.Description = pulumi.String(s.Description)
	}
	if len(s.Properties) > 0 {
		props := apiextv1.JSONSchemaPropsMap{}
		for k, p := range s.Properties {
			props[k] = schemaArgs(p)
		}
		a.Properties = props
	}
	if s.AdditionalProperties != nil {
		a.AdditionalProperties = schemaArgs(*s.AdditionalProperties)
	}
	if s.Items != nil {
		a.Items = schemaArgs(*s.Items)
	}
	if len(s.Required) > 0 {
		a.Required = pulumi.ToStringArray(s.Required)
	}
	if len(s.Enum) > 0 {
		enum := pulumi.Array{}
		for _, e := range s.Enum {
			enum = append(enum, pulumi.String(e))
		}
		a.Enum = enum
	}
	if s.Pattern != "" {
		a.Pattern = pulumi.String(s.Pattern)
	}
	if s.Minimum != nil {
		a.Minimum = pulumi.Float64(*s.Minimum)
	}
	if s.Maximum != nil {
		a.Maximum = pulumi.Float64(*s.Maximum)
	}
	if len(s.AnyOf) > 0 {
		anyOf := apiextv1.JSONSchemaPropsArray{}
		for _, o := range s.AnyOf {
			anyOf = append(anyOf, schemaArgs(o))
		}
		a.AnyOf = anyOf
	}
	// The SDK spells the x-kubernetes-* keywords with underscores; the provider renames them back
	// (pulumi-kubernetes provider.go mapReplUnderscoreToDash).
	if s.IntOrString {
		a.X_kubernetes_int_or_string = pulumi.Bool(true)
	}
	if s.PreserveUnknown {
		a.X_kubernetes_preserve_unknown_fields = pulumi.Bool(true)
	}
	return a
}

func columnArgs(cols []edgefsv1.Column) apiextv1.CustomResourceColumnDefinitionArray {
	var out apiextv1.CustomResourceColumnDefinitionArray
	for _, c := range cols {
		out = append(out, apiextv1.CustomResourceColumnDefinitionArgs{
			Name:     pulumi.String(c.Name),
			Type:     pulumi.String(c.Type),
			JsonPath: pulumi.String(c.JSONPath),
		})
	}
	return out
}
