package stacks

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
)

// Consistency is the EdgeFS durability/consistency trade-off.
type Consistency string

const (
	// ConsistencyImmediate is what git-annex needs: synced writes (sync 1), no relaxed directory
	// updates, chunk ids verified. The default.
	ConsistencyImmediate Consistency = "immediate"
	// ConsistencyRelaxed is OpenNeuro's 2020 tuning: no syncing (sync 0), relaxed directory updates,
	// no chunk verification. Faster, but a power loss or a second NFS instance can corrupt git-annex.
	ConsistencyRelaxed Consistency = "relaxed"
)

// EdgeFS configures Rook's EdgeFS operator, the EdgeFS cluster on the edgefs-target nodes and its
// NFS/S3 services (openneuro:edgefs).
type EdgeFS struct {
	loadMark
	// Enabled deploys EdgeFS. Default: true when the edgefs-target node group exists, else false.
	Enabled *bool `json:"enabled,omitempty"`
	// DiscoveryImage runs the Job that holds the Cluster back until rook-discover runs on every
	// storage node (kubectl wait and rollout status). Default registry.k8s.io/kubectl:v1.35.4, the
	// kubectl image of Kubernetes v1.35.4 (k8s.io/kubernetes build/common.sh wraps kubectl as an
	// image of registry.k8s.io, build/lib/release.sh), the version the tests run.
	DiscoveryImage string `json:"discoveryImage,omitempty"`
	// OperatorImage is the Rook EdgeFS operator image. Default rook/edgefs:v1.5.12, the last release
	// (EdgeFS left Rook in v1.6, rook/rook#7066).
	OperatorImage string `json:"operatorImage,omitempty"`
	// Image is the EdgeFS data-plane image; the operator derives edgefs-restapi/-ui from it.
	// Default edgefs/edgefs:1.3.35 (OpenNeuro's 2020 version).
	Image string `json:"image,omitempty"`
	// DataDirHostPath is the host directory for EdgeFS state on each target node. Default /var/lib/edgefs.
	DataDirHostPath string `json:"dataDirHostPath,omitempty"`
	// SysRepCount is the number of replicas of every chunk. Default 3 (one per node).
	SysRepCount int `json:"sysRepCount,omitempty"`
	// FailureDomain is host (default), device or zone.
	FailureDomain string `json:"failureDomain,omitempty"`
	// Consistency is immediate (default, safe for git-annex) or relaxed (the 2020 speed tuning).
	Consistency Consistency `json:"consistency,omitempty"`
	// Resources are the EdgeFS target daemon's requests and limits. Default requests 500m / 2Gi,
	// limits 2 CPU / 8Gi: the operator's "performance" profile needs at least 2Gi / 8Gi; below that
	// the program selects the "embedded" profile, which needs at least 256Mi / 1024Mi (the thresholds
	// are edgefsv1's PerformanceMinMemory* and EmbeddedMinMemory*).
	Resources Resources `json:"resources,omitempty"`
	// OperatorResources are the operator's requests and limits. Default 100m/128Mi, 500m/512Mi.
	OperatorResources Resources `json:"operatorResources,omitempty"`
	// NFS is the NFS service that exports the datasets bucket.
	NFS NFSService `json:"nfs,omitempty"`
	// S3 is the optional S3 service.
	S3 S3Service `json:"s3,omitempty"`
}

// NFSService names the EdgeFS NFS service and the bucket it serves.
type NFSService struct {
	// Name is the EdgeFS service and NFS CR name. Default datasets.
	Name string `json:"name,omitempty"`
	// Instances is the number of NFS gateway pods. Default 1: with more, the Service spreads NFSv3
	// side protocols (mountd, NLM) over pods without affinity.
	Instances int `json:"instances,omitempty"`
	// Cluster, Tenant and Bucket name the EdgeFS namespace <cluster>/<tenant>/<bucket> the service
	// serves; the export path is /<tenant>/<bucket>. Defaults openneuro, openneuro, datasets.
	Cluster string `json:"cluster,omitempty"`
	Tenant  string `json:"tenant,omitempty"`
	Bucket  string `json:"bucket,omitempty"`
	// Resources are each NFS gateway pod's requests and limits. Default requests 250m / 1Gi, limits
	// 1 CPU / 4Gi: without a memory limit the gateway's chunk cache takes 75% of the node's memory,
	// which the target daemon and the dataset workers share.
	Resources Resources `json:"resources,omitempty"`
}

// S3Service configures the optional EdgeFS S3 service.
type S3Service struct {
	// Enabled creates the S3 CR. Default false.
	Enabled bool `json:"enabled,omitempty"`
	// Name is the EdgeFS service and S3 CR name. Default s3.
	Name string `json:"name,omitempty"`
	// Instances is the number of S3 gateway pods. Default 1.
	Instances int `json:"instances,omitempty"`
	// Resources are each S3 gateway pod's requests and limits. Default as edgefs.nfs.resources.
	Resources Resources `json:"resources,omitempty"`
}

// IsEnabled reports whether EdgeFS is deployed.
func (e EdgeFS) IsEnabled() bool { return e.Enabled != nil && *e.Enabled }

// ExportPath is the NFS export of the datasets bucket.
func (n NFSService) ExportPath() string { return "/" + n.Tenant + "/" + n.Bucket }

func (e *EdgeFS) applyDefaults(c Cluster) {
	if e.Enabled == nil {
		// On an existing cluster EdgeFS is the operator's choice, storage pool or not.
		e.Enabled = boolPtr(c.Mode == ModeEKS && c.HasStoragePool())
	}
	if !e.IsEnabled() {
		return
	}
	setDefault(&e.OperatorImage, "rook/edgefs:v1.5.12")
	setDefault(&e.DiscoveryImage, "registry.k8s.io/kubectl:v1.35.4")
	setDefault(&e.Image, "edgefs/edgefs:1.3.35")
	setDefault(&e.DataDirHostPath, "/var/lib/edgefs")
	if e.SysRepCount == 0 {
		e.SysRepCount = 3
	}
	setDefault(&e.FailureDomain, "host")
	if e.Consistency == "" {
		e.Consistency = ConsistencyImmediate
	}
	// 500m requested (2 CPU limit) so that a target, two dataset workers and the NFS gateway fit on
	// one i3en.large (2 vCPU); see capacity.go.
	e.Resources.applyDefaults(Resources{Requests: Quantities{CPU: "500m", Memory: "2Gi"}, Limits: Quantities{CPU: "2", Memory: "8Gi"}})
	e.OperatorResources.applyDefaults(Resources{Requests: Quantities{CPU: "100m", Memory: "128Mi"}, Limits: Quantities{CPU: "500m", Memory: "512Mi"}})
	setDefault(&e.NFS.Name, "datasets")
	if e.NFS.Instances == 0 {
		e.NFS.Instances = 1
	}
	setDefault(&e.NFS.Cluster, "openneuro")
	setDefault(&e.NFS.Tenant, "openneuro")
	setDefault(&e.NFS.Bucket, "datasets")
	gateway := Resources{Requests: Quantities{CPU: "250m", Memory: "1Gi"}, Limits: Quantities{CPU: "1", Memory: "4Gi"}}
	e.NFS.Resources.applyDefaults(gateway)
	if e.S3.Enabled {
		setDefault(&e.S3.Name, "s3")
		if e.S3.Instances == 0 {
			e.S3.Instances = 1
		}
		e.S3.Resources.applyDefaults(gateway)
	}
}

func setDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func (e EdgeFS) validate(v *validator, c Cluster) {
	if !e.IsEnabled() {
		return
	}
	if c.Mode == ModeEKS && !c.HasStoragePool() {
		v.addf("edgefs.enabled", "EdgeFS needs the NVMe nodes of cluster.edgefsNodeGroup, which is disabled; enable that node group or set edgefs.enabled false")
	}
	v.image("edgefs.operatorImage", e.OperatorImage)
	v.image("edgefs.discoveryImage", e.DiscoveryImage)
	v.image("edgefs.image", e.Image)
	if len(e.DataDirHostPath) < 2 || e.DataDirHostPath[0] != '/' {
		v.addf("edgefs.dataDirHostPath", "%q is not an absolute host path; use e.g. /var/lib/edgefs", e.DataDirHostPath)
	}
	if e.SysRepCount < 1 || e.SysRepCount > 3 {
		v.addf("edgefs.sysRepCount", "is %d; use 1 to 3 (3 keeps a copy on each storage node)", e.SysRepCount)
	}
	if c.Mode == ModeEKS && c.HasStoragePool() && e.SysRepCount > c.EdgeFSNodeGroup.DesiredSize && e.FailureDomain == "host" {
		v.addf("edgefs.sysRepCount", "%d replicas with failureDomain host need as many storage nodes, but cluster.edgefsNodeGroup.desiredSize is %d", e.SysRepCount, c.EdgeFSNodeGroup.DesiredSize)
	}
	v.oneOf("edgefs.failureDomain", e.FailureDomain, "host", "device", "zone")
	v.oneOf("edgefs.consistency", string(e.Consistency), string(ConsistencyImmediate), string(ConsistencyRelaxed))
	e.Resources.validate(v, "edgefs.resources")
	// The operator rejects a target below its smallest, embedded profile (rook v1.5.12 cluster.go
	// validateClusterSpec) and leaves the Cluster in Error.
	for _, m := range []struct{ path, value, min string }{
		{"edgefs.resources.requests.memory", e.Resources.Requests.Memory, edgefsv1.EmbeddedMinMemoryRequest},
		{"edgefs.resources.limits.memory", e.Resources.Limits.Memory, edgefsv1.EmbeddedMinMemoryLimit},
	} {
		if q, err := parseQuantity(m.value); err == nil && q.Cmp(resource.MustParse(m.min)) < 0 {
			v.addf(m.path, "%s is below %s, the EdgeFS operator's minimum (embedded profile); requests of %s and limits of %s select the performance profile",
				m.value, m.min, edgefsv1.PerformanceMinMemoryRequest, edgefsv1.PerformanceMinMemoryLimit)
		}
	}
	e.OperatorResources.validate(v, "edgefs.operatorResources")
	e.NFS.Resources.validate(v, "edgefs.nfs.resources")
	v.k8sName("edgefs.nfs.name", e.NFS.Name, 40)
	v.positive("edgefs.nfs.instances", e.NFS.Instances)
	if e.Consistency == ConsistencyImmediate && e.NFS.Instances > 1 {
		v.addf("edgefs.nfs.instances", "is %d; immediate consistency needs a single NFS instance (NFSv3 side protocols are not sticky), use 1", e.NFS.Instances)
	}
	for path, name := range map[string]string{"edgefs.nfs.cluster": e.NFS.Cluster, "edgefs.nfs.tenant": e.NFS.Tenant, "edgefs.nfs.bucket": e.NFS.Bucket} {
		if !dnsLabel.MatchString(name) {
			v.addf(path, "%q is not a valid EdgeFS name; use lower-case letters, digits and '-'", name)
		}
	}
	if e.S3.Enabled {
		v.k8sName("edgefs.s3.name", e.S3.Name, 40)
		v.positive("edgefs.s3.instances", e.S3.Instances)
		e.S3.Resources.validate(v, "edgefs.s3.resources")
		if e.S3.Name == e.NFS.Name {
			v.addf("edgefs.s3.name", "%q is also the NFS service name; EdgeFS service names must differ", e.S3.Name)
		}
	}
}

// Resources are a container's requests and limits.
type Resources struct {
	Requests Quantities `json:"requests,omitempty"`
	Limits   Quantities `json:"limits,omitempty"`
}

// Quantities are CPU and memory amounts as Kubernetes quantities (e.g. 500m, 768Mi).
type Quantities struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

func (r *Resources) applyDefaults(d Resources) {
	setDefault(&r.Requests.CPU, d.Requests.CPU)
	setDefault(&r.Requests.Memory, d.Requests.Memory)
	setDefault(&r.Limits.CPU, d.Limits.CPU)
	setDefault(&r.Limits.Memory, d.Limits.Memory)
}

func (r Resources) validate(v *validator, path string) {
	pairs := []struct{ name, req, lim string }{{"cpu", r.Requests.CPU, r.Limits.CPU}, {"memory", r.Requests.Memory, r.Limits.Memory}}
	for _, p := range pairs {
		req, errReq := parseQuantity(p.req)
		lim, errLim := parseQuantity(p.lim)
		if errReq != nil {
			v.addf(fmt.Sprintf("%s.requests.%s", path, p.name), "%q is not a Kubernetes quantity; write it like 500m or 768Mi", p.req)
		}
		if errLim != nil {
			v.addf(fmt.Sprintf("%s.limits.%s", path, p.name), "%q is not a Kubernetes quantity; write it like 1 or 2Gi", p.lim)
		}
		if errReq == nil && errLim == nil && req.Cmp(lim) > 0 {
			v.addf(fmt.Sprintf("%s.requests.%s", path, p.name), "%s is above the limit %s; raise the limit or lower the request", p.req, p.lim)
		}
	}
}
