package edgefsv1

import (
	"embed"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The eight kinds the operator watches, the custom resources controller-gen makes CRDs of. Cluster,
// NFS and S3 are the ones the program creates. SMB, SWIFT, S3X, ISCSI and ISGW are only there so the
// watchers the operator starts for every kind after a Cluster comes up can list them (it logs and
// retries forever on a missing CRD); their specs keep unknown fields, as upstream's CRDs do, since
// typing them would be code nobody exercises that drifts from an operator we do not run.
//
// No kind has a status subresource, as upstream: the operator sets .status with a plain Update of the
// whole Cluster (pkg/operator/edgefs/cluster/controller.go updateClusterStatus), which a status
// subresource would silently strip. Cluster's schema therefore types status, or the API server would
// prune what the operator writes.

// Cluster is an EdgeFS cluster.
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=clusters,singular=cluster,scope=Namespaced
// +kubebuilder:printcolumn:name="Image",type="string",JSONPath=".spec.edgefsImageName"
// +kubebuilder:printcolumn:name="HostPath",type="string",JSONPath=".spec.dataDirHostPath"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="State",type="string",JSONPath=".status.state"
type Cluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ClusterSpec   `json:"spec"`
	Status            ClusterStatus `json:"status,omitempty"`
}

// NFS is an EdgeFS NFS service.
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=nfss,singular=nfs,scope=Namespaced
// +kubebuilder:printcolumn:name="Instances",type="integer",JSONPath=".spec.instances"
type NFS struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              NFSSpec `json:"spec"`
}

// S3 is an EdgeFS S3 service.
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=s3s,singular=s3,scope=Namespaced
// +kubebuilder:printcolumn:name="Instances",type="integer",JSONPath=".spec.instances"
type S3 struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              S3Spec `json:"spec"`
}

// SMB is an EdgeFS SMB service.
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=smbs,singular=smb,scope=Namespaced
// +kubebuilder:printcolumn:name="Instances",type="integer",JSONPath=".spec.instances"
type SMB struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              GatewaySpec `json:"spec"`
}

// SWIFT is an EdgeFS OpenStack Swift service.
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=swifts,singular=swift,scope=Namespaced
// +kubebuilder:printcolumn:name="Instances",type="integer",JSONPath=".spec.instances"
type SWIFT struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              GatewaySpec `json:"spec"`
}

// S3X is an EdgeFS S3X (extended S3) service.
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=s3xs,singular=s3x,scope=Namespaced
// +kubebuilder:printcolumn:name="Instances",type="integer",JSONPath=".spec.instances"
type S3X struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              GatewaySpec `json:"spec"`
}

// ISCSI is an EdgeFS iSCSI service (upstream gives it no columns).
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=iscsis,singular=iscsi,scope=Namespaced
type ISCSI struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ISCSISpec `json:"spec"`
}

// ISGW is an EdgeFS inter-segment gateway.
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=isgws,singular=isgw,scope=Namespaced
// +kubebuilder:printcolumn:name="Direction",type="string",JSONPath=".spec.direction"
// +kubebuilder:printcolumn:name="RemoteEndpoint",type="string",JSONPath=".spec.remoteURL"
// +kubebuilder:printcolumn:name="Server",type="string",JSONPath=".spec.config.server"
// +kubebuilder:printcolumn:name="Clients",type="string",JSONPath=".spec.config.clients"
type ISGW struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ISGWSpec `json:"spec"`
}

// Plurals are the kinds' plural names, in the order the program creates their CRDs.
var Plurals = []string{"clusters", "nfss", "s3s", "smbs", "swifts", "s3xs", "iscsis", "isgws"}

//go:embed crds/*.yaml
var crdFiles embed.FS

// CRDs returns the generated CustomResourceDefinitions, in the order of Plurals.
func CRDs() ([]apiextensionsv1.CustomResourceDefinition, error) {
	var out []apiextensionsv1.CustomResourceDefinition
	for _, plural := range Plurals {
		file := "crds/" + Group + "_" + plural + ".yaml"
		data, err := crdFiles.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(data, &crd); err != nil {
			return nil, fmt.Errorf("edgefsv1: %s: %w", file, err)
		}
		out = append(out, crd)
	}
	return out, nil
}
