package edgefsv1

import "reflect"

// CRD is one CustomResourceDefinition of the group: names, the schema of the single version v1
// (namespaced, served, stored) and its printer columns.
type CRD struct {
	Kind     string
	ListKind string
	Plural   string
	Singular string
	// Schema is the openAPIV3Schema of the whole object.
	Schema Schema
	// Columns are the additionalPrinterColumns of kubectl get.
	Columns []Column
}

// Name is the CRD's metadata.name, <plural>.<group>.
func (c CRD) Name() string { return c.Plural + "." + Group }

// Column is one additionalPrinterColumn.
type Column struct {
	Name     string
	Type     string // string, integer, number, boolean or date
	JSONPath string
}

// No CRD has a status subresource, as upstream: the operator sets .status with a plain Update of the
// whole Cluster (pkg/operator/edgefs/cluster/controller.go updateClusterStatus), which a status
// subresource would silently strip. Cluster's schema therefore types status, or the API server would
// prune what the operator writes.

// CRDs returns the eight CRDs of edgefs.rook.io the operator watches: Cluster, NFS and S3 with
// schemas generated from this package's types, and SMB, SWIFT, S3X, ISCSI and ISGW, which the program
// never creates, with their upstream validation on a spec that keeps unknown fields. Those five are
// only there so the watchers the operator starts for every kind after a Cluster comes up can list
// them (it logs and retries forever on a missing CRD); typing them would be code nobody exercises that
// drifts from an operator we do not run.
func CRDs() []CRD {
	instances := []Column{{Name: "Instances", Type: "integer", JSONPath: ".spec.instances"}}
	return []CRD{
		{
			Kind: "Cluster", ListKind: "ClusterList", Plural: "clusters", Singular: "cluster",
			Schema: objectSchema(SchemaFor(reflect.TypeOf(ClusterSpec{})), ptr(SchemaFor(reflect.TypeOf(ClusterStatus{})))),
			Columns: []Column{
				{Name: "Image", Type: "string", JSONPath: ".spec.edgefsImageName"},
				{Name: "HostPath", Type: "string", JSONPath: ".spec.dataDirHostPath"},
				{Name: "Age", Type: "date", JSONPath: ".metadata.creationTimestamp"},
				{Name: "State", Type: "string", JSONPath: ".status.state"},
			},
		},
		{
			Kind: "NFS", ListKind: "NFSList", Plural: "nfss", Singular: "nfs",
			Schema:  objectSchema(SchemaFor(reflect.TypeOf(NFSSpec{})), nil),
			Columns: instances,
		},
		{
			Kind: "S3", ListKind: "S3List", Plural: "s3s", Singular: "s3",
			Schema:  objectSchema(SchemaFor(reflect.TypeOf(S3Spec{})), nil),
			Columns: instances,
		},
		{
			Kind: "SMB", ListKind: "SMBList", Plural: "smbs", Singular: "smb",
			Schema:  objectSchema(openSpec(instancesRequired()), nil),
			Columns: instances,
		},
		{
			Kind: "SWIFT", ListKind: "SWIFTList", Plural: "swifts", Singular: "swift",
			Schema:  objectSchema(openSpec(instancesRequired()), nil),
			Columns: instances,
		},
		{
			Kind: "S3X", ListKind: "S3XList", Plural: "s3xs", Singular: "s3x",
			Schema:  objectSchema(openSpec(instancesRequired()), nil),
			Columns: instances,
		},
		{
			// Upstream has no validation and no columns for ISCSI.
			Kind: "ISCSI", ListKind: "ISCSIList", Plural: "iscsis", Singular: "iscsi",
			Schema: objectSchema(openSpec(Schema{}), nil),
		},
		{
			Kind: "ISGW", ListKind: "ISGWList", Plural: "isgws", Singular: "isgw",
			Schema: objectSchema(openSpec(Schema{
				Required: []string{"direction"},
				Properties: map[string]Schema{
					"direction": {Type: "string", Pattern: `^(send|receive|send\+receive)$`},
					"remoteURL": {Type: "string"},
					"config": {Type: "object", Properties: map[string]Schema{
						"server":  {Type: "string"},
						"clients": {Type: "array", Items: &Schema{Type: "string"}},
					}},
				},
			}), nil),
			Columns: []Column{
				{Name: "Direction", Type: "string", JSONPath: ".spec.direction"},
				{Name: "RemoteEndpoint", Type: "string", JSONPath: ".spec.remoteURL"},
				{Name: "Server", Type: "string", JSONPath: ".spec.config.server"},
				{Name: "Clients", Type: "string", JSONPath: ".spec.config.clients"},
			},
		},
	}
}

// objectSchema is the schema of a whole custom resource: apiVersion, kind, metadata (validated by the
// API server itself), the spec, which is required, and the status if the kind has one.
func objectSchema(spec Schema, status *Schema) Schema {
	props := map[string]Schema{
		"apiVersion": {Type: "string"},
		"kind":       {Type: "string"},
		"metadata":   {Type: "object"},
		"spec":       spec,
	}
	if status != nil {
		props["status"] = *status
	}
	return Schema{Type: "object", Properties: props, Required: []string{"spec"}}
}

// openSpec is a spec that keeps unknown fields besides the properties it validates.
func openSpec(s Schema) Schema {
	s.Type, s.PreserveUnknown = "object", true
	return s
}

// instancesRequired is upstream's validation of SMB, SWIFT and S3X: instances, at least 1.
func instancesRequired() Schema {
	return Schema{
		Required:   []string{"instances"},
		Properties: map[string]Schema{"instances": {Type: "integer", Minimum: ptr(1.0)}},
	}
}

func ptr[T any](v T) *T { return &v }
