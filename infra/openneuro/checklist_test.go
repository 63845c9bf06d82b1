package openneuro_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestChartChecklist walks reference/openneuro-chart.md sections 2 and 3: every object, port, env
// var, probe, volume, mount and secret key of the 2020 chart, so that a missing item fails by
// name. <rel> is the staging release.
func TestChartChecklist(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))

	objectsOf := []struct{ ref, kind, name string }{
		{"2.1", "Deployment", name("api")},
		{"2.2", "Service", name("api")},
		{"2.3", "Deployment", name("beat-scheduler")},
		{"2.4", "ConfigMap", name("configmap")},
		{"2.5", "Deployment", name("datalad-service")},
		{"2.6", "Service", name("datalad-service")},
		{"2.7", "StatefulSet", name("dataset-worker")},
		{"2.7 serviceName (missing in the chart)", "Service", name("dataset-worker")},
		{"2.8", "Deployment", name("flower")},
		{"2.9", "PersistentVolumeClaim", name("datasets")},
		{"2.10", "CronJob", name("indexer")},
		{"2.11", "Ingress", rel},
		{"2.12", "Secret", name("secret")},
		{"2.13", "Deployment", name("web")},
		{"2.14", "Service", name("web")},
		{"2.15 redis subchart", "Service", name("redis-master")},
		{"2.16 made by hand in the chart", "Secret", name("ssh-key")},
		{"4.2 per-shard Service", "Service", name("dataset-worker-0")},
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
		{"2.2", name("api"), 8111}, {"2.6", name("datalad-service"), 9877}, {"2.14", name("web"), 80},
		{"2.8 (was port-forward only)", name("flower"), 5555}, {"2.15", name("redis-master"), 6379},
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
		{"2.1", name("api"), name("api"), 8111}, {"2.5", name("datalad-service"), name("datalad-service"), 9877},
		{"2.8", name("flower"), name("flower"), 5555}, {"2.13", name("web"), name("web"), 80},
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
		{"2.1", name("api"), name("api"), "openneuro/server:v3.14.2"},
		{"2.3", name("beat-scheduler"), name("beat-scheduler"), "openneuro/datalad-service:v3.14.2"},
		{"2.5", name("datalad-service"), name("datalad-service"), "openneuro/datalad-service:v3.14.2"},
		{"2.7", name("dataset-worker"), name("dataset-worker"), "openneuro/datalad-service:v3.14.2"},
		{"2.8", name("flower"), name("flower"), "openneuro/datalad-service:v3.14.2"},
		{"2.10", name("indexer"), "openneuro-indexer", "openneuro/indexer:v3.14.2"},
		{"2.13", name("web"), name("web"), "openneuro/app:v3.14.2"},
		{"2.13 init", name("web"), name("content"), "openneuro/content:v1.0.1"},
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
		{"2.3", name("beat-scheduler"), name("beat-scheduler"), "/beat-scheduler"},
		{"2.7 (the /dataset-worker script, exec'd)", name("dataset-worker"), name("dataset-worker"),
			`celery -A datalad_service.worker worker -Q "dataset-worker-$(python get_docker_scale.py)" -l info`},
		{"2.8", name("flower"), name("flower"), "flower -A datalad_service.worker --broker redis://" + name("redis-master")},
		{"2.13 init", name("web"), name("content"), "/bin/sh -c cp -r content/* /shared"},
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
		t.Run("2.4/3.2 ConfigMap key "+key, func(t *testing.T) {
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
		t.Run("2.12 Secret key "+key, func(t *testing.T) {
			if _, ok := secret[key]; !ok {
				t.Error("missing")
			}
		})
	}
	t.Run("2.16 SSH key Secret key datalad-key", func(t *testing.T) {
		if _, ok := o.secret(t, name("ssh-key")).StringData["datalad-key"]; !ok {
			t.Error("missing")
		}
	})

	envFromConsumers := []string{name("api"), name("beat-scheduler"), name("datalad-service"), name("dataset-worker"), name("flower"), name("indexer")}
	for _, w := range envFromConsumers {
		t.Run("2.0 envFrom configmap+secret "+w, func(t *testing.T) {
			for _, c := range o.podTemplate(t, w).Spec.Containers {
				equal(t, c.Name+" envFrom", c.EnvFrom, envFromOf())
			}
		})
	}

	// The chart's liveness probes checked the health endpoints, and the workers' a broadcast through
	// redis. The endpoints are now the readiness probes; liveness checks the process alone (its
	// port), and the workers have none (celery is PID 1; a redis outage restarted them all).
	probes := []struct {
		ref, workload, container, readiness, liveness string
	}{
		{"2.1", name("api"), name("api"), "GET /crn/ delay 15 period 15", "TCP http delay 60 period 30"},
		{"2.5", name("datalad-service"), name("datalad-service"), "GET /heartbeat delay 10 period 10", "TCP http delay 30 period 30"},
		{"2.7", name("dataset-worker"), name("dataset-worker"),
			`exec /bin/sh -c celery inspect ping --app datalad_service.worker --destination "celery@${HOSTNAME}"`, "none"},
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
		{"2.5", name("datalad-service"), name("datalad-service"), "/datalad", "datasets", ""},
		{"2.7", name("dataset-worker"), name("dataset-worker"), "/datalad", "datasets", ""},
		{"2.7", name("dataset-worker"), name("dataset-worker"), "/datalad-key", "ssh-key", "datalad-key"},
		{"2.13 init", name("web"), name("content"), "/shared", "shared-data", ""},
		{"2.13", name("web"), name("web"), "/srv/app/dist/content", "shared-data", ""},
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
	t.Run("2.7 ssh-key volume mode 0400", func(t *testing.T) {
		v := volume(t, o.podTemplate(t, name("dataset-worker")).Spec, "ssh-key")
		if len(v.Secret.Items) != 1 || *v.Secret.Items[0].Mode != 0o400 || v.Secret.Items[0].Key != "datalad-key" {
			t.Errorf("items %v", v.Secret.Items)
		}
	})
	t.Run("2.9 datasets claim ReadWriteMany", func(t *testing.T) {
		if !slices.Contains(o.claim(t, name("datasets")).Spec.AccessModes, corev1.ReadWriteMany) {
			t.Error("not ReadWriteMany")
		}
	})
	t.Run("2.10 indexer schedule and restartPolicy", func(t *testing.T) {
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
