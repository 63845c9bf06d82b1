package openneuro_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestChartChecklist walks the 2020 chart (OpenNeuroOrg/openneuro helm/openneuro/templates/*.yaml and
// requirements.lock at 024b5723b, the EdgeFS-era commit; the dataset queues of
// services/datalad/datalad_service/common/celery.py): every object, port, env var, probe, volume,
// mount and secret key, each named by the template it comes from, so that a missing item fails by
// name. <rel> is the staging release.
func TestChartChecklist(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))

	objectsOf := []struct{ ref, kind, name string }{
		{"api-deployment.yaml", "Deployment", name("api")},
		{"api-service.yaml", "Service", name("api")},
		{"beat-scheduler-deployment.yaml", "Deployment", name("beat-scheduler")},
		{"configmap.yaml", "ConfigMap", name("configmap")},
		{"datalad-service-deployment.yaml", "Deployment", name("datalad-service")},
		{"datalad-service-service.yaml", "Service", name("datalad-service")},
		{"dataset-worker-stateful-set.yaml", "StatefulSet", name("dataset-worker")},
		{"dataset-worker-stateful-set.yaml serviceName (missing in the chart)", "Service", name("dataset-worker")},
		{"flower-deployment.yaml", "Deployment", name("flower")},
		{"dataset-worker-volume-claim.yaml", "PersistentVolumeClaim", name("datasets")},
		{"indexer-job.yaml", "CronJob", name("indexer")},
		{"ingress.yaml", "Ingress", rel},
		{"secret.yaml", "Secret", name("secret")},
		{"web-deployment.yaml", "Deployment", name("web")},
		{"web-service.yaml", "Service", name("web")},
		{"requirements.lock redis subchart", "Service", name("redis-master")},
		{"ssh-key Secret, made by hand beside the chart", "Secret", name("ssh-key")},
		{"celery.py dataset-worker-N queues: per-shard Service", "Service", name("dataset-worker-0")},
	}
	for _, item := range objectsOf {
		t.Run(fmt.Sprintf("%s %s %s", item.ref, item.kind, item.name), func(t *testing.T) {
			o.get(t, item.kind, item.name)
		})
	}

	servicePorts := []struct {
		ref, service string
		port         int32
	}{
		{"api-service.yaml", name("api"), 8111}, {"datalad-service-service.yaml", name("datalad-service"), 9877}, {"web-service.yaml", name("web"), 80},
		{"flower-deployment.yaml (was port-forward only)", name("flower"), 5555}, {"requirements.lock", name("redis-master"), 6379},
	}
	for _, item := range servicePorts {
		t.Run(fmt.Sprintf("%s port %s:%d", item.ref, item.service, item.port), func(t *testing.T) {
			svc := o.service(t, item.service)
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != item.port {
				t.Errorf("ports %v", svc.Spec.Ports)
			}
		})
	}

	containerPorts := []struct {
		ref, workload, container string
		port                     int32
	}{
		{"api-deployment.yaml", name("api"), name("api"), 8111}, {"datalad-service-deployment.yaml", name("datalad-service"), name("datalad-service"), 9877},
		{"flower-deployment.yaml", name("flower"), name("flower"), 5555}, {"web-deployment.yaml", name("web"), name("web"), 80},
	}
	for _, item := range containerPorts {
		t.Run(fmt.Sprintf("%s containerPort %s %d", item.ref, item.container, item.port), func(t *testing.T) {
			c := container(t, o.podTemplate(t, item.workload).Spec, item.container)
			if len(c.Ports) != 1 || c.Ports[0].ContainerPort != item.port {
				t.Errorf("ports %v", c.Ports)
			}
		})
	}

	images := []struct{ ref, workload, container, image string }{
		{"api-deployment.yaml", name("api"), name("api"), "openneuro/server:v3.14.2"},
		{"beat-scheduler-deployment.yaml", name("beat-scheduler"), name("beat-scheduler"), "openneuro/datalad-service:v3.14.2"},
		{"datalad-service-deployment.yaml", name("datalad-service"), name("datalad-service"), "openneuro/datalad-service:v3.14.2"},
		{"dataset-worker-stateful-set.yaml", name("dataset-worker"), name("dataset-worker"), "openneuro/datalad-service:v3.14.2"},
		{"flower-deployment.yaml", name("flower"), name("flower"), "openneuro/datalad-service:v3.14.2"},
		{"indexer-job.yaml", name("indexer"), "openneuro-indexer", "openneuro/indexer:v3.14.2"},
		{"web-deployment.yaml", name("web"), name("web"), "openneuro/app:v3.14.2"},
		{"web-deployment.yaml init", name("web"), name("content"), "openneuro/content:v1.0.1"},
	}
	for _, item := range images {
		t.Run(fmt.Sprintf("%s image %s", item.ref, item.image), func(t *testing.T) {
			equal(t, "image", container(t, o.podTemplate(t, item.workload).Spec, item.container).Image, item.image)
		})
	}

	commands := []struct {
		ref, workload, container string
		contains                 string
	}{
		{"beat-scheduler-deployment.yaml", name("beat-scheduler"), name("beat-scheduler"), "/beat-scheduler"},
		{"dataset-worker-stateful-set.yaml (the /dataset-worker script, exec'd)", name("dataset-worker"), name("dataset-worker"),
			`celery -A datalad_service.worker worker -Q "dataset-worker-$(python get_docker_scale.py)" -l info`},
		{"flower-deployment.yaml", name("flower"), name("flower"), "flower -A datalad_service.worker --broker redis://" + name("redis-master")},
		{"web-deployment.yaml init", name("web"), name("content"), "/bin/sh -c cp -r content/* /shared"},
	}
	for _, item := range commands {
		t.Run(fmt.Sprintf("%s command %s", item.ref, item.container), func(t *testing.T) {
			c := container(t, o.podTemplate(t, item.workload).Spec, item.container)
			if got := strings.Join(append(append([]string{}, c.Command...), c.Args...), " "); !strings.Contains(got, item.contains) {
				t.Errorf("command %q does not run %q", got, item.contains)
			}
		})
	}

	data := o.configMap(t, name("configmap")).Data
	for _, key := range []string{"CRN_SERVER_URL", "GRAPHQL_URI", "DATALAD_WORKERS", "FRESH_DESK_URL", "ENVIRONMENT",
		"GOOGLE_TRACKING_ID", "REDIS_HOST", "REDIS_PORT", "GRAPHQL_ENDPOINT", "DATALAD_SERVICE_URI",
		"DATALAD_S3_PUBLIC_ON_EXPORT", "LOCPATH"} {
		t.Run("configmap.yaml ConfigMap key "+key, func(t *testing.T) {
			if _, ok := data[key]; !ok {
				t.Error("missing")
			}
		})
	}
	secret := o.secret(t, name("secret")).StringData
	for _, key := range []string{"JWT_SECRET", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "ORCID_CLIENT_ID",
		"ORCID_CLIENT_SECRET", "ORCID_API_ENDPOINT", "GLOBUS_CLIENT_ID", "GLOBUS_CLIENT_SECRET",
		"CRN_SERVER_MAIL_SERVICE", "CRN_SERVER_MAIL_USER", "CRN_SERVER_MAIL_URL", "CRN_SERVER_MAIL_PASS",
		"AWS_REGION", "AWS_ACCOUNT_ID", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_PRIVATE_BUCKET",
		"AWS_S3_PUBLIC_BUCKET", "DATALAD_GITHUB_EXPORTS_ENABLED", "DATALAD_GITHUB_LOGIN", "DATALAD_GITHUB_ORG",
		"DATALAD_GITHUB_PASS", "DOI_USERNAME", "DOI_PASSWORD", "DOI_PREFIX", "DOI_URL", "FLOWER_BASIC_AUTH",
		"MONGO_URL", "ENGINE_API_KEY", "ELASTICSEARCH_CONNECTION"} {
		t.Run("secret.yaml Secret key "+key, func(t *testing.T) {
			if _, ok := secret[key]; !ok {
				t.Error("missing")
			}
		})
	}
	t.Run("ssh-key Secret key datalad-key", func(t *testing.T) {
		if _, ok := o.secret(t, name("ssh-key")).StringData["datalad-key"]; !ok {
			t.Error("missing")
		}
	})

	envFromConsumers := []string{name("api"), name("beat-scheduler"), name("datalad-service"), name("dataset-worker"), name("flower"), name("indexer")}
	for _, w := range envFromConsumers {
		t.Run("templates envFrom configmap+secret "+w, func(t *testing.T) {
			for _, c := range o.podTemplate(t, w).Spec.Containers {
				equal(t, c.Name+" envFrom", c.EnvFrom, envFromOf())
			}
		})
	}

	// The chart's liveness probes checked the health endpoints, and the workers' a broadcast through
	// redis. The endpoints are now the readiness probes; liveness checks the process alone (its
	// port), and the workers have none (celery is PID 1; a redis outage restarted them all); their
	// readiness is the broker's answer.
	probes := []struct {
		ref, workload, container, readiness, liveness string
	}{
		{"api-deployment.yaml", name("api"), name("api"), "GET /crn/ delay 15 period 15", "TCP http delay 60 period 30"},
		{"datalad-service-deployment.yaml", name("datalad-service"), name("datalad-service"), "GET /heartbeat delay 10 period 10", "TCP http delay 30 period 30"},
		{"dataset-worker-stateful-set.yaml", name("dataset-worker"), name("dataset-worker"),
			`exec python -c import os, redis; redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), socket_timeout=5).ping()`, "none"},
	}
	for _, item := range probes {
		t.Run(fmt.Sprintf("%s probes %s", item.ref, item.container), func(t *testing.T) {
			c := container(t, o.podTemplate(t, item.workload).Spec, item.container)
			if got := describeProbe(c.ReadinessProbe); got != item.readiness {
				t.Errorf("readiness %q, want %q", got, item.readiness)
			}
			if got := describeProbe(c.LivenessProbe); got != item.liveness {
				t.Errorf("liveness %q, want %q", got, item.liveness)
			}
		})
	}
	for _, w := range []string{name("api"), name("beat-scheduler"), name("datalad-service"), name("dataset-worker"), name("flower"), name("web"), name("redis-master")} {
		t.Run("readiness probe (absent in the chart) "+w, func(t *testing.T) {
			for _, c := range o.podTemplate(t, w).Spec.Containers {
				if c.ReadinessProbe == nil {
					t.Errorf("container %s has no readiness probe", c.Name)
				}
			}
		})
	}

	mounts := []struct {
		ref, workload, container, path, volume, subPath string
	}{
		{"datalad-service-deployment.yaml", name("datalad-service"), name("datalad-service"), "/datalad", "datasets", ""},
		{"dataset-worker-stateful-set.yaml", name("dataset-worker"), name("dataset-worker"), "/datalad", "datasets", ""},
		{"dataset-worker-stateful-set.yaml", name("dataset-worker"), name("dataset-worker"), "/datalad-key", "ssh-key", "datalad-key"},
		{"web-deployment.yaml init", name("web"), name("content"), "/shared", "shared-data", ""},
		{"web-deployment.yaml", name("web"), name("web"), "/srv/app/dist/content", "shared-data", ""},
	}
	for _, item := range mounts {
		t.Run(fmt.Sprintf("%s mount %s %s", item.ref, item.container, item.path), func(t *testing.T) {
			pod := o.podTemplate(t, item.workload).Spec
			m := mount(t, container(t, pod, item.container), item.path)
			equal(t, "volume", m.Name, item.volume)
			equal(t, "subPath", m.SubPath, item.subPath)
			volume(t, pod, item.volume)
		})
	}
	t.Run("dataset-worker-stateful-set.yaml ssh-key volume mode 0400", func(t *testing.T) {
		v := volume(t, o.podTemplate(t, name("dataset-worker")).Spec, "ssh-key")
		if len(v.Secret.Items) != 1 || *v.Secret.Items[0].Mode != 0o400 || v.Secret.Items[0].Key != "datalad-key" {
			t.Errorf("items %v", v.Secret.Items)
		}
	})
	t.Run("dataset-worker-volume-claim.yaml datasets claim ReadWriteMany", func(t *testing.T) {
		if !slices.Contains(o.claim(t, name("datasets")).Spec.AccessModes, corev1.ReadWriteMany) {
			t.Error("not ReadWriteMany")
		}
	})
	t.Run("indexer-job.yaml indexer schedule and restartPolicy", func(t *testing.T) {
		cj := o.cronJob(t, name("indexer"))
		equal(t, "schedule", cj.Spec.Schedule, "57 */4 * * *")
		equal(t, "restartPolicy", cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyOnFailure)
	})
}

// describeProbe renders a probe for comparison with the reference's wording.
func describeProbe(p *corev1.Probe) string {
	switch {
	case p == nil:
		return "none"
	case p.HTTPGet != nil:
		return fmt.Sprintf("GET %s delay %d period %d", p.HTTPGet.Path, p.InitialDelaySeconds, p.PeriodSeconds)
	case p.Exec != nil:
		return "exec " + strings.Join(p.Exec.Command, " ")
	case p.TCPSocket != nil:
		return fmt.Sprintf("TCP %s delay %d period %d", p.TCPSocket.Port.String(), p.InitialDelaySeconds, p.PeriodSeconds)
	}
	return "other"
}
