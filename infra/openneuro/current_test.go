package openneuro_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// runCurrent runs the layer for the current-generation test stack (staging moved to it).
func runCurrent(t *testing.T, mutate func(*openneuro.Args), opts ...infratest.Option) objects {
	t.Helper()
	return layerObjects(t, run(t, infratest.CurrentStack, mutate, infratest.Current(opts...)...))
}

// brokerPing is the readiness probe of the taskiq scheduler: redis DB 8 answers.
var brokerPing = &corev1.Probe{
	ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/srv/.venv/bin/python", "-c",
		`import os, redis; redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), db=8, socket_timeout=5).ping()`}}},
	InitialDelaySeconds: 10, PeriodSeconds: 30, TimeoutSeconds: 10, FailureThreshold: 3,
}

func TestCurrentAPI(t *testing.T) {
	o := runCurrent(t, nil)
	d := o.deployment(t, name("api"))
	equal(t, "replicas (Pulumi.staging.yaml)", *d.Spec.Replicas, int32(2))
	assertPod(t, d.Spec.Template, "api", "v5.5.1")
	c := container(t, d.Spec.Template.Spec, name("api"))
	equal(t, "image", c.Image, "openneuro/server:v5.5.1")
	equal(t, "ports", c.Ports, httpPortOf(8111))
	equal(t, "envFrom", c.EnvFrom, envFromOf())
	equal(t, "no env: REDIS_HOST is the one redis", c.Env, []corev1.EnvVar(nil))
	// api-deployment.yaml at v5.5.1: readiness /crn/ 15/30; liveness at the chart's 60/30, of the
	// listener only (the chart's is the readiness request again).
	equal(t, "readiness", c.ReadinessProbe, httpGet("/crn/", 15, 30, 1))
	equal(t, "liveness", c.LivenessProbe, listening(60, 30))
	equal(t, "resources (production requests)", c.Resources, resourcesOf("250m", "1Gi", "1", "3Gi"))
	equal(t, "checksums roll the pods", len(d.Spec.Template.Annotations), 2)
	svc := assertHTTPService(t, o, "api", 8111)
	equal(t, "ALB health check", svc.Annotations["alb.ingress.kubernetes.io/healthcheck-path"], "/crn/")
	assertDisruptionBudget(t, o, "api")
	o.get(t, "HorizontalPodAutoscaler", name("api"))
}

func TestCurrentWeb(t *testing.T) {
	o := runCurrent(t, nil)
	d := o.deployment(t, name("web"))
	assertPod(t, d.Spec.Template, "web", "v5.5.1")
	pod := d.Spec.Template.Spec
	equal(t, "no init container (content is built in)", len(pod.InitContainers), 0)
	equal(t, "no volumes", len(pod.Volumes), 0)
	c := container(t, pod, name("web"))
	equal(t, "image", c.Image, "openneuro/app:v5.5.1")
	equal(t, "ports", c.Ports, httpPortOf(80))
	equal(t, "nginx reads no settings", c.EnvFrom, []corev1.EnvFromSource(nil))
	equal(t, "resources (production requests)", c.Resources, resourcesOf("100m", "128Mi", "500m", "256Mi"))
	assertHTTPService(t, o, "web", 80)
	o.get(t, "HorizontalPodAutoscaler", name("web"))
}

func TestCurrentWorkers(t *testing.T) {
	o := runCurrent(t, nil)
	ss := o.statefulSet(t, name("dataset-worker"))
	equal(t, "replicas = app.workers", *ss.Spec.Replicas, int32(4))
	equal(t, "serviceName", ss.Spec.ServiceName, name("dataset-worker"))
	equal(t, "podManagementPolicy", string(ss.Spec.PodManagementPolicy), "Parallel")
	assertPod(t, ss.Spec.Template, "dataset-worker", "v5.5.1")
	pod := ss.Spec.Template.Spec
	equal(t, "nodeSelector: the workers' zone", pod.NodeSelector, map[string]string{"topology.kubernetes.io/zone": infratest.CurrentWorkerZone})
	equal(t, "no storage-pool toleration", len(pod.Tolerations), 0)
	equal(t, "grace period", *pod.TerminationGracePeriodSeconds, int64(600))
	equal(t, "volumes: the ssh key only (the disk comes from the template)", len(pod.Volumes), 1)
	equal(t, "two containers", len(pod.Containers), 2)

	// dataset-worker-stateful-set.yaml at v5.5.1.
	dl := container(t, pod, name("dataset-worker"))
	equal(t, "image", dl.Image, "openneuro/datalad-service:v5.5.1")
	equal(t, "uvicorn command (keep-alive above the ALB's 60 s)", dl.Command, []string{"uvicorn", "--host", "0.0.0.0", "--port", "80",
		"--factory", "datalad_service.app:create_app", "--workers", "12", "--timeout-keep-alive", "75"})
	equal(t, "ports", dl.Ports, httpPortOf(80))
	equal(t, "readiness", dl.ReadinessProbe, httpGet("/heartbeat", 15, 5, 1))
	equal(t, "liveness", dl.LivenessProbe, listening(0, 60))
	equal(t, "resources", dl.Resources, resourcesOf("2", "4Gi", "4", "8Gi"))
	tq := container(t, pod, name("dataset-taskiq-worker"))
	equal(t, "taskiq image", tq.Image, "openneuro/datalad-service:v5.5.1")
	equal(t, "taskiq command", tq.Command, []string{"/srv/.venv/bin/taskiq", "worker", "datalad_service.broker:broker",
		"--tasks-pattern", "datalad_service/tasks/*.py", "--fs-discover", "--max-async-tasks", "2", "--use-process-pool"})
	equal(t, "taskiq serves no port", tq.Ports, []corev1.ContainerPort(nil))
	// None: a pod is ready only when every container is, and the shard's HTTP service reads
	// without redis; a broker probe here took it out of the ALB whenever redis was away.
	equal(t, "taskiq readiness", tq.ReadinessProbe, (*corev1.Probe)(nil))
	equal(t, "taskiq resources", tq.Resources, resourcesOf("2", "16Gi", "4", "16Gi"))
	for _, c := range []corev1.Container{dl, tq} {
		equal(t, c.Name+" envFrom", c.EnvFrom, envFromOf())
		equal(t, c.Name+" datasets mount", mount(t, c, "/datasets"), corev1.VolumeMount{Name: "datasets", MountPath: "/datasets"})
		equal(t, c.Name+" ssh key mount", mount(t, c, "/datalad-key"), corev1.VolumeMount{Name: "ssh-key", MountPath: "/datalad-key", SubPath: "datalad-key", ReadOnly: true})
	}
	if len(ss.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("%d claim templates, want 1", len(ss.Spec.VolumeClaimTemplates))
	}
	claim := ss.Spec.VolumeClaimTemplates[0]
	equal(t, "claim name", claim.Name, "datasets")
	equal(t, "claim class: gp3", *claim.Spec.StorageClassName, stacks.GP3StorageClass)
	equal(t, "claim mode", claim.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce})
	equal(t, "claim size", claim.Spec.Resources.Requests[corev1.ResourceStorage], resource.MustParse("256Gi"))
	// The StatefulSet never deletes a claim, and its template only names them: Pulumi creates
	// them, and ignores the template after the StatefulSet's creation.
	equal(t, "deleting the StatefulSet keeps the disks", string(ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted), "Retain")
	equal(t, "scaling down keeps a shard's disk", string(ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled), "Retain")
	equal(t, "claim of worker 2", openneuro.WorkerClaimName(rel, 2), "datasets-"+rel+"-dataset-worker-2")
	sts := o.get(t, "StatefulSet", name("dataset-worker"))
	equal(t, "the template's changes ignored", sts.IgnoreChanges, []string{"spec.volumeClaimTemplates"})
	for i := 0; i < 4; i++ {
		disk := o.claim(t, openneuro.WorkerClaimName(rel, i))
		equal(t, "disk class: gp3", *disk.Spec.StorageClassName, stacks.GP3StorageClass)
		equal(t, "disk mode", disk.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce})
		equal(t, "disk size (app.workerDiskSize)", disk.Spec.Resources.Requests[corev1.ResourceStorage], resource.MustParse("256Gi"))
		res := o.get(t, "PersistentVolumeClaim", openneuro.WorkerClaimName(rel, i))
		assertDataClaim(t, res, "openneuro-dataset-worker-disk-"+strconv.Itoa(i))
		if !slices.Contains(sts.DependsOn, res.URN) {
			t.Errorf("the StatefulSet does not wait for worker %d's disk: its pod could start without it", i)
		}
	}
	assertDisruptionBudget(t, o, "dataset-worker")

	for i := 0; i < 4; i++ {
		svc := o.service(t, name("dataset-worker-"+strconv.Itoa(i)))
		sel := selectorOf("dataset-worker")
		sel["statefulset.kubernetes.io/pod-name"] = name("dataset-worker-" + strconv.Itoa(i))
		equal(t, "worker service selector", svc.Spec.Selector, sel)
		equal(t, "worker service type", svc.Spec.Type, corev1.ServiceTypeClusterIP)
		equal(t, "worker service ports", svc.Spec.Ports, []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}})
		equal(t, "worker ALB health check", svc.Annotations["alb.ingress.kubernetes.io/healthcheck-path"], "/heartbeat")
	}
}

// TestCurrentWorkerCount: app.workers is the one number behind the replicas, DATALAD_WORKERS, the
// worker Services and their two ingress paths each.
func TestCurrentWorkerCount(t *testing.T) {
	o := runCurrent(t, nil, infratest.WithValue("app.workers", 5))
	equal(t, "replicas", *o.statefulSet(t, name("dataset-worker")).Spec.Replicas, int32(5))
	equal(t, "DATALAD_WORKERS", o.configMap(t, name("configmap")).Data["DATALAD_WORKERS"], "5")
	services := 0
	for key := range o {
		if strings.HasPrefix(key, "Service/"+name("dataset-worker-")) {
			services++
		}
	}
	equal(t, "worker Services", services, 5)
	var paths []string
	for _, rule := range o.ingress(t, rel).Spec.Rules {
		if rule.Host != "openneuro.staging.sqm.io" {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			if strings.HasPrefix(p.Path, "/uploads/") || strings.HasPrefix(p.Path, "/git/") {
				paths = append(paths, p.Path+" -> "+p.Backend.Service.Name+":"+strconv.Itoa(int(p.Backend.Service.Port.Number)))
			}
		}
	}
	var want []string
	for _, prefix := range []string{"/uploads/", "/git/"} {
		for i := 0; i < 5; i++ {
			want = append(want, prefix+strconv.Itoa(i)+"/* -> "+name("dataset-worker-"+strconv.Itoa(i))+":80")
		}
	}
	equal(t, "worker ingress paths", paths, want)
}

// TestCurrentIngressOrder: the ALB evaluates rules in order, so the catch-all to web is last.
func TestCurrentIngressOrder(t *testing.T) {
	o := runCurrent(t, nil, infratest.WithValue("app.workers", 1))
	rules := o.ingress(t, rel).Spec.Rules
	site := rules[len(rules)-1]
	var got []string
	for _, p := range site.HTTP.Paths {
		got = append(got, p.Path)
	}
	equal(t, "paths", got, []string{"/graphql-subscriptions", "/crn/*", "/api/*", "/sitemap.xml", "/uploads/0/*", "/git/0/*", "/*"})
	equal(t, "www redirect first", rules[0].Host, "www.openneuro.staging.sqm.io")
}

func TestCurrentSchedulerAndIndexer(t *testing.T) {
	o := runCurrent(t, nil)
	d := o.deployment(t, name("scheduler"))
	equal(t, "exactly one scheduler", *d.Spec.Replicas, int32(1))
	equal(t, "never two at once", string(d.Spec.Strategy.Type), "Recreate")
	assertPod(t, d.Spec.Template, "scheduler", "v5.5.1")
	c := container(t, d.Spec.Template.Spec, name("scheduler"))
	equal(t, "image", c.Image, "openneuro/datalad-service:v5.5.1")
	equal(t, "command", c.Command, []string{"/srv/.venv/bin/taskiq", "scheduler", "datalad_service.broker.scheduler:scheduler",
		"--tasks-pattern", "datalad_service/tasks/*.py", "--fs-discover"})
	equal(t, "envFrom", c.EnvFrom, envFromOf())
	equal(t, "readiness", c.ReadinessProbe, brokerPing)
	equal(t, "resources", c.Resources, resourcesOf("500m", "2Gi", "1", "2Gi"))

	cj := o.cronJob(t, name("indexer"))
	equal(t, "schedule", cj.Spec.Schedule, "57 */4 * * *")
	ic := container(t, cj.Spec.JobTemplate.Spec.Template.Spec, "openneuro-indexer")
	equal(t, "indexer image", ic.Image, "openneuro/indexer:v5.5.1")
	equal(t, "indexer env", ic.Env, []corev1.EnvVar{{Name: "NODE_OPTIONS", Value: "--max_old_space_size=2048"}})
	equal(t, "indexer resources (requests = limits)", ic.Resources, resourcesOf("500m", "2048Mi", "500m", "2048Mi"))
}

func TestCurrentSettings(t *testing.T) {
	o := runCurrent(t, nil)
	equal(t, "ConfigMap", o.configMap(t, name("configmap")).Data, map[string]string{
		"CRN_SERVER_URL":       "https://openneuro.staging.sqm.io",
		"GRAPHQL_URI":          "http://" + name("api") + ":8111/crn/graphql",
		"DATALAD_WORKERS":      "4",
		"SUPPORT_URL":          stacks.DefaultFreshDeskURL,
		"FRESH_DESK_URL":       stacks.DefaultFreshDeskURL,
		"ENVIRONMENT":          "staging",
		"GOOGLE_TRACKING_IDS":  "UA-100754266-1,G-K092KXB4WL",
		"REDIS_HOST":           name("redis-master"),
		"REDIS_PORT":           "6379",
		"GRAPHQL_ENDPOINT":     "http://" + name("api") + ":8111/crn/graphql",
		"DATALAD_SERVICE_URI":  name("dataset-worker"),
		"DATALAD_DATASET_PATH": "/datasets",
		"LOCPATH":              "",
		"OPENNEURO_VERSION":    "5.5.1",
		"SENTRY_DSN":           "",
		"ORCID_URI":            "https://orcid.org",
		"ORCID_REDIRECT_URI":   "https://openneuro.staging.sqm.io/crn/auth/orcid/callback",
	})
	placeholders := stackconfig.SecretPlaceholders()
	want := map[string]string{"DATALAD_GITHUB_EXPORTS_ENABLED": "true"}
	for _, spec := range stacks.SecretSpecs {
		if spec.AppEnv && spec.For(stacks.GenCurrent) {
			want[string(spec.Key)] = placeholders[string(spec.Key)]
		}
	}
	secret := o.secret(t, name("secret")).StringData
	equal(t, "Secret: the current generation's keys only", secret, want)
	for _, old := range []string{"FLOWER_BASIC_AUTH", "CRN_SERVER_MAIL_PASS", "DATALAD_GITHUB_PASS", "ENGINE_API_KEY"} {
		if _, ok := secret[old]; ok {
			t.Errorf("the Secret holds the 2020 key %s", old)
		}
	}
}

// TestCurrentHasNo2020Objects: no Celery, flower, beat, DataLad service Deployment, shared datasets
// claim or API cache redis.
func TestCurrentHasNo2020Objects(t *testing.T) {
	o := runCurrent(t, nil)
	for _, key := range []string{"Deployment/" + name("flower"), "Deployment/" + name("beat-scheduler"),
		"Deployment/" + name("datalad-service"), "Service/" + name("datalad-service"),
		"PersistentVolumeClaim/" + name("datasets"), "Deployment/" + name("redis-cache")} {
		if _, ok := o[key]; ok {
			t.Errorf("%s exists in the current generation", key)
		}
	}
}

// TestCurrentWithoutZone: on an existing cluster without app.workerZone the workers are not pinned
// (the cluster's default class places the disks) and the claims name no class.
func TestCurrentWithoutZone(t *testing.T) {
	o := runCurrent(t, func(a *openneuro.Args) { a.Config.WorkerZone, a.WorkerStorageClass = "", "" })
	ss := o.statefulSet(t, name("dataset-worker"))
	equal(t, "nodeSelector", ss.Spec.Template.Spec.NodeSelector, map[string]string(nil))
	equal(t, "claim class", ss.Spec.VolumeClaimTemplates[0].Spec.StorageClassName, (*string)(nil))
}
