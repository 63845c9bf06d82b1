package edgefs_test

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
)

// crdSchema is the rendered openAPIV3Schema of a kind's CRD.
func crdSchema(t *testing.T, l layer, plural string) map[string]any {
	t.Helper()
	crd := l.manifest(t, "CustomResourceDefinition", plural+".edgefs.rook.io")
	s, _ := get(crd, "spec", "versions", 0, "schema", "openAPIV3Schema").(map[string]any)
	if s == nil {
		t.Fatalf("%s has no schema", plural)
	}
	return s
}

// at walks a schema by property names ("[]" steps into array items).
func at(s map[string]any, path string) map[string]any {
	for _, p := range strings.Split(path, ".") {
		if p == "[]" {
			s, _ = s["items"].(map[string]any)
		} else {
			s, _ = get(s, "properties", p).(map[string]any)
		}
		if s == nil {
			return nil
		}
	}
	return s
}

func TestSchemaConstraints(t *testing.T) {
	l := runLayer(t, "staging", false)
	for _, tc := range []struct {
		plural, path string
		key          string
		want         any
	}{
		// Required fields.
		{"clusters", "", "required", []any{"spec"}},
		{"clusters", "spec", "required", []any{"edgefsImageName"}},
		{"nfss", "spec", "required", []any{"instances"}},
		{"s3s", "spec", "required", []any{"instances"}},
		{"smbs", "spec", "required", []any{"instances"}},
		{"swifts", "spec", "required", []any{"instances"}},
		{"s3xs", "spec", "required", []any{"instances"}},
		{"isgws", "spec", "required", []any{"direction"}},
		{"clusters", "spec.placement.all.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution", "required", []any{"nodeSelectorTerms"}},
		{"clusters", "spec.placement.all.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.[].matchExpressions.[]", "required", []any{"key", "operator"}},
		// Enums.
		{"clusters", "spec.failureDomain", "enum", []any{"device", "host", "zone"}},
		{"clusters", "spec.resourceProfile", "enum", []any{"embedded", "performance"}},
		{"nfss", "spec.resourceProfile", "enum", []any{"embedded", "performance"}},
		{"s3s", "spec.s3type", "enum", []any{"s3", "s3s", "s3g"}},
		{"s3s", "spec.serviceType", "enum", []any{"ClusterIP", "NodePort", "LoadBalancer"}},
		{"nfss", "spec.placement.tolerations.[].effect", "enum", []any{"NoSchedule", "PreferNoSchedule", "NoExecute"}},
		// Patterns.
		{"clusters", "spec.dataDirHostPath", "pattern", `^/(\S+)`},
		{"clusters", "spec.devicesResurrectMode", "pattern", `^(restore|restoreZap|restoreZapWait)(:[0-9]+)?$`},
		{"isgws", "spec.direction", "pattern", `^(send|receive|send\+receive)$`},
		{"clusters", "spec.resources.limits", "additionalProperties", map[string]any{
			"anyOf":   []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}},
			"pattern": edgefsv1.QuantityPattern, "x-kubernetes-int-or-string": true,
		}},
		// Minimums.
		{"nfss", "spec.instances", "minimum", 1.0},
		{"s3s", "spec.instances", "minimum", 1.0},
		{"smbs", "spec.instances", "minimum", 1.0},
		{"clusters", "spec.sysRepCount", "minimum", 1.0},
		{"s3s", "spec.port", "maximum", 65535.0},
		// Types where upstream had none.
		{"clusters", "spec.storage.useAllDevices", "type", "boolean"},
		{"clusters", "spec.storage.config", "additionalProperties", map[string]any{"type": "string"}},
		{"clusters", "spec.trlogKeepDays", "type", "number"},
		{"clusters", "status.state", "type", "string"},
		{"clusters", "spec.placement.all.podAffinity", "x-kubernetes-preserve-unknown-fields", true},
		// The five kinds the program never creates keep unknown spec fields.
		{"iscsis", "spec", "x-kubernetes-preserve-unknown-fields", true},
		{"smbs", "spec", "x-kubernetes-preserve-unknown-fields", true},
	} {
		s := crdSchema(t, l, tc.plural)
		if tc.path != "" {
			s = at(s, tc.path)
		}
		var got any
		if s != nil {
			got = plainOf(t, s[tc.key])
		}
		if !reflect.DeepEqual(got, plainOf(t, tc.want)) {
			t.Errorf("%s %s: %s = %v, want %v", tc.plural, tc.path, tc.key, got, tc.want)
		}
	}
}

func TestSchemaHasNoPlaceholders(t *testing.T) {
	l := runLayer(t, "staging", false)
	for _, m := range l.manifests() {
		if m["kind"] != "CustomResourceDefinition" {
			continue
		}
		walkSchema(get(m, "spec", "versions", 0, "schema", "openAPIV3Schema").(map[string]any), "", func(path string, s map[string]any) {
			preserve := s["x-kubernetes-preserve-unknown-fields"] == true
			intOrString := s["x-kubernetes-int-or-string"] == true
			if s["type"] == nil && !intOrString {
				t.Errorf("%v %s: no type", get(m, "metadata", "name"), path)
			}
			if s["type"] == "object" && s["properties"] == nil && s["additionalProperties"] == nil && !preserve && path != ".metadata" {
				t.Errorf("%v %s: an untyped object would be pruned empty", get(m, "metadata", "name"), path)
			}
			if s["type"] == "array" && (s["items"] == nil || len(s["items"].(map[string]any)) == 0) {
				t.Errorf("%v %s: array without typed items", get(m, "metadata", "name"), path)
			}
		})
	}
}

func walkSchema(s map[string]any, path string, visit func(string, map[string]any)) {
	visit(path, s)
	props, _ := s["properties"].(map[string]any)
	for _, k := range sortedKeys(props) {
		walkSchema(props[k].(map[string]any), path+"."+k, visit)
	}
	for _, sub := range []string{"items", "additionalProperties"} {
		if c, ok := s[sub].(map[string]any); ok {
			walkSchema(c, path+"["+sub+"]", visit)
		}
	}
}

// TestSchemaCoversEveryField walks the Go types field by field: each JSON field must be a property of
// the rendered schema at the same place, so a field added to a type without reaching the CRD (and
// being pruned by the API server) fails here.
func TestSchemaCoversEveryField(t *testing.T) {
	l := runLayer(t, "staging", false)
	for plural, typ := range map[string]reflect.Type{
		"clusters": reflect.TypeOf(edgefsv1.ClusterSpec{}),
		"nfss":     reflect.TypeOf(edgefsv1.NFSSpec{}),
		"s3s":      reflect.TypeOf(edgefsv1.S3Spec{}),
	} {
		var checked int
		covers(t, plural, at(crdSchema(t, l, plural), "spec"), typ, "spec", map[reflect.Type]bool{}, &checked)
		if checked < 10 {
			t.Errorf("%s: only %d fields checked", plural, checked)
		}
	}
	status := at(crdSchema(t, l, "clusters"), "status")
	var checked int
	covers(t, "clusters", status, reflect.TypeOf(edgefsv1.ClusterStatus{}), "status", map[reflect.Type]bool{}, &checked)
}

func covers(t *testing.T, plural string, s map[string]any, typ reflect.Type, path string, seen map[reflect.Type]bool, checked *int) {
	t.Helper()
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || (typ.Kind() == reflect.Map && typ != reflect.TypeOf(edgefsv1.Object{})) {
		switch typ.Kind() {
		case reflect.Slice:
			s, _ = s["items"].(map[string]any)
		case reflect.Map:
			s, _ = s["additionalProperties"].(map[string]any)
		}
		typ = typ.Elem()
		if s == nil {
			t.Errorf("%s %s: no item schema", plural, path)
			return
		}
	}
	if typ.Kind() != reflect.Struct || seen[typ] {
		return
	}
	seen = maps.Clone(seen)
	seen[typ] = true
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := edgefsv1.JSONName(f)
		if name == "" {
			continue
		}
		*checked++
		p, _ := get(s, "properties", name).(map[string]any)
		if p == nil {
			t.Errorf("%s: %s.%s is not in the schema", plural, path, name)
			continue
		}
		required := slices.Contains(anyStrings(s["required"]), name)
		if required != (f.Tag.Get("required") == "true") {
			t.Errorf("%s: %s.%s required = %v, tag says %q", plural, path, name, required, f.Tag.Get("required"))
		}
		covers(t, plural, p, f.Type, path+"."+name, seen, checked)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, e := range asSlice(v) {
		out = append(out, e.(string))
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func TestPrinterColumns(t *testing.T) {
	l := runLayer(t, "staging", false)
	type col struct{ name, typ, path string }
	want := map[string][]col{
		"clusters": {{"Image", "string", ".spec.edgefsImageName"}, {"HostPath", "string", ".spec.dataDirHostPath"}, {"Age", "date", ".metadata.creationTimestamp"}, {"State", "string", ".status.state"}},
		"nfss":     {{"Instances", "integer", ".spec.instances"}},
		"s3s":      {{"Instances", "integer", ".spec.instances"}},
		"smbs":     {{"Instances", "integer", ".spec.instances"}},
		"swifts":   {{"Instances", "integer", ".spec.instances"}},
		"s3xs":     {{"Instances", "integer", ".spec.instances"}},
		"iscsis":   nil,
		"isgws":    {{"Direction", "string", ".spec.direction"}, {"RemoteEndpoint", "string", ".spec.remoteURL"}, {"Server", "string", ".spec.config.server"}, {"Clients", "string", ".spec.config.clients"}},
	}
	for plural, cols := range want {
		crd := l.manifest(t, "CustomResourceDefinition", plural+".edgefs.rook.io")
		var got []col
		for _, c := range asSlice(get(crd, "spec", "versions", 0, "additionalPrinterColumns")) {
			got = append(got, col{get(c, "name").(string), get(c, "type").(string), get(c, "jsonPath").(string)})
		}
		if !reflect.DeepEqual(got, cols) {
			t.Errorf("%s printer columns = %v, want %v", plural, got, cols)
		}
	}
}
