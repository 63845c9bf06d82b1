package edgefs_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// quantityPattern is what the API server's own OpenAPI says of a resource.Quantity, as controller-gen
// writes it.
const quantityPattern = `^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`

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
	t.Parallel()
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
		// Kubernetes types are typed as core/v1 is (its enums are not CRD enums).
		{"nfss", "spec.placement.tolerations.[].effect", "type", "string"},
		{"clusters", "spec.placement.all.tolerations.[].tolerationSeconds", "format", "int64"},
		{"clusters", "spec.placement.all.podAffinity.requiredDuringSchedulingIgnoredDuringExecution", "type", "array"},
		{"clusters", "spec.placement.all.topologySpreadConstraints.[]", "required", []any{"maxSkew", "topologyKey", "whenUnsatisfiable"}},
		// Patterns.
		{"clusters", "spec.dataDirHostPath", "pattern", `^/(\S+)`},
		{"clusters", "spec.devicesResurrectMode", "pattern", `^(restore|restoreZap|restoreZapWait)(:[0-9]+)?$`},
		{"isgws", "spec.direction", "pattern", `^(send|receive|send\+receive)$`},
		{"clusters", "spec.resources.limits", "additionalProperties", map[string]any{
			"anyOf":   []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}},
			"pattern": quantityPattern, "x-kubernetes-int-or-string": true,
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
		{"clusters", "spec.dataVolumeSize", "x-kubernetes-int-or-string", true},
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
	t.Parallel()
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

// TestCRDsAreTheGeneratedFiles: the program sends every CRD of edgefsv1.Plurals exactly as
// controller-gen wrote it into edgefsv1/crds (whose drift from the Go types `make lint` checks), with
// the component's labels and every object's annotations (kubeprovider.Annotations) added.
func TestCRDsAreTheGeneratedFiles(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "staging", false)
	var sent []string
	for _, m := range l.manifests() {
		if m["kind"] == "CustomResourceDefinition" {
			sent = append(sent, get(m, "spec", "names", "plural").(string))
		}
	}
	if !reflect.DeepEqual(slices.Sorted(slices.Values(sent)), slices.Sorted(slices.Values(edgefsv1.Plurals))) {
		t.Errorf("CRDs sent %v, want %v", sent, edgefsv1.Plurals)
	}
	for _, plural := range edgefsv1.Plurals {
		name := plural + "." + edgefsv1.Group
		data, err := os.ReadFile(filepath.Join("edgefsv1", "crds", edgefsv1.Group+"_"+plural+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var file map[string]any
		if err := yaml.Unmarshal(data, &file); err != nil {
			t.Fatal(err)
		}
		got := l.manifest(t, "CustomResourceDefinition", name)
		labels, _ := get(got, "metadata", "labels").(map[string]any)
		if labels["app.kubernetes.io/component"] != "crd" {
			t.Errorf("%s: labels %v, want the component's", name, labels)
		}
		if ann, _ := get(file, "metadata", "annotations").(map[string]any); ann != nil {
			ann[kubeprovider.PatchForceAnnotation] = "true"
		}
		for _, path := range [][]any{{"apiVersion"}, {"kind"}, {"metadata", "name"}, {"metadata", "annotations"}, {"spec"}} {
			if g, w := jsonOf(t, get(got, path...)), jsonOf(t, get(file, path...)); g != w {
				t.Errorf("%s %v differs from the generated file:\n got %s\nwant %s", name, path, g, w)
			}
		}
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
	t.Parallel()
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
