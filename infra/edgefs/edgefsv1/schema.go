package edgefsv1

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Schema is an OpenAPI v3 schema as apiextensions.k8s.io/v1 takes it (JSONSchemaProps), limited to
// the keywords the generator emits. Its JSON is the CRD's.
type Schema struct {
	Type                 string            `json:"type,omitempty"`
	Description          string            `json:"description,omitempty"`
	Properties           map[string]Schema `json:"properties,omitempty"`
	AdditionalProperties *Schema           `json:"additionalProperties,omitempty"`
	Items                *Schema           `json:"items,omitempty"`
	Required             []string          `json:"required,omitempty"`
	Enum                 []string          `json:"enum,omitempty"`
	Pattern              string            `json:"pattern,omitempty"`
	Minimum              *float64          `json:"minimum,omitempty"`
	Maximum              *float64          `json:"maximum,omitempty"`
	AnyOf                []Schema          `json:"anyOf,omitempty"`
	IntOrString          bool              `json:"x-kubernetes-int-or-string,omitempty"`
	PreserveUnknown      bool              `json:"x-kubernetes-preserve-unknown-fields,omitempty"`
}

// QuantityPattern is what the API server's own OpenAPI says of a resource.Quantity (as controller-gen
// writes it).
const QuantityPattern = `^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`

var (
	quantityType = reflect.TypeOf(Quantity(""))
	objectType   = reflect.TypeOf(Object(nil))
)

// SchemaFor generates the structural schema of a Go type from its json tags and the validation tags
// described in the package comment. Every object is typed or keeps unknown fields, every array has
// typed items, so the API server accepts it as structural and prunes nothing the program sends.
// It panics on a type it cannot express: the types are fixed at compile time and a test covers them.
func SchemaFor(t reflect.Type) Schema {
	switch t {
	case quantityType:
		return Schema{AnyOf: []Schema{{Type: "integer"}, {Type: "string"}}, Pattern: QuantityPattern, IntOrString: true}
	case objectType:
		return Schema{Type: "object", PreserveUnknown: true}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return SchemaFor(t.Elem())
	case reflect.String:
		return Schema{Type: "string"}
	case reflect.Bool:
		return Schema{Type: "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return Schema{Type: "integer"}
	case reflect.Float64:
		return Schema{Type: "number"}
	case reflect.Slice:
		items := SchemaFor(t.Elem())
		return Schema{Type: "array", Items: &items}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("edgefsv1: map key of %s is not a string", t))
		}
		values := SchemaFor(t.Elem())
		return Schema{Type: "object", AdditionalProperties: &values}
	case reflect.Struct:
		return structSchema(t)
	}
	panic(fmt.Sprintf("edgefsv1: no schema for %s", t))
}

func structSchema(t reflect.Type) Schema {
	s := Schema{Type: "object", Properties: map[string]Schema{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name := JSONName(f)
		if name == "" {
			continue
		}
		p := SchemaFor(f.Type)
		if v, ok := f.Tag.Lookup("enum"); ok {
			p.Enum = strings.Split(v, ",")
		}
		if v, ok := f.Tag.Lookup("pattern"); ok {
			p.Pattern = v
		}
		p.Minimum = number(f, "minimum")
		p.Maximum = number(f, "maximum")
		if f.Tag.Get("required") == "true" {
			s.Required = append(s.Required, name)
		}
		s.Properties[name] = p
	}
	sort.Strings(s.Required)
	return s
}

// JSONName is the JSON name of a struct field, "" for fields encoding/json skips.
func JSONName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

func number(f reflect.StructField, tag string) *float64 {
	v, ok := f.Tag.Lookup(tag)
	if !ok {
		return nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		panic(fmt.Sprintf("edgefsv1: %s.%s: %s tag %q is not a number", f.Type, f.Name, tag, v))
	}
	return &n
}
