// Package edgefsv1 is Rook's edgefs.rook.io/v1 API as Go types: the specs of the Cluster, NFS and S3
// custom resources the program creates, and the CustomResourceDefinitions of all eight kinds the
// EdgeFS operator watches. controller-gen (sigs.k8s.io/controller-tools, a tool of go.mod) generates
// the CRDs from these types and their kubebuilder markers into crds/ (`make generate`; `make lint`
// fails while they are out of date), and the program applies those files, so the CRDs and the
// objects the program sends cannot drift apart.
//
// The types follow the operator's own (rook v1.3.11-v1.5.12 pkg/apis/edgefs.rook.io/v1/types.go and
// pkg/apis/rook.io/v1) field for field and JSON name for JSON name, with the Kubernetes types of
// k8s.io/api where the operator uses them, so the operator decodes exactly what is sent. Quantities
// the program may leave unset are pointers, so an unset one is left out rather than sent as "0".
//
// Enums, patterns and minimums only go on fields the operator leaves out when empty (omitempty in its
// types): the operator writes the whole Cluster back with a plain Update (finalizer, status), and a
// constraint that rejected its zero values would make that Update fail.
//
// +groupName=edgefs.rook.io
// +versionName=v1
package edgefsv1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

//go:generate go tool controller-gen crd:allowDangerousTypes=true,maxDescLen=0 paths=. output:crd:dir=crds

// Group and Version of the EdgeFS API.
const (
	Group   = "edgefs.rook.io"
	Version = "v1"
	// APIVersion is the apiVersion of every EdgeFS custom resource.
	APIVersion = Group + "/" + Version
)

// Memory of the target daemon that each resource profile needs (rook v1.5.12
// pkg/operator/edgefs/cluster/cluster.go validateClusterSpec): the operator runs the performance
// profile from PerformanceMinMemoryRequest / PerformanceMinMemoryLimit, the embedded one (small
// caches) below, and rejects a Cluster under EmbeddedMinMemoryRequest / EmbeddedMinMemoryLimit.
const (
	PerformanceMinMemoryRequest = "2048Mi"
	PerformanceMinMemoryLimit   = "8192Mi"
	EmbeddedMinMemoryRequest    = "256Mi"
	EmbeddedMinMemoryLimit      = "1024Mi"
)

// ClusterSpec is the spec of a Cluster: one EdgeFS cluster per namespace (rook ClusterSpec).
type ClusterSpec struct {
	// EdgefsImageName is the data-plane image; the operator derives edgefs-restapi, -ui and -isgw
	// images from it. Upstream defaults to edgefs/edgefs:latest, so it is required here.
	EdgefsImageName string `json:"edgefsImageName"`
	// DataDirHostPath is the host directory for EdgeFS state (.etc, .state) on each target node.
	// Exactly one of DataDirHostPath and DataVolumeSize (the operator rejects both or neither).
	// +kubebuilder:validation:Pattern=`^/(\S+)`
	DataDirHostPath string `json:"dataDirHostPath,omitempty"`
	// DataVolumeSize puts state in a PVC per target instead; its mgr/gateway pods then mount a PVC the
	// operator never creates (reference section 7.3), so the program uses DataDirHostPath.
	DataVolumeSize *resource.Quantity `json:"dataVolumeSize,omitempty"`
	// DevicesResurrectMode restarts a cluster on existing disks: restore, restoreZap or
	// restoreZapWait, optionally followed by :<slave containers>.
	// +kubebuilder:validation:Pattern=`^(restore|restoreZap|restoreZapWait)(:[0-9]+)?$`
	DevicesResurrectMode string `json:"devicesResurrectMode,omitempty"`
	// Storage selects the nodes, devices and store settings.
	Storage StorageScopeSpec `json:"storage,omitempty"`
	// Annotations are added to the pods of each daemon kind.
	Annotations *AnnotationsSpec `json:"annotations,omitempty"`
	// Placement schedules the daemons; all is merged into mgr, target and prepare. Target placement
	// also decides which nodes become storage nodes.
	Placement *PlacementSpec `json:"placement,omitempty"`
	// Network is pod networking (host) or multus; empty is the pod network.
	Network *NetworkSpec `json:"network,omitempty"`
	// Dashboard exposes the UI Service on an external IP.
	Dashboard *DashboardSpec `json:"dashboard,omitempty"`
	// Resources of the target daemon containers; the memory decides the profile (PerformanceMinMemory*,
	// EmbeddedMinMemory*).
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// ResourceProfile is embedded or performance; empty lets the operator pick from Resources.
	// +kubebuilder:validation:Enum=embedded;performance
	ResourceProfile string `json:"resourceProfile,omitempty"`
	// ChunkCacheSize caps the chunk cache; default 75% of the memory limit.
	ChunkCacheSize *resource.Quantity `json:"chunkCacheSize,omitempty"`
	// ServiceAccount runs the target, mgr and prepare pods. Default rook-edgefs-cluster.
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// SkipHostPrepare skips the per-node sysctl tuning Jobs.
	SkipHostPrepare bool `json:"skipHostPrepare,omitempty"`
	// SysRepCount is the number of copies of every chunk (also sync_put). Default 3.
	// +kubebuilder:validation:Minimum=1
	SysRepCount int `json:"sysRepCount,omitempty"`
	// FailureDomain is where copies must differ: device, host (default) or zone.
	// +kubebuilder:validation:Enum=device;host;zone
	FailureDomain string `json:"failureDomain,omitempty"`
	// TrlogProcessingInterval is in seconds and must divide 60. Default 10.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=60
	TrlogProcessingInterval int `json:"trlogProcessingInterval,omitempty"`
	// TrlogKeepDays is how long transaction logs are kept, in days. Default 3. A float in the
	// operator's types, hence controller-gen's allowDangerousTypes.
	TrlogKeepDays float64 `json:"trlogKeepDays,omitempty"`
	// CommitNWait above 0 stops puts from waiting for the commit (sync_put_commit_wait=0); unset keeps
	// the safe default of waiting.
	CommitNWait int `json:"commitNWait,omitempty"`
	// NoIP4Frag avoids fragmented UDP (smaller maximum chunk).
	NoIP4Frag bool `json:"noIP4Frag,omitempty"`
	// MaxContainerCapacity is the disk capacity per target container. Default 132Ti.
	MaxContainerCapacity *resource.Quantity `json:"maxContainerCapacity,omitempty"`
	// UseHostLocalTime mounts the host's /etc/localtime.
	UseHostLocalTime bool `json:"useHostLocalTime,omitempty"`
	// SysMaxChunkSize is the largest chunk in bytes. Default 1M.
	// +kubebuilder:validation:Minimum=1
	SysMaxChunkSize int `json:"sysMaxChunkSize,omitempty"`
}

// ClusterStatus is written by the operator with a plain Update of the whole object (there is no
// status subresource). No enum on State: a value outside it would make that Update fail, and with it
// the finalizer the operator adds in the same way.
type ClusterStatus struct {
	// State is Creating, Created, Updating, Deleting or Error.
	State string `json:"state,omitempty"`
	// Message explains an Error state.
	Message string `json:"message,omitempty"`
}

// StorageScopeSpec selects storage (rook.io/v1 StorageScopeSpec, the fields EdgeFS reads).
type StorageScopeSpec struct {
	// UseAllNodes makes every node that rook-discover ran on and that the target placement allows a
	// storage node. Without it and without Nodes the cluster has no nodes (reference section 7.3).
	UseAllNodes bool `json:"useAllNodes,omitempty"`
	// Nodes lists storage nodes by name, each with its own selection.
	Nodes []Node `json:"nodes,omitempty"`
	// UseAllDevices takes every empty, unpartitioned disk (rtrd engine).
	UseAllDevices *bool `json:"useAllDevices,omitempty"`
	// DeviceFilter is a regular expression over device names (sdb, nvme1n1).
	DeviceFilter string `json:"deviceFilter,omitempty"`
	// DevicePathFilter is a regular expression over device paths (/dev/disk/by-id/...).
	DevicePathFilter string `json:"devicePathFilter,omitempty"`
	// Devices lists disks by name.
	Devices []Device `json:"devices,omitempty"`
	// Directories are host directories for the rtlfs engine instead of disks.
	Directories []Directory `json:"directories,omitempty"`
	// Config holds the store settings (all string values): useAllSSD, sync, rtVerifyChid, ...
	Config map[string]string `json:"config,omitempty"`
}

// Node is one storage node with its own selection (rook.io/v1 Node).
type Node struct {
	Name             string                       `json:"name,omitempty"`
	Resources        *corev1.ResourceRequirements `json:"resources,omitempty"`
	Config           map[string]string            `json:"config,omitempty"`
	UseAllDevices    *bool                        `json:"useAllDevices,omitempty"`
	DeviceFilter     string                       `json:"deviceFilter,omitempty"`
	DevicePathFilter string                       `json:"devicePathFilter,omitempty"`
	Devices          []Device                     `json:"devices,omitempty"`
}

// Device is one disk, by name or full path (rook.io/v1 Device).
type Device struct {
	Name     string            `json:"name,omitempty"`
	FullPath string            `json:"fullpath,omitempty"`
	Config   map[string]string `json:"config,omitempty"`
}

// Directory is one rtlfs directory (rook.io/v1 Directory).
type Directory struct {
	Path   string            `json:"path,omitempty"`
	Config map[string]string `json:"config,omitempty"`
}

// NetworkSpec picks pod networking (rook.io/v1 NetworkSpec). Provider has no enum: the operator's
// Update writes the field back as it found it.
type NetworkSpec struct {
	// Provider is host or multus; empty is the pod network.
	Provider string `json:"provider,omitempty"`
	// Selectors are the server and broker interfaces (host) or multus attachments.
	Selectors map[string]string `json:"selectors,omitempty"`
}

// DashboardSpec exposes the UI (edgefs DashboardSpec). The operator always writes localAddr back,
// empty when unset, so it has no pattern.
type DashboardSpec struct {
	LocalAddr string `json:"localAddr,omitempty"`
}

// AnnotationsSpec are pod annotations per daemon kind (rook.io/v1 AnnotationsSpec).
type AnnotationsSpec struct {
	All     map[string]string `json:"all,omitempty"`
	Mgr     map[string]string `json:"mgr,omitempty"`
	Target  map[string]string `json:"target,omitempty"`
	Prepare map[string]string `json:"prepare,omitempty"`
}

// PlacementSpec is the placement per daemon kind; All is merged into the others (rook.io/v1
// PlacementSpec).
type PlacementSpec struct {
	All     *Placement `json:"all,omitempty"`
	Mgr     *Placement `json:"mgr,omitempty"`
	Target  *Placement `json:"target,omitempty"`
	Prepare *Placement `json:"prepare,omitempty"`
}

// Placement schedules pods (rook.io/v1 Placement): the Kubernetes scheduling types the operator copies
// into the pods it creates.
type Placement struct {
	NodeAffinity              *corev1.NodeAffinity              `json:"nodeAffinity,omitempty"`
	PodAffinity               *corev1.PodAffinity               `json:"podAffinity,omitempty"`
	PodAntiAffinity           *corev1.PodAntiAffinity           `json:"podAntiAffinity,omitempty"`
	Tolerations               []corev1.Toleration               `json:"tolerations,omitempty"`
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
}

// NFSSpec is the spec of an NFS service; the CR's name must equal an EdgeFS service created with
// `efscli service create nfs <name>`.
type NFSSpec struct {
	// Instances is the number of gateway pods (the Deployment's replicas).
	// +kubebuilder:validation:Minimum=1
	Instances int `json:"instances"`
	// RelaxedDirUpdates defers directory updates (eventual directory consistency); safe only with one
	// instance and never for git-annex.
	RelaxedDirUpdates *bool `json:"relaxedDirUpdates,omitempty"`
	// Placement schedules the gateway pods; the Cluster's placement does not apply to them.
	Placement *Placement `json:"placement,omitempty"`
	// Resources of the gateway container. Without a memory limit the chunk cache takes 75% of the node.
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// Annotations are added to the gateway pods.
	Annotations map[string]string `json:"annotations,omitempty"`
	// ResourceProfile is embedded or performance.
	// +kubebuilder:validation:Enum=embedded;performance
	ResourceProfile string `json:"resourceProfile,omitempty"`
	// ChunkCacheSize caps the chunk cache.
	ChunkCacheSize *resource.Quantity `json:"chunkCacheSize,omitempty"`
}

// S3Spec is the spec of an S3 service; the CR's name must equal an EdgeFS service created with
// `efscli service create s3 <name>`.
type S3Spec struct {
	// Instances is the number of gateway pods.
	// +kubebuilder:validation:Minimum=1
	Instances int `json:"instances"`
	// S3Type is s3 (path style, the default), s3s (bucket as DNS name) or s3g (experimental).
	// +kubebuilder:validation:Enum=s3;s3s;s3g
	S3Type string `json:"s3type,omitempty"`
	// Port is the HTTP port. Default 9982.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int `json:"port,omitempty"`
	// SecurePort is the HTTPS port. Default 9443.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	SecurePort int `json:"securePort,omitempty"`
	// ServiceType of the operator's Service. Default ClusterIP.
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	ServiceType string `json:"serviceType,omitempty"`
	// ExternalPort is the HTTP NodePort.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	ExternalPort int `json:"externalPort,omitempty"`
	// SecureExternalPort is the HTTPS NodePort.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	SecureExternalPort int `json:"secureExternalPort,omitempty"`
	// SSLCertificateRef names a Secret with keys sslkey and sslcert.
	SSLCertificateRef string `json:"sslCertificateRef,omitempty"`
	// Placement schedules the gateway pods.
	Placement *Placement `json:"placement,omitempty"`
	// Resources of the gateway container.
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// Annotations are added to the gateway pods.
	Annotations map[string]string `json:"annotations,omitempty"`
	// ResourceProfile is embedded or performance.
	// +kubebuilder:validation:Enum=embedded;performance
	ResourceProfile string `json:"resourceProfile,omitempty"`
	// ChunkCacheSize caps the chunk cache.
	ChunkCacheSize *resource.Quantity `json:"chunkCacheSize,omitempty"`
}

// GatewaySpec is the spec of the SMB, SWIFT and S3X services, which the program never creates: only
// upstream's validation (instances, at least 1), and every other field kept as sent.
// +kubebuilder:pruning:PreserveUnknownFields
type GatewaySpec struct {
	// Instances is the number of gateway pods.
	// +kubebuilder:validation:Minimum=1
	Instances int `json:"instances"`
}

// ISCSISpec is the spec of an ISCSI service, which the program never creates; upstream validates
// nothing in it.
// +kubebuilder:pruning:PreserveUnknownFields
type ISCSISpec struct{}

// ISGWSpec is the spec of an inter-segment gateway, which the program never creates: upstream's
// validation, and every other field kept as sent.
// +kubebuilder:pruning:PreserveUnknownFields
type ISGWSpec struct {
	// Direction is the I/O flow: send, receive or send+receive.
	// +kubebuilder:validation:Pattern=`^(send|receive|send\+receive)$`
	Direction string `json:"direction"`
	// RemoteURL is the remote gateway.
	RemoteURL string `json:"remoteURL,omitempty"`
	// Config is the relay configuration.
	Config *ISGWConfig `json:"config,omitempty"`
}

// ISGWConfig is an inter-segment gateway's relay configuration.
type ISGWConfig struct {
	Server  string   `json:"server,omitempty"`
	Clients []string `json:"clients,omitempty"`
}
