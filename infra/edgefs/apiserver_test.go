package edgefs_test

// The API server's own CRD and custom-resource validation, run in-process over what the layer renders:
// the CRDs must be accepted as structural, every CR must validate against its CRD with nothing pruned,
// and the Cluster must still validate after the operator writes it back. (internal/kubecheck sends the
// same objects to a real kube-apiserver.)

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// apiCRD is a rendered CRD as the API server holds it.
type apiCRD struct {
	kind       string
	schema     *apiextensions.JSONSchemaProps
	structural *structuralschema.Structural
	validator  validation.SchemaValidator
	v1         apiextensionsv1.CustomResourceDefinition
}

// admitCRD decodes a rendered CRD strictly, defaults and validates it as the API server does on
// create, and prepares its schema for validating objects.
func admitCRD(t *testing.T, manifest map[string]any) apiCRD {
	t.Helper()
	raw, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var v1 apiextensionsv1.CustomResourceDefinition
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v1); err != nil {
		t.Fatalf("CRD %v does not decode strictly: %v", get(manifest, "metadata", "name"), err)
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(&v1)
	var crd apiextensions.CustomResourceDefinition
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&v1, &crd, nil); err != nil {
		t.Fatal(err)
	}
	crd.Status.StoredVersions = []string{"v1"} // set by the registry on create
	if errs := crdvalidation.ValidateCustomResourceDefinition(context.Background(), &crd); len(errs) > 0 {
		t.Fatalf("CRD %s is invalid: %v", crd.Name, errs.ToAggregate())
	}
	schema := crd.Spec.Validation
	if schema == nil {
		schema = crd.Spec.Versions[0].Schema
	}
	structural, err := structuralschema.NewStructural(schema.OpenAPIV3Schema)
	if err != nil {
		t.Fatalf("CRD %s: %v", crd.Name, err)
	}
	validator, _, err := validation.NewSchemaValidator(schema.OpenAPIV3Schema)
	if err != nil {
		t.Fatalf("CRD %s: %v", crd.Name, err)
	}
	return apiCRD{kind: crd.Spec.Names.Kind, schema: schema.OpenAPIV3Schema, structural: structural, validator: validator, v1: v1}
}

// admit runs obj through the API server's custom-resource decoding (prune unknown fields, then
// nulls, customresource_handler.go) and validation, and returns the fields it pruned.
func (c apiCRD) admit(t *testing.T, obj map[string]any) (pruned []string) {
	t.Helper()
	// Decode like the API server: whole numbers become int64.
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := utiljson.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	pruned = pruning.PruneWithOptions(decoded, c.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	defaulting.PruneNonNullableNullsWithoutDefaults(decoded, c.structural)
	if errs := validation.ValidateCustomResource(nil, decoded, c.validator); len(errs) > 0 {
		t.Errorf("%s %v is rejected: %v", c.kind, get(obj, "metadata", "name"), errs.ToAggregate())
	}
	return pruned
}

// crdsByKind admits every rendered CRD.
func crdsByKind(t *testing.T, l layer) map[string]apiCRD {
	t.Helper()
	out := map[string]apiCRD{}
	for _, m := range l.manifests() {
		if m["kind"] == "CustomResourceDefinition" {
			c := admitCRD(t, m)
			out[c.kind] = c
		}
	}
	return out
}

func TestCRDsAreAcceptedByTheAPIServer(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "staging", false, withS3())
	crds := crdsByKind(t, l)
	if len(crds) != 8 {
		t.Fatalf("%d CRDs, want the 8 kinds the operator watches", len(crds))
	}
	for kind, c := range crds {
		if c.v1.Spec.Scope != apiextensionsv1.NamespaceScoped || len(c.v1.Spec.Versions) != 1 {
			t.Errorf("%s: scope %s, %d versions; want Namespaced, one version", kind, c.v1.Spec.Scope, len(c.v1.Spec.Versions))
		}
		v := c.v1.Spec.Versions[0]
		if v.Name != "v1" || !v.Served || !v.Storage {
			t.Errorf("%s: version %+v, want v1 served and stored", kind, v)
		}
		// The operator updates status with a plain Update, which a status subresource would ignore.
		// (controller-gen writes an empty subresources object next to printer columns: none.)
		if v.Subresources != nil && (v.Subresources.Status != nil || v.Subresources.Scale != nil) {
			t.Errorf("%s has subresources %+v; the operator writes .status with a full Update", kind, v.Subresources)
		}
	}
}

func TestCustomResourcesValidateWithNothingPruned(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		l    layer
		want int
	}{
		{"staging with s3", runLayer(t, "staging", false, withS3()), 3},
		{"prod relaxed", runLayer(t, "prod", false, relaxed()), 2},
		{"no pool", runLayer(t, "staging", true, withS3()), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crds := crdsByKind(t, tc.l)
			n := 0
			for _, m := range tc.l.manifests() {
				if m["apiVersion"] != "edgefs.rook.io/v1" {
					continue
				}
				n++
				if pruned := crds[m["kind"].(string)].admit(t, m); len(pruned) > 0 {
					t.Errorf("%s %v: the API server would prune %v", m["kind"], get(m, "metadata", "name"), pruned)
				}
			}
			if n != tc.want {
				t.Errorf("%d EdgeFS objects checked, want %d", n, tc.want)
			}
		})
	}
}

// TestClusterSurvivesTheOperatorsUpdate writes the Cluster back as the operator does (its Go types
// serialise zero Quantities as "0" and the dashboard's localAddr as "", and it adds its finalizer and
// the status in the same Update): the schema must accept that and keep the status.
func TestClusterSurvivesTheOperatorsUpdate(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "prod", false)
	crd := crdsByKind(t, l)["Cluster"]
	obj := l.manifest(t, "Cluster", "rook-edgefs")
	var written map[string]any
	if err := json.Unmarshal([]byte(jsonOf(t, obj)), &written); err != nil {
		t.Fatal(err)
	}
	spec := written["spec"].(map[string]any)
	for _, q := range []string{"dataVolumeSize", "chunkCacheSize", "maxContainerCapacity"} {
		spec[q] = "0"
	}
	spec["dashboard"] = map[string]any{"localAddr": ""}
	spec["network"] = map[string]any{}
	spec["annotations"] = nil
	written["metadata"].(map[string]any)["finalizers"] = []any{"cluster.edgefs.rook.io"}
	written["status"] = map[string]any{"state": "Created", "message": ""}

	if pruned := crd.admit(t, written); len(pruned) > 0 {
		t.Errorf("the API server would prune %v from the operator's update", pruned)
	}
	kept := map[string]any{}
	_ = json.Unmarshal([]byte(jsonOf(t, written)), &kept)
	pruning.Prune(kept, crd.structural, true)
	if got := get(kept, "status", "state"); got != "Created" {
		t.Errorf("status.state after pruning = %v, want Created: the schema must type status", got)
	}
	if !reflect.DeepEqual(get(kept, "spec", "storage"), get(obj, "spec", "storage")) {
		t.Errorf("storage after the update = %v, want %v", get(kept, "spec", "storage"), get(obj, "spec", "storage"))
	}
}

// TestSchemaRejectsWhatTheOperatorRejects checks that the constraints are live, not decoration.
func TestSchemaRejectsWhatTheOperatorRejects(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "staging", false, withS3())
	crds := crdsByKind(t, l)
	for _, tc := range []struct {
		kind, name string
		path       []string
		value      any
	}{
		{"Cluster", "rook-edgefs", []string{"spec", "failureDomain"}, "rack"},
		{"Cluster", "rook-edgefs", []string{"spec", "dataDirHostPath"}, "var/lib/edgefs"},
		{"Cluster", "rook-edgefs", []string{"spec", "devicesResurrectMode"}, "zap"},
		{"Cluster", "rook-edgefs", []string{"spec", "resourceProfile"}, "huge"},
		{"Cluster", "rook-edgefs", []string{"spec", "sysRepCount"}, 0},
		{"Cluster", "rook-edgefs", []string{"spec", "resources", "limits", "memory"}, "8 GiB"},
		{"Cluster", "rook-edgefs", []string{"spec", "edgefsImageName"}, nil},
		{"NFS", "datasets", []string{"spec", "instances"}, 0},
		{"NFS", "datasets", []string{"spec", "instances"}, nil},
		{"S3", "s3", []string{"spec", "s3type"}, "s4"},
	} {
		obj := l.manifest(t, tc.kind, tc.name)
		var bad map[string]any
		_ = json.Unmarshal([]byte(jsonOf(t, obj)), &bad)
		parent := bad
		for _, p := range tc.path[:len(tc.path)-1] {
			parent = parent[p].(map[string]any)
		}
		last := tc.path[len(tc.path)-1]
		if tc.value == nil {
			delete(parent, last)
		} else {
			parent[last] = tc.value
		}
		raw, _ := json.Marshal(bad)
		var decoded map[string]any
		_ = utiljson.Unmarshal(raw, &decoded)
		if errs := validation.ValidateCustomResource(nil, decoded, crds[tc.kind].validator); len(errs) == 0 {
			t.Errorf("%s with %v = %v is accepted", tc.kind, tc.path, tc.value)
		}
	}
}
