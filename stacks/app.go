package stacks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DatasetStore says where the dataset workers keep the git/git-annex repositories.
type DatasetStore string

const (
	// StoreEFS is the shared EFS volume (eks mode, the default there).
	StoreEFS DatasetStore = "efs"
	// StoreEdgeFS is the EdgeFS NFS export. Switch to it only after the one-time efscli setup
	// (the stack output edgefsSetupCommand), or the workers wait for an export that does not exist.
	StoreEdgeFS DatasetStore = "edgefs"
	// StoreStorageClass is a volume of storage.datasetsStorageClass (existing mode, the default there).
	StoreStorageClass DatasetStore = "storageClass"
)

// OpenNeuro configures the application (openneuro:app). Defaults are those of the generation's
// Helm chart: the 2020 chart's values for app.generation "2020", the production values of the
// chart 1.8.0 (OpenNeuro v5.5.1, helm/openneuro/values-production.yaml) for current.
type OpenNeuro struct {
	loadMark
	// Generation is the application's topology: current (OpenNeuro v5.x, the default) or "2020"
	// (OpenNeuro v3.14.x, the 2020 chart). See Generation; app.version must be one of its releases.
	Generation Generation `json:"generation,omitempty"`
	// Namespace is where every application object lives. Default openneuro.
	Namespace string `json:"namespace,omitempty"`
	// Release prefixes every object name, like the chart's release name. Default openneuro-<stack>.
	Release string `json:"release,omitempty"`
	// Version is the OpenNeuro release, the tag of the server, app, datalad-service and indexer images.
	// Default v5.5.1 in the current generation (it covers v5.0.0 to v5.5.x); v3.14.2, the release
	// the 2020 chart deployed (Celery workers, flower, beat), in the 2020 generation (v3.14.x).
	Version string `json:"version,omitempty"`
	// ContentVersion is the tag of openneuro/content, copied into the web pods. Default v1.0.1.
	// Generation 2020 only.
	ContentVersion string `json:"contentVersion,omitempty"`
	// Images override single images (full references). Defaults openneuro/<name>:<Version>,
	// openneuro/content:<ContentVersion> (2020 only) and redis:7.4.2 (2020) or redis:8.2.3 (current).
	Images Images `json:"images,omitempty"`
	// Hostname is the public DNS name, e.g. openneuro.org. Required.
	Hostname string `json:"hostname,omitempty"`
	// URL is the public base URL (CRN_SERVER_URL). Default https://<hostname> (http:// in existing
	// mode without ingress.tlsSecretName).
	URL string `json:"url,omitempty"`
	// GraphQLURI is the public GraphQL URL (GRAPHQL_URI, used by the indexer). Default <url>/crn/graphql.
	GraphQLURI string `json:"graphqlUri,omitempty"`
	// Environment is ENVIRONMENT. Default the stack name; prod sets production.
	Environment string `json:"environment,omitempty"`
	// FreshDeskURL is the support widget URL (FRESH_DESK_URL). Default the chart's.
	FreshDeskURL string `json:"freshDeskUrl,omitempty"`
	// GoogleTrackingID is GOOGLE_TRACKING_ID. Default "". Generation 2020 only.
	GoogleTrackingID string `json:"googleTrackingId,omitempty"`
	// GoogleTrackingIDs is GOOGLE_TRACKING_IDS, a comma-separated list of Google Analytics ids,
	// e.g. "UA-100754266-2,G-MJNMY6D3FX". Default "". Generation current only.
	GoogleTrackingIDs string `json:"googleTrackingIds,omitempty"`
	// SentryDSN is SENTRY_DSN. Default "" (off).
	SentryDSN string `json:"sentryDsn,omitempty"`
	// OrcidURI is ORCID's site (ORCID_URI), whose /oauth/token the API refreshes ORCID tokens at,
	// with ORCID_REDIRECT_URI <url>/crn/auth/orcid/callback; both are set only with ORCID login.
	// Default https://orcid.org; the sandbox is https://sandbox.orcid.org (ORCID/python-orcid#27).
	OrcidURI string `json:"orcidUri,omitempty"`
	// DNS is the Route 53 public hosted zone of hostname, by id (Z0123456789ABCDEFGHIJ) or name
	// (example.org) (eks mode). With it the program requests the ACM certificate for hostname and
	// www.<hostname>, validates it with DNS records in that zone, and points both names at the ALB
	// with alias A records. Default "": no DNS records; then certificateArn is required.
	DNS string `json:"dns,omitempty"`
	// CertificateARN is an existing ACM certificate for the ALB (eks mode): ISSUED, in aws:region,
	// covering hostname and www.<hostname>. Exactly one of dns and certificateArn is required in
	// eks mode. Default "".
	CertificateARN string `json:"certificateArn,omitempty"`
	// DatasetStore is efs (eks default), edgefs or storageClass (existing mode). Generation 2020
	// only: the current generation keeps each worker's datasets on its own disk.
	DatasetStore DatasetStore `json:"datasetStore,omitempty"`
	// Workers is the number of dataset workers = shards = DATALAD_WORKERS. Default 4. In the
	// current generation it is also the number of per-worker Services, disks and /uploads/<n> and
	// /git/<n> ingress paths. Changing it re-maps datasets to workers (a data migration).
	Workers int `json:"workers,omitempty"`
	// WorkerZone is the availability zone (by name, e.g. us-east-1b) every dataset worker runs in:
	// EBS volumes are zonal, so the workers and their disks stay in one zone. Generation current
	// only. eks mode: one of network.availabilityZones; default the first of them when they are
	// names, required when they are zone IDs. existing mode: default "" (no zone pinning; the
	// storage class places the volumes).
	WorkerZone string `json:"workerZone,omitempty"`
	// WorkerDiskSize is the size of each worker's dataset disk, a claim of storage.blockStorageClass
	// (gp3 in eks mode, at most 16Ti; in existing mode the configured class or the cluster's
	// default). Default 256Gi, the staging chart's size (production runs 7000-9000Gi per worker).
	// Generation current only. It applies to new disks: the StatefulSet's claim template cannot
	// change in place, so growing an existing disk is a `kubectl patch` of its claim (README).
	WorkerDiskSize string `json:"workerDiskSize,omitempty"`
	// S3PublicOnExport is DATALAD_S3_PUBLIC_ON_EXPORT. Default true. Generation 2020 only.
	S3PublicOnExport *bool `json:"s3PublicOnExport,omitempty"`
	// GithubExportsEnabled turns on the export of public datasets to GitHub
	// (DATALAD_GITHUB_EXPORTS_ENABLED). Default: on exactly when the secrets DATALAD_GITHUB_LOGIN,
	// DATALAD_GITHUB_ORG and DATALAD_GITHUB_PASS are all set; true without them is an error.
	GithubExportsEnabled *bool `json:"githubExportsEnabled,omitempty"`
	// Replicas are the Deployment replica counts; with autoscaling, the least pods of the API and web.
	// Current generation defaults: the production chart's api 4, web 3.
	Replicas Replicas `json:"replicas,omitempty"`
	// Autoscaling are the HorizontalPodAutoscalers of the API and web.
	Autoscaling AppAutoscaling `json:"autoscaling,omitempty"`
	// Resources are requests and limits per component; default requests are the generation's chart's
	// (the production values for current, whose limits the program decides: see currentResources).
	Resources ComponentResources `json:"resources,omitempty"`
	// Redis configures the in-cluster redis (Celery broker and API cache).
	Redis Redis `json:"redis,omitempty"`
	// IndexerSchedule is the Elasticsearch indexer's cron schedule. Default "57 */4 * * *".
	IndexerSchedule string `json:"indexerSchedule,omitempty"`
	// WorkerTerminationGracePeriodSeconds lets a dataset worker finish its Celery task before it is
	// killed on a rollout or node drain. Default 600.
	WorkerTerminationGracePeriodSeconds int `json:"workerTerminationGracePeriodSeconds,omitempty"`
}

// Images are full image references.
type Images struct {
	Server         string `json:"server,omitempty"`
	App            string `json:"app,omitempty"`
	DataladService string `json:"dataladService,omitempty"`
	Indexer        string `json:"indexer,omitempty"`
	Content        string `json:"content,omitempty"`
	Redis          string `json:"redis,omitempty"`
}

// Replicas are the Deployment replica counts. Defaults 2 each (2020; the chart ran api 5, web 3,
// datalad 3); api 4 and web 3 in the current generation, whose DataLad service runs in the workers.
type Replicas struct {
	API            int `json:"api,omitempty"`
	Web            int `json:"web,omitempty"`
	DataladService int `json:"dataladService,omitempty"`
}

// ComponentResources are the requests and limits of each container.
// Content, DataladService, Beat, Flower and RedisCache are generation 2020 only; TaskiqWorker and
// Scheduler generation current only.
type ComponentResources struct {
	API            Resources `json:"api,omitempty"`
	Web            Resources `json:"web,omitempty"`
	Content        Resources `json:"content,omitempty"`
	DataladService Resources `json:"dataladService,omitempty"`
	// Worker is the Celery worker (2020), or the DataLad service container of a dataset worker pod
	// (current).
	Worker Resources `json:"worker,omitempty"`
	// TaskiqWorker is the taskiq container of a dataset worker pod (current).
	TaskiqWorker Resources `json:"taskiqWorker,omitempty"`
	// Scheduler is the taskiq scheduler (current).
	Scheduler Resources `json:"scheduler,omitempty"`
	Beat      Resources `json:"beat,omitempty"`
	Flower    Resources `json:"flower,omitempty"`
	Indexer   Resources `json:"indexer,omitempty"`
	// Redis is the broker: Celery's queues (noeviction, on a volume); in the current generation the
	// one redis of the taskiq queues (DB 8), the API's queues and its cache.
	Redis Resources `json:"redis,omitempty"`
	// RedisCache is the API's cache (allkeys-lru, nothing on disk). Default the chart's redis
	// values, which its one redis mostly spent on the cache.
	RedisCache Resources `json:"redisCache,omitempty"`
}

// Redis configures the in-cluster redis: the broker (Celery's queues, on a volume) and the API's
// cache (in memory only). No auth, every command allowed, as the chart; maxmemory is 75% of each
// container's memory limit (app.resources.redis and .redisCache).
type Redis struct {
	// Persistence keeps the broker's data on a volume of storage.blockStorageClass. Default true.
	Persistence *bool `json:"persistence,omitempty"`
	// Size is the broker's data volume size. Default 8Gi; prod sets 40Gi. Raising it grows the
	// volume in place (the storage class must allow expansion, as gp3 does); it cannot shrink.
	Size string `json:"size,omitempty"`
}

// chartResources are the 2020 chart's requests and limits (the content init container had none).
var chartResources = ComponentResources{
	API:            res("400m", "768Mi", "800m", "1600Mi"),
	Web:            res("250m", "64Mi", "500m", "256Mi"),
	Content:        res("50m", "32Mi", "200m", "128Mi"),
	DataladService: res("200m", "1Gi", "800m", "3Gi"),
	Worker:         res("500m", "768Mi", "2", "2Gi"),
	Beat:           res("100m", "1Gi", "500m", "2Gi"),
	Flower:         res("50m", "256Mi", "100m", "1Gi"),
	Indexer:        res("100m", "256Mi", "500m", "512Mi"),
	Redis:          res("250m", "1536Mi", "500m", "3Gi"),
	RedisCache:     res("250m", "1536Mi", "500m", "3Gi"),
}

func res(reqCPU, reqMem, limCPU, limMem string) Resources {
	return Resources{Requests: Quantities{CPU: reqCPU, Memory: reqMem}, Limits: Quantities{CPU: limCPU, Memory: limMem}}
}

// DefaultFreshDeskURL is the chart's support widget.
const DefaultFreshDeskURL = "https://openneuro.freshdesk.com/widgets/feedback_widget/new?&widgetType=embedded&screenshot=no"

func (o *OpenNeuro) applyDefaults(env Env, n Network, c Cluster, in Ingress, ops Operations) {
	if o.Generation == "" {
		o.Generation = GenCurrent
	}
	if o.Generation == GenCurrent {
		o.applyCurrentDefaults(env, n, c, in, ops)
		return
	}
	setDefault(&o.Namespace, Project)
	setDefault(&o.Release, Project+"-"+env.Stack)
	setDefault(&o.Version, "v3.14.2")
	setDefault(&o.ContentVersion, "v1.0.1")
	setDefault(&o.Images.Server, "openneuro/server:"+o.Version)
	setDefault(&o.Images.App, "openneuro/app:"+o.Version)
	setDefault(&o.Images.DataladService, "openneuro/datalad-service:"+o.Version)
	setDefault(&o.Images.Indexer, "openneuro/indexer:"+o.Version)
	setDefault(&o.Images.Content, "openneuro/content:"+o.ContentVersion)
	setDefault(&o.Images.Redis, "redis:7.4.2")
	o.applySiteDefaults(env, c, in)
	if o.GraphQLURI == "" && o.URL != "" {
		o.GraphQLURI = strings.TrimSuffix(o.URL, "/") + "/crn/graphql"
	}
	if o.DatasetStore == "" {
		o.DatasetStore = StoreEFS
		if c.Mode == ModeExisting {
			o.DatasetStore = StoreStorageClass
		}
	}
	if o.Workers == 0 {
		o.Workers = 4
	}
	if o.S3PublicOnExport == nil {
		o.S3PublicOnExport = boolPtr(true)
	}
	for _, n := range []*int{&o.Replicas.API, &o.Replicas.Web, &o.Replicas.DataladService} {
		if *n == 0 {
			*n = 2
		}
	}
	o.Autoscaling.applyDefaults(c, ops, o.Replicas)
	o.Resources.applyDefaults(chartResources)
	o.applyCommonDefaults()
}

// applyCommonDefaults are the defaults both generations share: redis persisted on 8Gi (the 2020
// chart's and, in bitnami/charts redis 22.0.7 values.yaml master.persistence.size, the current
// chart's), the indexer's schedule and the workers' grace period.
func (o *OpenNeuro) applyCommonDefaults() {
	if o.Redis.Persistence == nil {
		o.Redis.Persistence = boolPtr(true)
	}
	setDefault(&o.Redis.Size, "8Gi")
	setDefault(&o.IndexerSchedule, "57 */4 * * *")
	if o.WorkerTerminationGracePeriodSeconds == 0 {
		o.WorkerTerminationGracePeriodSeconds = 600
	}
}

// applyDefaults fills every component's unset requests and limits from d (a component d leaves
// empty stays empty: it is not part of that generation).
func (r *ComponentResources) applyDefaults(d ComponentResources) {
	for _, c := range []struct{ r, d *Resources }{
		{&r.API, &d.API}, {&r.Web, &d.Web}, {&r.Content, &d.Content}, {&r.DataladService, &d.DataladService},
		{&r.Worker, &d.Worker}, {&r.TaskiqWorker, &d.TaskiqWorker}, {&r.Scheduler, &d.Scheduler},
		{&r.Beat, &d.Beat}, {&r.Flower, &d.Flower}, {&r.Indexer, &d.Indexer}, {&r.Redis, &d.Redis},
		{&r.RedisCache, &d.RedisCache},
	} {
		c.r.applyDefaults(*c.d)
	}
}

// applySiteDefaults are the defaults both generations share: the public URL, the environment, the
// support widget and ORCID.
func (o *OpenNeuro) applySiteDefaults(env Env, c Cluster, in Ingress) {
	if o.URL == "" && o.Hostname != "" {
		scheme := "https://"
		if c.Mode == ModeExisting && in.TLSSecretName == "" {
			scheme = "http://"
		}
		o.URL = scheme + o.Hostname
	}
	setDefault(&o.Environment, env.Stack)
	setDefault(&o.FreshDeskURL, DefaultFreshDeskURL)
	setDefault(&o.OrcidURI, "https://orcid.org")
}

// hostedZoneIDRE is a Route 53 hosted zone id, e.g. Z1D633PJN98FT9 (an id is Z and upper-case
// letters and digits; anything else in app.dns is taken as the zone's name).
var hostedZoneIDRE = regexp.MustCompile(`^Z[0-9A-Z]{1,31}$`)

// HostedZone returns app.dns as a hosted zone id or a zone name (without a trailing dot); both are
// "" without app.dns.
func (o OpenNeuro) HostedZone() (id, name string) {
	// The aws CLI prints ids as /hostedzone/<id>.
	if dns := strings.TrimPrefix(o.DNS, "/hostedzone/"); hostedZoneIDRE.MatchString(dns) {
		return dns, ""
	}
	return "", strings.TrimSuffix(strings.ToLower(o.DNS), ".")
}

// InZone reports whether hostname and www.<hostname> are names of the zone called zone.
func InZone(hostname, zone string) bool {
	zone = strings.TrimSuffix(zone, ".")
	return hostname == zone || strings.HasSuffix(hostname, "."+zone)
}

// validateTLS checks where the ALB's certificate comes from (eks mode): exactly one of app.dns and
// app.certificateArn, the certificate in the ALB's region, the hostname inside the zone.
func (o OpenNeuro) validateTLS(v *validator, env Env, hostOK bool) {
	switch {
	case o.DNS == "" && o.CertificateARN == "":
		v.addf("app.dns", "neither app.dns nor app.certificateArn is set; set app.dns to the Route 53 hosted zone of %s (id or name) and the program creates the certificate and the DNS records, or set app.certificateArn to an ISSUED ACM certificate of %s and www.%s in aws:region", o.Hostname, o.Hostname, o.Hostname)
	case o.DNS != "" && o.CertificateARN != "":
		v.addf("app.certificateArn", "is set together with app.dns, which makes the program create the certificate; remove one of them")
	case o.CertificateARN != "":
		m := acmCertRE.FindStringSubmatch(o.CertificateARN)
		if m == nil {
			v.addf("app.certificateArn", "%q is not an ACM certificate ARN; write it like arn:aws:acm:us-east-1:123456789012:certificate/<uuid>", o.CertificateARN)
		} else if env.Region != "" && m[1] != env.Region {
			v.addf("app.certificateArn", "the certificate is in %s but aws:region is %s; an ALB only uses ACM certificates of its own region: request one in %s or set app.dns", m[1], env.Region, env.Region)
		}
	default:
		id, name := o.HostedZone()
		if id == "" && !hostnameRE.MatchString(name) {
			v.addf("app.dns", "%q is neither a hosted zone id (Z0123456789ABCDEFGHIJ) nor a zone name (example.org)", o.DNS)
		} else if name != "" && hostOK && !InZone(o.Hostname, name) {
			v.addf("app.dns", "app.hostname %s is not a name of the zone %s; use the zone that holds %s", o.Hostname, name, o.Hostname)
		}
	}
}

func (o OpenNeuro) validate(v *validator, env Env, n Network, c Cluster, e EdgeFS, in Ingress, s Storage, ops Operations) {
	v.k8sName("app.namespace", o.Namespace, 63)
	// The longest derived name is <release>-dataset-worker-<n>, a Service name (at most 63).
	v.k8sName("app.release", o.Release, 40)
	o.validateGeneration(v)
	o.validateGenerationKeys(v, e, s)
	imgs := map[string]string{"app.images.server": o.Images.Server, "app.images.app": o.Images.App,
		"app.images.dataladService": o.Images.DataladService, "app.images.indexer": o.Images.Indexer,
		"app.images.content": o.Images.Content, "app.images.redis": o.Images.Redis}
	if o.Generation == GenCurrent {
		delete(imgs, "app.images.content")
	}
	for _, path := range sortedKeys(imgs) {
		v.image(path, imgs[path])
	}
	if o.Generation == Gen2020 {
		v.notEmpty("app.contentVersion", o.ContentVersion)
	}
	v.notEmpty("app.environment", o.Environment)
	v.httpURL("app.freshDeskUrl", o.FreshDeskURL)
	if o.Version == "latest" || o.ContentVersion == "latest" {
		v.addf("app.version", "the tag latest is not allowed; pin a release such as %s", map[bool]string{true: DefaultCurrentVersion, false: "v3.14.2"}[o.Generation == GenCurrent])
	}
	hostOK := o.Hostname != "" && v.hostname("app.hostname", o.Hostname)
	if o.Hostname == "" {
		v.addf("app.hostname", "is required; set the public DNS name, e.g. openneuro.example.org")
	}
	if u := v.httpURL("app.url", o.URL); u != nil && hostOK && u.Hostname() != o.Hostname {
		v.addf("app.url", "host %q differs from app.hostname %q; use https://%s", u.Hostname(), o.Hostname, o.Hostname)
	}
	// The current chart points GRAPHQL_URI at the API inside the cluster (values.yaml graphql), so only the
	// 2020 generation's public URL must carry the site's host.
	if u := v.httpURL("app.graphqlUri", o.GraphQLURI); u != nil && hostOK && u.Hostname() != o.Hostname && o.Generation == Gen2020 {
		v.addf("app.graphqlUri", "host %q differs from app.hostname %q; use %s/crn/graphql", u.Hostname(), o.Hostname, o.URL)
	}
	if o.FreshDeskURL != "" {
		v.httpURL("app.freshDeskUrl", o.FreshDeskURL)
	}
	if o.SentryDSN != "" {
		v.httpURL("app.sentryDsn", o.SentryDSN)
	}
	v.httpURL("app.orcidUri", o.OrcidURI)
	if c.Mode == ModeEKS {
		o.validateTLS(v, env, hostOK)
	} else {
		if o.CertificateARN != "" {
			v.addf("app.certificateArn", "an ACM certificate needs the ALB of eks mode; with IngressClass %q use ingress.tlsSecretName", in.ClassName)
		}
		if o.DNS != "" {
			v.addf("app.dns", "Route 53 records and ACM certificates are for eks mode; point the name at your cluster's ingress yourself")
		}
	}
	v.positive("app.workers", o.Workers)
	if o.Generation == Gen2020 {
		o.validate2020Datasets(v, c, e, s)
	} else {
		o.validateCurrent(v, n, c, s)
	}
	v.positive("app.replicas.api", o.Replicas.API)
	v.positive("app.replicas.web", o.Replicas.Web)
	if o.Generation == Gen2020 {
		v.positive("app.replicas.dataladService", o.Replicas.DataladService)
	}
	o.Autoscaling.validate(v, c, ops, o.Replicas)
	rs := map[string]Resources{"api": o.Resources.API, "web": o.Resources.Web, "content": o.Resources.Content,
		"dataladService": o.Resources.DataladService, "worker": o.Resources.Worker, "beat": o.Resources.Beat,
		"flower": o.Resources.Flower, "indexer": o.Resources.Indexer, "redis": o.Resources.Redis,
		"redisCache": o.Resources.RedisCache}
	if o.Generation == GenCurrent {
		rs = map[string]Resources{"api": o.Resources.API, "web": o.Resources.Web, "worker": o.Resources.Worker,
			"taskiqWorker": o.Resources.TaskiqWorker, "scheduler": o.Resources.Scheduler,
			"indexer": o.Resources.Indexer, "redis": o.Resources.Redis}
	}
	for _, name := range sortedKeys(rs) {
		rs[name].validate(v, "app.resources."+name)
	}
	v.quantity("app.redis.size", o.Redis.Size)
	if fields := strings.Fields(o.IndexerSchedule); len(fields) != 5 {
		v.addf("app.indexerSchedule", "%q is not a five-field cron schedule; write it like \"57 */4 * * *\"", o.IndexerSchedule)
	}
	if o.WorkerTerminationGracePeriodSeconds < 30 {
		v.addf("app.workerTerminationGracePeriodSeconds", "is %d; give a Celery task at least 30 seconds to finish", o.WorkerTerminationGracePeriodSeconds)
	}
}

// validate2020Datasets checks where the 2020 generation keeps its one shared datasets volume.
func (o OpenNeuro) validate2020Datasets(v *validator, c Cluster, e EdgeFS, s Storage) {
	switch o.DatasetStore {
	case StoreEFS:
		if c.Mode != ModeEKS {
			v.addf("app.datasetStore", "efs needs eks mode; use storageClass (storage.datasetsStorageClass) or edgefs")
		}
	case StoreEdgeFS:
		if !e.IsEnabled() {
			v.addf("app.datasetStore", "edgefs needs edgefs.enabled true; enable EdgeFS or use %s", map[bool]string{true: "efs", false: "storageClass"}[c.Mode == ModeEKS])
		}
	case StoreStorageClass:
		if c.Mode == ModeEKS {
			v.addf("app.datasetStore", "storageClass is for existing mode; in eks mode use efs or edgefs")
		} else if o.Generation == Gen2020 && !slices.Contains(s.sharedVolumeKeys, "storage.datasetsAccessMode") {
			// The claim is not awaited: a class that refuses the mode shows only as workers that never start.
			v.addf("storage.datasetsAccessMode", "is required with the datasets on a storage class: ReadWriteMany when storage.datasetsStorageClass (or the cluster's default class) serves shared volumes (NFS, CephFS, EFS), ReadWriteOnce when it does not (kind's and k3d's default classes, most block storage; then app.workers and app.replicas.dataladService 1); a class that refuses the mode leaves the claim Pending and the workers never start")
		}
	default:
		v.addf("app.datasetStore", "%q is not allowed; use efs, edgefs or storageClass", o.DatasetStore)
	}
	// EdgeFS NFS is always shared; a ReadWriteOnce class lets one node mount the volume, so the
	// workers and the DataLad service pods must all fit on that node.
	if s.DatasetsAccessMode == "ReadWriteOnce" && o.DatasetStore != StoreEdgeFS {
		if o.Workers > 1 || o.Replicas.DataladService > 1 {
			v.addf("storage.datasetsAccessMode", "ReadWriteOnce lets one node mount the datasets volume, but app.workers is %d and app.replicas.dataladService is %d; use ReadWriteMany storage, or 1 of each (they then run on one node)", o.Workers, o.Replicas.DataladService)
		}
		if c.StoragePool != nil {
			v.addf("storage.datasetsAccessMode", "ReadWriteOnce needs the worker and the DataLad service on one node, but cluster.storagePool puts the worker on the storage nodes; use ReadWriteMany storage or remove cluster.storagePool")
		}
	}
}

// githubExportSecrets are the credentials a GitHub export needs: v3.14
// (datalad_service/tasks/publish.py) pushed as a user; the current workers create the repository
// in DATALAD_GITHUB_ORG with DATALAD_GITHUB_TOKEN (services/datalad/datalad_service/common/github.py,
// helm/openneuro/templates/secret.yaml at v5.5.1) and push with the SSH key.
var githubExportSecrets = map[Generation][]SecretKey{
	Gen2020:    {SecretDataladGithubLogin, SecretDataladGithubOrg, SecretDataladGithubPass},
	GenCurrent: {SecretDataladGithubOrg, SecretDataladGithubToken},
}

// resolveGithubExports decides app.githubExportsEnabled once the secrets are known: on exactly when
// its credentials are set, unless the stack says otherwise; on without them is an error (every
// public publish would fail on the export).
func (o *OpenNeuro) resolveGithubExports(s Secrets) error {
	var missing []string
	for _, key := range githubExportSecrets[o.Generation] {
		if !s.Has(key) {
			missing = append(missing, string(key))
		}
	}
	if o.GithubExportsEnabled == nil {
		o.GithubExportsEnabled = boolPtr(len(missing) == 0)
		return nil
	}
	if *o.GithubExportsEnabled && len(missing) > 0 {
		return fmt.Errorf("app.githubExportsEnabled: is true but the secrets %s are not set; set them, or remove the key (exports are then off)", strings.Join(missing, ", "))
	}
	return nil
}
