package stacks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
)

// Generation is the shape of the OpenNeuro application a stack deploys (app.generation). OpenNeuro
// changed its topology twice in 2020 (OpenNeuroOrg/openneuro history of helm/): v3.15 moved the
// DataLad service to port 80 inside the worker StatefulSet (f775f4cf0, 2020-06-01) and v3.18 removed
// Celery, flower and the shared EFS volume (495efc876, 2020-08-10); taskiq workers and their
// scheduler arrived in v4.38.0. A version bump cannot cross those changes, so the generation is
// chosen explicitly and the version is validated against it.
type Generation string

const (
	// Gen2020 is the 2020 Helm chart's topology (OpenNeuro v3.14.x): the DataLad service Deployment
	// on port 9877, Celery dataset workers, beat, flower, one shared datasets volume (EFS, EdgeFS or
	// a storage class), two redis (broker and cache).
	Gen2020 Generation = "2020"
	// GenCurrent is today's topology (OpenNeuro v5.x, chart 1.8.0): the dataset-worker StatefulSet
	// of two containers (the DataLad service under uvicorn on port 80 and a taskiq worker) with one
	// ReadWriteOnce disk per worker, a Service and two ingress paths per worker, the taskiq
	// scheduler, the indexer and one redis. The default.
	GenCurrent Generation = "current"
)

// DefaultCurrentVersion is the release the current generation deploys by default: the chart's
// appVersion (OpenNeuroOrg/openneuro helm/openneuro/Chart.yaml at tag v5.5.1: appVersion 5.5.1),
// whose images .github/workflows/docker-publish.yml publishes tagged v5.5.1.
const DefaultCurrentVersion = "v5.5.1"

// UnmarshalJSON accepts the generation as a string or as the number a YAML stack file makes of an
// unquoted 2020.
func (g *Generation) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*g = Generation(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("app.generation: %s is neither a string nor a number", b)
	}
	*g = Generation(s)
	return nil
}

// Versions each generation covers:
//   - 2020: v3.14.x. v3.14.x is the release the 2020 chart (helm/openneuro at tag v3.14.0) deployed;
//     v3.15 moved the DataLad service to port 80 in the worker StatefulSet (f775f4cf0), which the
//     2020 generation's port-9877 Deployment cannot run.
//   - current: v5.0.0 to v5.5.x, checked against helm/openneuro at tag v5.5.1: every chart change
//     it lists since the taskiq workers (v4.38.0) predates v5.0.0 (2026-04-16), and v5.5.1 is the
//     release it inventories. A later minor may change the chart; check it and widen the range then.
var (
	version2020RE    = regexp.MustCompile(`^v3\.14\.\d+$`)
	versionCurrentRE = regexp.MustCompile(`^v5\.[0-5]\.\d+(-[0-9A-Za-z.]+)?$`)
)

// covers reports whether release version belongs to the generation.
func (g Generation) covers(version string) bool {
	switch g {
	case Gen2020:
		return version2020RE.MatchString(version)
	case GenCurrent:
		return versionCurrentRE.MatchString(version)
	}
	return false
}

// releases says which releases a generation covers, for messages.
func (g Generation) releases() string {
	if g == Gen2020 {
		return "v3.14.x"
	}
	return "v5.0.0 to v5.5.x"
}

// validateGeneration checks app.generation and that app.version is one of its releases, in one
// message naming both keys.
func (o OpenNeuro) validateGeneration(v *validator) {
	if o.Generation != Gen2020 && o.Generation != GenCurrent {
		v.addf("app.generation", "%q is not allowed; use current (OpenNeuro v5.x, the default) or \"2020\" (OpenNeuro v3.14.x, the 2020 chart)", o.Generation)
		return
	}
	if o.Version == "latest" || o.Generation.covers(o.Version) {
		return
	}
	other := Gen2020
	if o.Generation == Gen2020 {
		other = GenCurrent
	}
	fix := fmt.Sprintf("set app.version to a release of %s", o.Generation.releases())
	if other.covers(o.Version) {
		fix = fmt.Sprintf("set app.generation to %q (it covers %s; moving a stack there is a data migration, README \"Generations\"), or app.version to a release of %s", other, other.releases(), o.Generation.releases())
	}
	v.addf("app.version", "%s does not belong to app.generation %s, which covers %s; %s", o.Version, o.Generation, o.Generation.releases(), fix)
}

// validateGenerationKeys refuses the keys that only mean something in the other generation. It runs
// after the defaults, which fill each generation's own keys only, so a value here was set.
func (o OpenNeuro) validateGenerationKeys(v *validator, e EdgeFS, s Storage) {
	if o.Generation == GenCurrent {
		only2020 := map[string]bool{
			"app.contentVersion":           o.ContentVersion != "",
			"app.images.content":           o.Images.Content != "",
			"app.datasetStore":             o.DatasetStore != "",
			"app.s3PublicOnExport":         o.S3PublicOnExport != nil,
			"app.googleTrackingId":         o.GoogleTrackingID != "",
			"app.replicas.dataladService":  o.Replicas.DataladService != 0,
			"app.resources.content":        o.Resources.Content != (Resources{}),
			"app.resources.dataladService": o.Resources.DataladService != (Resources{}),
			"app.resources.beat":           o.Resources.Beat != (Resources{}),
			"app.resources.flower":         o.Resources.Flower != (Resources{}),
			"app.resources.redisCache":     o.Resources.RedisCache != (Resources{}),
		}
		for _, path := range sortedKeys(only2020) {
			if only2020[path] {
				v.addf(path, "only applies to app.generation \"2020\" (the Celery/flower/shared-volume topology); remove it, or set app.generation: \"2020\"")
			}
		}
		for _, path := range s.sharedVolumeKeys {
			v.addf(path, "configures the shared datasets volume of app.generation \"2020\"; the current generation gives each worker its own disk (app.workerDiskSize, of storage.blockStorageClass): remove it")
		}
		if e.IsEnabled() {
			v.addf("edgefs.enabled", "EdgeFS only serves the shared datasets volume of app.generation \"2020\"; the current generation keeps datasets on one EBS disk per worker: set edgefs.enabled false and disable cluster.edgefsNodeGroup")
		}
		return
	}
	only := map[string]bool{
		"app.workerZone":             o.WorkerZone != "",
		"app.workerDiskSize":         o.WorkerDiskSize != "",
		"app.googleTrackingIds":      o.GoogleTrackingIDs != "",
		"app.resources.taskiqWorker": o.Resources.TaskiqWorker != (Resources{}),
		"app.resources.scheduler":    o.Resources.Scheduler != (Resources{}),
	}
	for _, path := range sortedKeys(only) {
		if only[path] {
			v.addf(path, "only applies to app.generation current (OpenNeuro v5.x); remove it, or set app.generation current (a data migration, README \"Generations\")")
		}
	}
}

// validateCurrent checks the settings of the current generation.
func (o OpenNeuro) validateCurrent(v *validator, n Network, c Cluster, s Storage) {
	if o.Generation != GenCurrent {
		return
	}
	v.quantity("app.workerDiskSize", o.WorkerDiskSize)
	// gp3 volumes hold 1 GiB to 16 TiB (Amazon EBS User Guide, "General Purpose SSD volumes").
	if q, err := parseQuantity(o.WorkerDiskSize); err == nil && q.Value() > 16<<40 {
		v.addf("app.workerDiskSize", "%s is above the 16Ti an EBS gp3 volume holds; use at most 16Ti per worker and more workers", o.WorkerDiskSize)
	}
	if c.Mode == ModeEKS {
		if o.WorkerZone == "" {
			v.addf("app.workerZone", "is required when network.availabilityZones are zone IDs; set the zone NAME (the nodes' topology.kubernetes.io/zone label) of one of %v, e.g. from `aws ec2 describe-availability-zones --zone-ids %s`", n.AvailabilityZones, first(n.AvailabilityZones))
		} else if !zoneNameRE.MatchString(o.WorkerZone) {
			v.addf("app.workerZone", "%q is not a zone name; EBS volumes and the nodes' topology.kubernetes.io/zone label use names like us-east-1a", o.WorkerZone)
		} else if names := zoneNames(n.AvailabilityZones); len(names) > 0 && !slices.Contains(names, o.WorkerZone) {
			v.addf("app.workerZone", "%s is not one of the cluster's zones %v; the workers' EBS disks must be in a zone where the node groups have nodes: use one of them", o.WorkerZone, names)
		}
		// The claims of a protected stack must outlive the StatefulSet and the stack: their volumes
		// come from the gp3 class, whose reclaim policy is storage.reclaimPolicy.
		if s.Protect && s.ReclaimPolicy != "Retain" {
			v.addf("storage.reclaimPolicy", "is %s while storage.protect is true; the dataset workers' EBS disks would be deleted with their claims: use Retain", s.ReclaimPolicy)
		}
	} else if o.WorkerZone != "" {
		v.labelValue("app.workerZone", o.WorkerZone)
	}
}

// zoneNames returns zones if they are zone names, nil if they are zone IDs.
func zoneNames(zones []string) []string {
	for _, z := range zones {
		if IsZoneID(z) {
			return nil
		}
	}
	return zones
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// currentResources are the current generation's defaults. Requests are the production chart's
// (OpenNeuroOrg/openneuro at v5.5.1: helm/openneuro/values-production.yaml and the templates
// api-deployment.yaml, web-deployment.yaml, dataset-worker-stateful-set.yaml,
// dataset-worker-scheduler.yaml, indexer-job.yaml): API 0.25 CPU / 1Gi, web 0.1 / 128Mi, worker CPU 2 for both worker
// containers with the templates' fixed 4Gi (DataLad service) and 16Gi (taskiq), scheduler 0.5 /
// 2Gi, indexer 0.5 / 2048Mi (requests = limits in its template), redis 1 / 2Gi. The chart sets no
// other limits (GKE Autopilot derives them); on EKS a container without limits is unbounded, so
// these are ours: memory limits above each Node process's heap cap (NODE_OPTIONS
// --max_old_space_size=2048 in the server image and the indexer) and at the taskiq worker's fixed
// request, CPU limits at twice the request for bursts.
var currentResources = ComponentResources{
	API:          res("250m", "1Gi", "1", "3Gi"),
	Web:          res("100m", "128Mi", "500m", "256Mi"),
	Worker:       res("2", "4Gi", "4", "8Gi"),
	TaskiqWorker: res("2", "16Gi", "4", "16Gi"),
	Scheduler:    res("500m", "2Gi", "1", "2Gi"),
	Indexer:      res("500m", "2048Mi", "500m", "2048Mi"),
	Redis:        res("1", "2Gi", "2", "4Gi"),
}

// currentRedisImage is the official redis image of the 8.2 line the chart's redis runs
// (bitnamilegacy/redis:8.2.1 in helm/openneuro/values-production.yaml at v5.5.1); 8.2.3 is the official image's patch release
// of that line (docker-library/official-images library/redis, as pinned in e.g.
// envoyproxy/examples redis/Dockerfile-redis).
const currentRedisImage = "redis:8.2.3"

// applyCurrentDefaults fills the current generation's keys only, so that validateGenerationKeys
// sees every 2020 key an operator set.
func (o *OpenNeuro) applyCurrentDefaults(env Env, n Network, c Cluster, in Ingress, ops Operations) {
	setDefault(&o.Namespace, Project)
	setDefault(&o.Release, Project+"-"+env.Stack)
	setDefault(&o.Version, DefaultCurrentVersion)
	// The chart's image tag rule: openneuro/<name>:v{{ .Chart.AppVersion }} (helm/openneuro/templates).
	setDefault(&o.Images.Server, "openneuro/server:"+o.Version)
	setDefault(&o.Images.App, "openneuro/app:"+o.Version)
	setDefault(&o.Images.DataladService, "openneuro/datalad-service:"+o.Version)
	setDefault(&o.Images.Indexer, "openneuro/indexer:"+o.Version)
	setDefault(&o.Images.Redis, currentRedisImage)
	o.applySiteDefaults(env, c, in)
	// The chart's graphql value is the API inside the cluster (http://<rel>-api:8111/crn/graphql,
	// helm/openneuro/values-production.yaml at v5.5.1): the indexer and the server's reindexing call
	// it there.
	setDefault(&o.GraphQLURI, "http://"+o.Release+"-api:8111/crn/graphql")
	if o.Workers == 0 {
		o.Workers = 4 // dataladWorkers, S and P
	}
	if o.WorkerZone == "" && c.Mode == ModeEKS {
		if names := zoneNames(n.AvailabilityZones); len(names) > 0 {
			o.WorkerZone = names[0]
		}
	}
	setDefault(&o.WorkerDiskSize, "256Gi")
	if o.Replicas.API == 0 {
		o.Replicas.API = 4 // apiReplicas, P
	}
	if o.Replicas.Web == 0 {
		o.Replicas.Web = 3 // webReplicas, P
	}
	o.Autoscaling.applyDefaults(c, ops, o.Replicas)
	o.Resources.applyDefaults(currentResources)
	o.applyCommonDefaults()
}
