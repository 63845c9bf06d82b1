package openneuro_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/openneuro/openneuro-infra/infra/labels"
	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// rel is the staging release, the prefix of every object name.
const rel = "openneuro-staging"

func name(suffix string) string { return rel + "-" + suffix }

// selectorOf is the stable selector of a component.
func selectorOf(component string) map[string]string {
	return map[string]string{labels.NameKey: "openneuro", labels.InstanceKey: rel, labels.ComponentKey: component}
}

// labelsOf are all six recommended labels of a component running version.
func labelsOf(component, version string) map[string]string {
	l := selectorOf(component)
	l[labels.PartOfKey] = labels.PartOf
	l[labels.ManagedByKey] = labels.ManagedBy
	l[labels.VersionKey] = version
	return l
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// resourcesOf builds expected requests and limits.
func resourcesOf(reqCPU, reqMem, limCPU, limMem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(reqCPU), corev1.ResourceMemory: resource.MustParse(reqMem)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(limCPU), corev1.ResourceMemory: resource.MustParse(limMem)},
	}
}

// assertPod checks what every pod of the layer shares: labels, its own ServiceAccount without a
// token, no service links, seccomp RuntimeDefault, no privilege escalation, requests and limits.
func assertPod(t *testing.T, tmpl corev1.PodTemplateSpec, component, version string) {
	t.Helper()
	equal(t, "pod labels", tmpl.Labels, labelsOf(component, version))
	pod := tmpl.Spec
	equal(t, "serviceAccountName", pod.ServiceAccountName, name(component))
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod mounts an API token; no component talks to the API")
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Error("service links are on")
	}
	if pod.SecurityContext == nil || pod.SecurityContext.SeccompProfile == nil || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod seccomp profile is not RuntimeDefault")
	}
	for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
			t.Errorf("container %s may escalate privileges", c.Name)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				t.Errorf("container %s has no %s request", c.Name, r)
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				t.Errorf("container %s has no %s limit", c.Name, r)
			}
		}
	}
}

// assertSpread checks zone and node spreading over the component's own pods.
func assertSpread(t *testing.T, pod corev1.PodSpec, component string) {
	t.Helper()
	var keys []string
	for _, c := range pod.TopologySpreadConstraints {
		keys = append(keys, c.TopologyKey)
		equal(t, c.TopologyKey+" selector", c.LabelSelector.MatchLabels, selectorOf(component))
		equal(t, c.TopologyKey+" whenUnsatisfiable", c.WhenUnsatisfiable, corev1.ScheduleAnyway)
		equal(t, c.TopologyKey+" maxSkew", c.MaxSkew, int32(1))
	}
	equal(t, "spread topology keys", keys, []string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"})
}

func envFromOf() []corev1.EnvFromSource {
	return []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name("configmap")}}},
		{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name("secret")}}},
	}
}

func httpPortOf(port int32) []corev1.ContainerPort {
	return []corev1.ContainerPort{{Name: "http", ContainerPort: port, Protocol: corev1.ProtocolTCP}}
}

// listening is the liveness probe of the process alone: its HTTP port accepts connections.
func listening(delay, period int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}},
		InitialDelaySeconds: delay, PeriodSeconds: period, TimeoutSeconds: 5, FailureThreshold: 3,
	}
}

func httpGet(path string, delay, period, timeout int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
		InitialDelaySeconds: delay, PeriodSeconds: period, TimeoutSeconds: timeout, FailureThreshold: 3,
	}
}

// assertHTTPService checks a ClusterIP Service on port targeting the named port "http".
func assertHTTPService(t *testing.T, o objects, component string, port int32) *corev1.Service {
	t.Helper()
	svc := o.service(t, name(component))
	equal(t, component+" service type", svc.Spec.Type, corev1.ServiceTypeClusterIP)
	equal(t, component+" service selector", svc.Spec.Selector, selectorOf(component))
	equal(t, component+" service ports", svc.Spec.Ports, []corev1.ServicePort{
		{Name: "http", Port: port, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP},
	})
	return svc
}

func assertDisruptionBudget(t *testing.T, o objects, component string) {
	t.Helper()
	pdb := o.pdb(t, name(component))
	equal(t, component+" pdb maxUnavailable", pdb.Spec.MaxUnavailable, ptr(intstr.FromInt32(1)))
	equal(t, component+" pdb selector", pdb.Spec.Selector.MatchLabels, selectorOf(component))
	equal(t, component+" pdb unhealthy eviction", *pdb.Spec.UnhealthyPodEvictionPolicy, "AlwaysAllow")
}

func ptr[T any](v T) *T { return &v }

func TestAPI(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	d := o.deployment(t, name("api"))
	equal(t, "replicas (app.replicas.api in Pulumi.staging.yaml)", *d.Spec.Replicas, int32(2))
	equal(t, "selector", d.Spec.Selector.MatchLabels, selectorOf("api"))
	equal(t, "deployment labels", d.Labels, labelsOf("api", "v3.14.2"))
	equal(t, "rollout", d.Spec.Strategy.RollingUpdate.MaxUnavailable, ptr(intstr.FromInt32(0)))
	equal(t, "revisionHistoryLimit", *d.Spec.RevisionHistoryLimit, int32(5))
	assertPod(t, d.Spec.Template, "api", "v3.14.2")
	assertSpread(t, d.Spec.Template.Spec, "api")
	c := container(t, d.Spec.Template.Spec, name("api"))
	equal(t, "image", c.Image, "openneuro/server:v3.14.2")
	equal(t, "command (the image's node /srv/src/index.js)", c.Command, []string(nil))
	equal(t, "ports", c.Ports, httpPortOf(8111))
	equal(t, "envFrom", c.EnvFrom, envFromOf())
	equal(t, "liveness (the chart's 60/30, on the process alone)", c.LivenessProbe, listening(60, 30))
	equal(t, "readiness", c.ReadinessProbe, httpGet("/crn/", 15, 15, 10))
	equal(t, "resources (chart)", c.Resources, resourcesOf("400m", "768Mi", "800m", "1600Mi"))
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		t.Error("no preStop pause: the ALB may still send requests to a stopping pod")
	}
	if len(d.Spec.Template.Spec.NodeSelector) != 0 || len(d.Spec.Template.Spec.Tolerations) != 0 {
		t.Error("the API must not be pinned to the storage pool")
	}
	svc := assertHTTPService(t, o, "api", 8111)
	equal(t, "ALB health check", svc.Annotations["alb.ingress.kubernetes.io/healthcheck-path"], "/crn/")
	assertDisruptionBudget(t, o, "api")
}

func TestWeb(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	d := o.deployment(t, name("web"))
	equal(t, "replicas", *d.Spec.Replicas, int32(2))
	equal(t, "selector", d.Spec.Selector.MatchLabels, selectorOf("web"))
	assertPod(t, d.Spec.Template, "web", "v3.14.2")
	assertSpread(t, d.Spec.Template.Spec, "web")
	pod := d.Spec.Template.Spec
	equal(t, "shared-data volume", volume(t, pod, "shared-data").EmptyDir, &corev1.EmptyDirVolumeSource{})

	content := container(t, pod, name("content"))
	equal(t, "content is an init container", len(pod.InitContainers), 1)
	equal(t, "content image (app.contentVersion)", content.Image, "openneuro/content:v1.0.1")
	equal(t, "content command", content.Command, []string{"/bin/sh"})
	equal(t, "content args", content.Args, []string{"-c", "cp -r content/* /shared"})
	equal(t, "content mount", mount(t, content, "/shared").Name, "shared-data")
	equal(t, "content resources", content.Resources, resourcesOf("50m", "32Mi", "200m", "128Mi"))

	web := container(t, pod, name("web"))
	equal(t, "image", web.Image, "openneuro/app:v3.14.2")
	equal(t, "ports", web.Ports, httpPortOf(80))
	equal(t, "content mount", mount(t, web, "/srv/app/dist/content").Name, "shared-data")
	equal(t, "liveness", web.LivenessProbe, listening(10, 30))
	equal(t, "readiness", web.ReadinessProbe, httpGet("/", 5, 10, 5))
	equal(t, "resources (chart)", web.Resources, resourcesOf("250m", "64Mi", "500m", "256Mi"))
	equal(t, "envFrom (nginx reads no configuration or secret)", web.EnvFrom, []corev1.EnvFromSource(nil))
	equal(t, "annotations (nothing to roll on)", d.Spec.Template.Annotations, map[string]string(nil))

	svc := assertHTTPService(t, o, "web", 80)
	equal(t, "ALB health check", svc.Annotations["alb.ingress.kubernetes.io/healthcheck-path"], "/")
	assertDisruptionBudget(t, o, "web")
}

func TestDataladService(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	d := o.deployment(t, name("datalad-service"))
	equal(t, "replicas", *d.Spec.Replicas, int32(2))
	equal(t, "selector", d.Spec.Selector.MatchLabels, selectorOf("datalad-service"))
	assertPod(t, d.Spec.Template, "datalad-service", "v3.14.2")
	assertSpread(t, d.Spec.Template.Spec, "datalad-service")
	pod := d.Spec.Template.Spec
	equal(t, "datasets volume", volume(t, pod, "datasets").PersistentVolumeClaim,
		&corev1.PersistentVolumeClaimVolumeSource{ClaimName: name("datasets")})
	c := container(t, pod, name("datalad-service"))
	equal(t, "image", c.Image, "openneuro/datalad-service:v3.14.2")
	equal(t, "command (the image's gunicorn)", c.Command, []string(nil))
	equal(t, "ports", c.Ports, httpPortOf(9877))
	equal(t, "envFrom", c.EnvFrom, envFromOf())
	equal(t, "datasets mount", mount(t, c, "/datalad").Name, "datasets")
	equal(t, "liveness (the chart's 30/30, on the process alone)", c.LivenessProbe, listening(30, 30))
	equal(t, "readiness", c.ReadinessProbe, httpGet("/heartbeat", 10, 10, 5))
	equal(t, "resources (chart)", c.Resources, resourcesOf("200m", "1Gi", "800m", "3Gi"))
	assertHTTPService(t, o, "datalad-service", 9877)
	assertDisruptionBudget(t, o, "datalad-service")
}

func TestWorkers(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	ss := o.statefulSet(t, name("dataset-worker"))
	equal(t, "replicas = app.workers", *ss.Spec.Replicas, int32(4))
	equal(t, "selector", ss.Spec.Selector.MatchLabels, selectorOf("dataset-worker"))
	equal(t, "serviceName", ss.Spec.ServiceName, name("dataset-worker"))
	equal(t, "podManagementPolicy", string(ss.Spec.PodManagementPolicy), "Parallel")
	equal(t, "rollout timeout: 4 workers x (600 s grace + 300 s)", ss.Annotations["pulumi.com/timeoutSeconds"], "3600")
	assertPod(t, ss.Spec.Template, "dataset-worker", "v3.14.2")
	assertSpread(t, ss.Spec.Template.Spec, "dataset-worker")
	pod := ss.Spec.Template.Spec
	equal(t, "terminationGracePeriodSeconds", *pod.TerminationGracePeriodSeconds, int64(600))
	equal(t, "nodeSelector (storage pool)", pod.NodeSelector, map[string]string{placement.StoragePoolKey: placement.StoragePoolName})
	equal(t, "tolerations (storage pool)", pod.Tolerations, []corev1.Toleration{{
		Key: placement.StoragePoolKey, Operator: corev1.TolerationOpEqual, Value: placement.StoragePoolName, Effect: corev1.TaintEffectNoSchedule,
	}})
	equal(t, "datasets volume", volume(t, pod, "datasets").PersistentVolumeClaim,
		&corev1.PersistentVolumeClaimVolumeSource{ClaimName: name("datasets")})
	equal(t, "ssh-key volume", volume(t, pod, "ssh-key").Secret, &corev1.SecretVolumeSource{
		SecretName: name("ssh-key"), DefaultMode: ptr(int32(0o400)),
		Items: []corev1.KeyToPath{{Key: "datalad-key", Path: "datalad-key", Mode: ptr(int32(0o400))}},
	})

	c := container(t, pod, name("dataset-worker"))
	equal(t, "image", c.Image, "openneuro/datalad-service:v3.14.2")
	equal(t, "command", c.Command, []string{"/bin/sh", "-c",
		`exec celery -A datalad_service.worker worker -Q "dataset-worker-$(python get_docker_scale.py)" -l info`})
	equal(t, "ports (the v3.14.2 worker serves none)", c.Ports, []corev1.ContainerPort(nil))
	equal(t, "envFrom", c.EnvFrom, envFromOf())
	equal(t, "datasets mount", mount(t, c, "/datalad"), corev1.VolumeMount{Name: "datasets", MountPath: "/datalad"})
	equal(t, "ssh key mount", mount(t, c, "/datalad-key"), corev1.VolumeMount{Name: "ssh-key", MountPath: "/datalad-key", SubPath: "datalad-key", ReadOnly: true})
	// None: the chart's broadcast through redis restarted every worker in a redis outage; celery
	// is PID 1, so its death restarts the container.
	equal(t, "liveness", c.LivenessProbe, (*corev1.Probe)(nil))
	// The broker answers, with redis-py alone: `celery inspect ping` imported the whole DataLad
	// stack every 30 s on the storage nodes.
	equal(t, "readiness", c.ReadinessProbe, &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"python", "-c",
			`import os, redis; redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), socket_timeout=5).ping()`}}},
		InitialDelaySeconds: 5, PeriodSeconds: 30, TimeoutSeconds: 10, FailureThreshold: 3,
	})
	// The chart's, but 450m of CPU requested (Pulumi.staging.yaml: room on the storage nodes).
	equal(t, "resources", c.Resources, resourcesOf("450m", "768Mi", "2", "2Gi"))

	governing := o.service(t, name("dataset-worker"))
	equal(t, "governing service is headless", governing.Spec.ClusterIP, "None")
	equal(t, "governing service selector", governing.Spec.Selector, selectorOf("dataset-worker"))
	for _, shard := range []string{"0", "1", "2", "3"} {
		svc := o.service(t, name("dataset-worker-"+shard))
		sel := selectorOf("dataset-worker")
		sel["statefulset.kubernetes.io/pod-name"] = name("dataset-worker-" + shard)
		equal(t, "shard "+shard+" selector", svc.Spec.Selector, sel)
		equal(t, "shard "+shard+" headless", svc.Spec.ClusterIP, "None")
		equal(t, "shard "+shard+" ports", len(svc.Spec.Ports), 0)
	}
	if _, ok := o["Service/"+name("dataset-worker-4")]; ok {
		t.Error("a Service for a shard that does not exist")
	}
	assertDisruptionBudget(t, o, "dataset-worker")
}

func TestWorkersWithoutStoragePool(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil, infratest.WithValue("cluster.edgefsNodeGroup.enabled", false)))
	pod := o.statefulSet(t, name("dataset-worker")).Spec.Template.Spec
	equal(t, "nodeSelector", pod.NodeSelector, map[string]string(nil))
	equal(t, "tolerations", pod.Tolerations, []corev1.Toleration(nil))
}

func TestWorkersOverrides(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil,
		infratest.WithValue("app.workers", 2), infratest.WithValue("app.workerTerminationGracePeriodSeconds", 1800)))
	ss := o.statefulSet(t, name("dataset-worker"))
	equal(t, "replicas", *ss.Spec.Replicas, int32(2))
	equal(t, "grace period", *ss.Spec.Template.Spec.TerminationGracePeriodSeconds, int64(1800))
	equal(t, "rollout timeout", ss.Annotations["pulumi.com/timeoutSeconds"], "4200")
	equal(t, "DATALAD_WORKERS", o.configMap(t, name("configmap")).Data["DATALAD_WORKERS"], "2")
	var shards []string
	for key := range o {
		if strings.HasPrefix(key, "Service/"+name("dataset-worker-")) {
			shards = append(shards, key)
		}
	}
	if len(shards) != 2 {
		t.Errorf("per-shard services %v, want 2", shards)
	}
}

func TestBeat(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	d := o.deployment(t, name("beat-scheduler"))
	equal(t, "replicas (one beat only)", *d.Spec.Replicas, int32(1))
	equal(t, "strategy (never two beats)", string(d.Spec.Strategy.Type), "Recreate")
	assertPod(t, d.Spec.Template, "beat-scheduler", "v3.14.2")
	c := container(t, d.Spec.Template.Spec, name("beat-scheduler"))
	equal(t, "image", c.Image, "openneuro/datalad-service:v3.14.2")
	equal(t, "command", c.Command, []string{"/beat-scheduler"})
	equal(t, "ports", c.Ports, []corev1.ContainerPort(nil))
	equal(t, "envFrom", c.EnvFrom, envFromOf())
	if c.ReadinessProbe == nil || c.ReadinessProbe.Exec == nil || !strings.Contains(strings.Join(c.ReadinessProbe.Exec.Command, " "), `os.environ["REDIS_HOST"]`) {
		t.Errorf("readiness %v does not check the broker", c.ReadinessProbe)
	}
	equal(t, "resources (chart)", c.Resources, resourcesOf("100m", "1Gi", "500m", "2Gi"))
	if _, ok := o["PodDisruptionBudget/"+name("beat-scheduler")]; ok {
		t.Error("a PDB on a single replica would block node drains")
	}
}

func TestFlower(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	d := o.deployment(t, name("flower"))
	equal(t, "replicas", *d.Spec.Replicas, int32(1))
	assertPod(t, d.Spec.Template, "flower", "v3.14.2")
	c := container(t, d.Spec.Template.Spec, name("flower"))
	equal(t, "image", c.Image, "openneuro/datalad-service:v3.14.2")
	equal(t, "command", c.Command, []string{"flower", "-A", "datalad_service.worker", "--broker", "redis://" + name("redis-master")})
	equal(t, "ports", c.Ports, httpPortOf(5555))
	equal(t, "envFrom (FLOWER_BASIC_AUTH)", c.EnvFrom, envFromOf())
	equal(t, "readiness (the broker it shows answers)", c.ReadinessProbe.Exec.Command[:2], []string{"python", "-c"})
	equal(t, "liveness", c.LivenessProbe, listening(30, 30))
	equal(t, "resources (chart)", c.Resources, resourcesOf("50m", "256Mi", "100m", "1Gi"))
	assertHTTPService(t, o, "flower", 5555)
	if _, ok := o.secret(t, name("secret")).StringData["FLOWER_BASIC_AUTH"]; !ok {
		t.Error("the Secret has no FLOWER_BASIC_AUTH for flower")
	}
}

func TestIndexer(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	cj := o.cronJob(t, name("indexer"))
	equal(t, "schedule (chart default)", cj.Spec.Schedule, "57 */4 * * *")
	equal(t, "concurrencyPolicy", string(cj.Spec.ConcurrencyPolicy), "Forbid")
	equal(t, "successful history", *cj.Spec.SuccessfulJobsHistoryLimit, int32(3))
	equal(t, "failed history", *cj.Spec.FailedJobsHistoryLimit, int32(3))
	tmpl := cj.Spec.JobTemplate.Spec.Template
	assertPod(t, tmpl, "indexer", "v3.14.2")
	equal(t, "restartPolicy", tmpl.Spec.RestartPolicy, corev1.RestartPolicyOnFailure)
	c := container(t, tmpl.Spec, "openneuro-indexer")
	equal(t, "image", c.Image, "openneuro/indexer:v3.14.2")
	equal(t, "envFrom (ELASTICSEARCH_CONNECTION, GRAPHQL_URI)", c.EnvFrom, envFromOf())
	equal(t, "resources (chart)", c.Resources, resourcesOf("100m", "256Mi", "500m", "512Mi"))

	t.Run("schedule from config", func(t *testing.T) {
		o := layerObjects(t, run(t, "staging", nil, infratest.WithValue("app.indexerSchedule", "15 3 * * *")))
		equal(t, "schedule", o.cronJob(t, name("indexer")).Spec.Schedule, "15 3 * * *")
	})
	t.Run("no Elasticsearch, no indexer", func(t *testing.T) {
		o := layerObjects(t, run(t, "staging", nil, infratest.WithoutValue("ELASTICSEARCH_CONNECTION")))
		if _, ok := o["CronJob/"+name("indexer")]; ok {
			t.Error("the indexer would fail every run without ELASTICSEARCH_CONNECTION")
		}
	})
}

func TestRedis(t *testing.T) {
	for _, tc := range []struct {
		stack, size string
	}{{"staging", "8Gi"}, {"prod", "40Gi"}} {
		t.Run(tc.stack, func(t *testing.T) {
			rec := run(t, tc.stack, nil)
			o := layerObjects(t, rec)
			master := "openneuro-" + tc.stack + "-redis-master"
			ss := o.statefulSet(t, master)
			equal(t, "replicas (master only)", *ss.Spec.Replicas, int32(1))
			equal(t, "serviceName", ss.Spec.ServiceName, "openneuro-"+tc.stack+"-redis-headless")
			pod := ss.Spec.Template.Spec
			c := container(t, pod, "redis")
			equal(t, "image", c.Image, "redis:7.4.2")
			// The broker: nothing evicted, append-only file, no RDB snapshots, maxmemory 75% of 3Gi.
			equal(t, "args", c.Args, []string{"redis-server", "--protected-mode", "no", "--dir", "/data",
				"--appendonly", "yes", "--save", "", "--maxmemory", "2415919104", "--maxmemory-policy", "noeviction"})
			equal(t, "ports", c.Ports, []corev1.ContainerPort{{Name: "redis", ContainerPort: 6379, Protocol: corev1.ProtocolTCP}})
			equal(t, "readiness", c.ReadinessProbe.Exec.Command, []string{"/bin/sh", "-c", `test "$(redis-cli -p 6379 ping)" = PONG`})
			equal(t, "data mount", mount(t, c, "/data").Name, "data")
			equal(t, "resources (chart)", c.Resources, resourcesOf("250m", "1536Mi", "500m", "3Gi"))
			equal(t, "runs as the image's redis user", *pod.SecurityContext.RunAsUser, int64(999))
			equal(t, "drops every capability", c.SecurityContext.Capabilities.Drop, []corev1.Capability{"ALL"})
			// A claim of its own, not a template: a size change grows it in place.
			equal(t, "claim templates", len(ss.Spec.VolumeClaimTemplates), 0)
			claimName := "openneuro-" + tc.stack + "-redis-data"
			equal(t, "data volume", volume(t, pod, "data").PersistentVolumeClaim.ClaimName, claimName)
			claim := o.claim(t, claimName)
			equal(t, "claim size (app.redis.size)", claim.Spec.Resources.Requests[corev1.ResourceStorage], resource.MustParse(tc.size))
			equal(t, "claim class", *claim.Spec.StorageClassName, "gp3")
			equal(t, "claim labels (no version: an upgrade leaves it alone)", claim.Labels, map[string]string{
				labels.NameKey: "openneuro", labels.InstanceKey: "openneuro-" + tc.stack, labels.ComponentKey: "redis",
				labels.PartOfKey: "openneuro", labels.ManagedByKey: "pulumi"})
			res := o.get(t, "PersistentVolumeClaim", claimName)
			assertDataClaim(t, res, "openneuro-redis-data")
			if !dependsOn(res, urnOf(t, rec, "aws:eks/addon:Addon", ebsDriverName)) {
				t.Error("redis's claim needs the EBS CSI driver")
			}

			cache := o.deployment(t, "openneuro-"+tc.stack+"-redis-cache")
			cc := container(t, cache.Spec.Template.Spec, "redis-cache")
			// The API's cache: evicts least-recently-used keys, keeps nothing on disk.
			equal(t, "cache args", cc.Args, []string{"redis-server", "--protected-mode", "no", "--dir", "/data",
				"--appendonly", "no", "--save", "", "--maxmemory", "2415919104", "--maxmemory-policy", "allkeys-lru"})
			equal(t, "cache strategy", string(cache.Spec.Strategy.Type), "Recreate")
			api := container(t, o.deployment(t, "openneuro-"+tc.stack+"-api").Spec.Template.Spec, "openneuro-"+tc.stack+"-api")
			equal(t, "the API's REDIS_HOST is the cache", api.Env, []corev1.EnvVar{{Name: "REDIS_HOST", Value: "openneuro-" + tc.stack + "-redis-cache"}})
			for _, svcName := range []string{master, "openneuro-" + tc.stack + "-redis-headless"} {
				svc := o.service(t, svcName)
				equal(t, svcName+" ports", svc.Spec.Ports, []corev1.ServicePort{
					{Name: "redis", Port: 6379, TargetPort: intstr.FromString("redis"), Protocol: corev1.ProtocolTCP}})
			}
			equal(t, "headless", o.service(t, "openneuro-"+tc.stack+"-redis-headless").Spec.ClusterIP, "None")
		})
	}
	t.Run("no persistence", func(t *testing.T) {
		o := layerObjects(t, run(t, "staging", nil, infratest.WithValue("app.redis.persistence", false)))
		ss := o.statefulSet(t, name("redis-master"))
		equal(t, "claim templates", len(ss.Spec.VolumeClaimTemplates), 0)
		equal(t, "data volume", volume(t, ss.Spec.Template.Spec, "data").EmptyDir, &corev1.EmptyDirVolumeSource{})
	})
}

// TestCreationTimeouts: every workload whose rollout may take longer than the provider's default
// (pulumi.com/timeoutSeconds) is created within CreateTimeout, 15 minutes, not its rollout's hour;
// the others keep the provider's default for both. Both generations.
func TestCreationTimeouts(t *testing.T) {
	for _, c := range []struct {
		stack string
		opts  []infratest.Option
	}{{"prod", nil}, {infratest.CurrentStack, infratest.Current()}} {
		rec := run(t, c.stack, nil, c.opts...)
		long := 0
		for _, res := range rec.Descendants(openneuro.Token) {
			if res.Type != "kubernetes:apps/v1:Deployment" && res.Type != "kubernetes:apps/v1:StatefulSet" {
				continue
			}
			md, _ := res.Plain(false)["metadata"].(map[string]any)
			annotations, _ := md["annotations"].(map[string]any)
			_, rolled := annotations["pulumi.com/timeoutSeconds"]
			want := ""
			if rolled {
				want, long = "15m", long+1
			}
			if res.CreateTimeout != want || openneuro.CreateTimeout != "15m" {
				t.Errorf("%s %s %s: create timeout %q, want %q (rollout timeout %v)", c.stack, res.Type, res.Name, res.CreateTimeout, want, annotations["pulumi.com/timeoutSeconds"])
			}
		}
		if long < 3 {
			t.Errorf("%s: %d workloads with a rollout timeout, want the API, web and the workers at least", c.stack, long)
		}
	}
}

// TestRolloutTimeouts: Pulumi waits for a whole one-pod-at-a-time rollout behind the ALB (readiness
// gates), 300 s plus 120 s per replica (the HPA's maximum for the API and web: 10 and 6 in prod),
// instead of failing after its default 10 minutes.
func TestRolloutTimeouts(t *testing.T) {
	objs := layerObjects(t, run(t, "prod", nil))
	for name, want := range map[string]string{"openneuro-prod-api": "1500", "openneuro-prod-web": "1020", "openneuro-prod-datalad-service": "660"} {
		d := decode[appsv1.Deployment](t, objs.get(t, "Deployment", name))
		if got := d.Annotations["pulumi.com/timeoutSeconds"]; got != want {
			t.Errorf("%s: pulumi.com/timeoutSeconds %q, want %q", name, got, want)
		}
	}
}
