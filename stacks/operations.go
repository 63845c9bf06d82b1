package stacks

import (
	"fmt"
	"net/mail"
	"regexp"
)

// Operations configures what keeps the site observable and recoverable (openneuro:operations, eks
// mode): metrics and logs, alarms to people, and backups. Every part is on by default.
type Operations struct {
	loadMark
	// Metrics is metrics-server and CloudWatch Container Insights with Fluent Bit log shipping.
	Metrics Metrics `json:"metrics,omitempty"`
	// Alarms are CloudWatch alarms that e-mail people through an SNS topic.
	Alarms Alarms `json:"alarms,omitempty"`
	// Backup is the AWS Backup plan and vault for the file system and dataset volumes.
	Backup Backup `json:"backup,omitempty"`
}

// Metrics configures the metrics pipeline.
type Metrics struct {
	// MetricsServer installs the metrics-server EKS add-on, which the HorizontalPodAutoscalers read.
	// Default true.
	MetricsServer *bool `json:"metricsServer,omitempty"`
	// MetricsServerVersion pins the metrics-server add-on build. Default: the build addons.go
	// lists for cluster.kubernetesVersion.
	MetricsServerVersion string `json:"metricsServerVersion,omitempty"`
	// ContainerInsights installs the amazon-cloudwatch-observability EKS add-on: the CloudWatch agent
	// (node, pod and container metrics) and Fluent Bit (every container's logs to CloudWatch Logs).
	// Default true. The alarms on nodes, redis and the dataset workers need it.
	ContainerInsights *bool `json:"containerInsights,omitempty"`
	// CloudWatchAddonVersion pins the amazon-cloudwatch-observability add-on build. Default: the
	// build addons.go lists for cluster.kubernetesVersion.
	CloudWatchAddonVersion string `json:"cloudWatchAddonVersion,omitempty"`
	// LogRetentionDays is how long CloudWatch keeps the container, node and performance logs.
	// Default 30; one of CloudWatch's retention values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180,
	// 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
}

// Alarms configures the CloudWatch alarms and where they go.
type Alarms struct {
	// Enabled creates the SNS topic and the alarms. Default true.
	Enabled *bool `json:"enabled,omitempty"`
	// Emails subscribe to the alarm topic; each address gets a confirmation e-mail from AWS first.
	// At least one is required with the alarms on, unless noSubscribers says so on purpose: an
	// alarm nobody hears only shows in the CloudWatch console.
	Emails []string `json:"emails,omitempty"`
	// NoSubscribers says that the stack subscribes no one to the alarm topic (its subscribers are
	// managed outside the stack, such as a chat or paging integration, or the alarms are read in the
	// console). Default false; only with no emails.
	NoSubscribers bool `json:"noSubscribers,omitempty"`
	// ALB5xxPercent is the share of requests answered with a 5xx by the site that raises the
	// alarm (5-minute periods). Default 5.
	ALB5xxPercent int `json:"alb5xxPercent,omitempty"`
	// EFSDailyGrowthGiB raises the storage-growth alarm when the file system grows by more than
	// this in a day. Default 500.
	EFSDailyGrowthGiB int `json:"efsDailyGrowthGiB,omitempty"`
	// RedisMemoryPercent is redis's memory use, of its limit, that raises the alarm. Default 80.
	RedisMemoryPercent int `json:"redisMemoryPercent,omitempty"`
}

// Backup configures AWS Backup.
type Backup struct {
	// Enabled creates the vault, its KMS key and the daily plan. Default true. It replaces EFS's
	// own automatic backups (storage.efs.backups then defaults to false).
	Enabled *bool `json:"enabled,omitempty"`
	// Schedule is the plan's cron expression in UTC. Default cron(0 5 * * ? *), daily at 05:00.
	Schedule string `json:"schedule,omitempty"`
	// RetentionDays is how long each recovery point is kept. Default 35.
	RetentionDays int `json:"retentionDays,omitempty"`
	// CopyRegion, when set, copies every recovery point to a vault in that region (another region's
	// outage or a deleted account region does not take the backups with it). Default "" (no copy).
	CopyRegion string `json:"copyRegion,omitempty"`
	// CopyRetentionDays is how long the copies are kept. Default RetentionDays.
	CopyRetentionDays int `json:"copyRetentionDays,omitempty"`
}

// AppAutoscaling configures the HorizontalPodAutoscalers of the API and web (app.autoscaling).
type AppAutoscaling struct {
	// Enabled creates the HPAs; app.replicas.api and .web are then the least pods, and the
	// Deployments' replica count belongs to the HPAs after the first up. Default true in eks mode
	// with operations.metrics.metricsServer (the HPAs read its metrics API), false in existing mode
	// (turn it on when the cluster serves metrics.k8s.io).
	Enabled *bool `json:"enabled,omitempty"`
	// APIMaxReplicas is the API's most pods. Default twice app.replicas.api, which is the least.
	APIMaxReplicas int `json:"apiMaxReplicas,omitempty"`
	// WebMaxReplicas is the web's most pods. Default twice app.replicas.web, which is the least.
	WebMaxReplicas int `json:"webMaxReplicas,omitempty"`
	// TargetCPUPercent is the average CPU use, of the pods' requests, the HPAs keep. Default 70.
	TargetCPUPercent int `json:"targetCpuPercent,omitempty"`
}

// IsEnabled reports whether the HPAs are created.
func (a AppAutoscaling) IsEnabled() bool { return a.Enabled != nil && *a.Enabled }

// MetricsServerEnabled reports whether the metrics-server add-on is on (eks mode, defaults applied).
func (o Operations) MetricsServerEnabled() bool {
	return o.Metrics.MetricsServer != nil && *o.Metrics.MetricsServer
}

// ContainerInsightsEnabled reports whether Container Insights is on (eks mode, defaults applied).
func (o Operations) ContainerInsightsEnabled() bool {
	return o.Metrics.ContainerInsights != nil && *o.Metrics.ContainerInsights
}

// AlarmsEnabled reports whether the CloudWatch alarms are on (eks mode, defaults applied).
func (o Operations) AlarmsEnabled() bool { return o.Alarms.Enabled != nil && *o.Alarms.Enabled }

// BackupEnabled reports whether the AWS Backup plan is on (eks mode, defaults applied).
func (o Operations) BackupEnabled() bool { return o.Backup.Enabled != nil && *o.Backup.Enabled }

// logRetentionValues are the retention periods CloudWatch Logs accepts (PutRetentionPolicy).
var logRetentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// backupCronRE is an AWS cron expression of six fields, cron(m h dom mon dow year).
var backupCronRE = regexp.MustCompile(`^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$`)

func (o *Operations) applyDefaults(c Cluster) {
	if c.Mode != ModeEKS {
		return
	}
	m := &o.Metrics
	if m.MetricsServer == nil {
		m.MetricsServer = boolPtr(true)
	}
	if m.ContainerInsights == nil {
		m.ContainerInsights = boolPtr(true)
	}
	// An unsupported version gets no builds here; validation of cluster.kubernetesVersion names the
	// supported ones.
	builds, _ := AddonBuildsFor(c.KubernetesVersion)
	setDefault(&m.MetricsServerVersion, builds.MetricsServer)
	setDefault(&m.CloudWatchAddonVersion, builds.CloudWatchObservability)
	if m.LogRetentionDays == 0 {
		m.LogRetentionDays = 30
	}
	a := &o.Alarms
	if a.Enabled == nil {
		a.Enabled = boolPtr(true)
	}
	if a.ALB5xxPercent == 0 {
		a.ALB5xxPercent = 5
	}
	if a.EFSDailyGrowthGiB == 0 {
		a.EFSDailyGrowthGiB = 500
	}
	if a.RedisMemoryPercent == 0 {
		a.RedisMemoryPercent = 80
	}
	b := &o.Backup
	if b.Enabled == nil {
		b.Enabled = boolPtr(true)
	}
	setDefault(&b.Schedule, "cron(0 5 * * ? *)")
	if b.RetentionDays == 0 {
		b.RetentionDays = 35
	}
	if b.CopyRetentionDays == 0 {
		b.CopyRetentionDays = b.RetentionDays
	}
}

func (o Operations) validate(v *validator, c Cluster, env Env) {
	if c.Mode != ModeEKS {
		if o.Metrics != (Metrics{}) || o.Backup != (Backup{}) || o.Alarms.Enabled != nil || len(o.Alarms.Emails) > 0 || o.Alarms.NoSubscribers ||
			o.Alarms.ALB5xxPercent+o.Alarms.EFSDailyGrowthGiB+o.Alarms.RedisMemoryPercent > 0 {
			v.addf("operations", "metrics, alarms and backups are AWS services of eks mode but cluster.mode is existing; remove openneuro:operations")
		}
		return
	}
	m := o.Metrics
	// Without a row for the Kubernetes version there is no default build, and
	// cluster.kubernetesVersion reports that; a build set by hand is still checked.
	_, supported := AddonBuildsFor(c.KubernetesVersion)
	if *m.MetricsServer && (supported || m.MetricsServerVersion != "") {
		v.version("operations.metrics.metricsServerVersion", m.MetricsServerVersion)
	}
	if *m.ContainerInsights && (supported || m.CloudWatchAddonVersion != "") {
		v.version("operations.metrics.cloudWatchAddonVersion", m.CloudWatchAddonVersion)
	}
	if !containsInt(logRetentionValues, m.LogRetentionDays) {
		v.addf("operations.metrics.logRetentionDays", "%d is not a CloudWatch retention period; use one of %v", m.LogRetentionDays, logRetentionValues)
	}
	a := o.Alarms
	for i, e := range a.Emails {
		if addr, err := mail.ParseAddress(e); err != nil || addr.Address != e {
			v.addf(fmt.Sprintf("operations.alarms.emails[%d]", i), "%q is not an e-mail address; write it like ops@example.org", e)
		}
	}
	switch {
	case len(a.Emails) > 0 && !*a.Enabled:
		v.addf("operations.alarms.emails", "are set but operations.alarms.enabled is false; enable the alarms or remove the addresses")
	case len(a.Emails) > 0 && a.NoSubscribers:
		v.addf("operations.alarms.noSubscribers", "is true but operations.alarms.emails lists addresses; remove one of the two")
	case len(a.Emails) == 0 && *a.Enabled && !a.NoSubscribers:
		v.addf("operations.alarms.emails", "is empty, so no one hears the alarms; list at least one address (ops@example.org), or set operations.alarms.noSubscribers: true when the topic's subscribers are managed outside the stack")
	}
	v.percent("operations.alarms.alb5xxPercent", a.ALB5xxPercent, "a share of requests")
	v.positive("operations.alarms.efsDailyGrowthGiB", a.EFSDailyGrowthGiB)
	v.percent("operations.alarms.redisMemoryPercent", a.RedisMemoryPercent, "a share of the memory limit")
	b := o.Backup
	v.positive("operations.backup.retentionDays", b.RetentionDays)
	if !backupCronRE.MatchString(b.Schedule) {
		v.addf("operations.backup.schedule", "%q is not an AWS cron expression; write it like cron(0 5 * * ? *)", b.Schedule)
	}
	if b.CopyRegion != "" {
		if !regionRE.MatchString(b.CopyRegion) {
			v.addf("operations.backup.copyRegion", "%q is not an AWS region; write it like us-east-2", b.CopyRegion)
		} else if b.CopyRegion == env.Region {
			v.addf("operations.backup.copyRegion", "%q is the stack's own region; a copy there survives nothing the original does not, pick another region", b.CopyRegion)
		}
		v.positive("operations.backup.copyRetentionDays", b.CopyRetentionDays)
	} else if o.Backup.CopyRetentionDays != b.RetentionDays {
		v.addf("operations.backup.copyRetentionDays", "is set without operations.backup.copyRegion; set the region or remove it")
	}
}

func (a *AppAutoscaling) applyDefaults(c Cluster, ops Operations, r Replicas) {
	if a.Enabled == nil {
		// On where the program installs metrics-server, whose metrics API the HPAs read; an existing
		// cluster may have none.
		a.Enabled = boolPtr(c.Mode == ModeEKS && ops.MetricsServerEnabled())
	}
	if !*a.Enabled {
		return
	}
	if a.APIMaxReplicas == 0 {
		a.APIMaxReplicas = 2 * r.API
	}
	if a.WebMaxReplicas == 0 {
		a.WebMaxReplicas = 2 * r.Web
	}
	if a.TargetCPUPercent == 0 {
		a.TargetCPUPercent = 70
	}
}

func (a AppAutoscaling) validate(v *validator, c Cluster, ops Operations, r Replicas) {
	if !a.IsEnabled() {
		return
	}
	if c.Mode == ModeEKS && !ops.MetricsServerEnabled() {
		v.addf("app.autoscaling.enabled", "the HorizontalPodAutoscalers read CPU use from the metrics API, but operations.metrics.metricsServer is false; turn metrics-server on or set app.autoscaling.enabled false (the API and web then run app.replicas pods)")
	}
	if a.APIMaxReplicas < r.API {
		v.addf("app.autoscaling.apiMaxReplicas", "%d is below app.replicas.api %d, the least the HPA keeps; raise it", a.APIMaxReplicas, r.API)
	}
	if a.WebMaxReplicas < r.Web {
		v.addf("app.autoscaling.webMaxReplicas", "%d is below app.replicas.web %d, the least the HPA keeps; raise it", a.WebMaxReplicas, r.Web)
	}
	v.percent("app.autoscaling.targetCpuPercent", a.TargetCPUPercent, "the HPA scales out before the pods reach their requests")
}

func containsInt(s []int, x int) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}
