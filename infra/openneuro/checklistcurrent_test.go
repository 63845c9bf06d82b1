package openneuro_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestCurrentChecklist walks the inventory of the current chart (OpenNeuroOrg/openneuro
// helm/openneuro at v5.5.1: templates/*.yaml, values-production.yaml): every object, port, env key,
// probe, command, image, volume and mount it renders, and the AWS replacement of each GKE object,
// so that a missing item fails by name. <rel> is the staging release.
func TestCurrentChecklist(t *testing.T) {
	o := runCurrent(t, nil)

	objectsOf := []struct{ template, kind, name string }{
		{"api-deployment.yaml", "Deployment", name("api")},
		{"api-service.yaml", "Service", name("api")},
		{"web-deployment.yaml", "Deployment", name("web")},
		{"web-service.yaml", "Service", name("web")},
		{"dataset-worker-stateful-set.yaml", "StatefulSet", name("dataset-worker")},
		{"datalad-worker-service.yaml worker 0", "Service", name("dataset-worker-0")},
		{"datalad-worker-service.yaml worker 3", "Service", name("dataset-worker-3")},
		{"dataset-worker-scheduler.yaml", "Deployment", name("scheduler")},
		{"indexer-job.yaml", "CronJob", name("indexer")},
		{"ingress.yaml", "Ingress", rel},
		{"configmap.yaml", "ConfigMap", name("configmap")},
		{"secret.yaml", "Secret", name("secret")},
		{"redis subchart (REDIS_HOST)", "Service", name("redis-master")},
		{"redis subchart", "StatefulSet", name("redis-master")},
		{"made by hand in the chart's README", "Secret", name("ssh-key")},
	}
	for _, item := range objectsOf {
		t.Run(fmt.Sprintf("object %s %s (%s)", item.kind, item.name, item.template), func(t *testing.T) {
			o.get(t, item.kind, item.name)
		})
	}

	servicePorts := []struct {
		service string
		port    int32
	}{
		{name("api"), 8111}, {name("web"), 80}, {name("dataset-worker-0"), 80}, {name("dataset-worker-3"), 80}, {name("redis-master"), 6379},
	}
	for _, item := range servicePorts {
		t.Run(fmt.Sprintf("service port %s:%d", item.service, item.port), func(t *testing.T) {
			svc := o.service(t, item.service)
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != item.port {
				t.Errorf("ports %v", svc.Spec.Ports)
			}
		})
	}

	containers := []struct {
		workload, container, image string
		port                       int32 // 0: none
		command                    string
	}{
		{name("api"), name("api"), "openneuro/server:v5.5.1", 8111, ""},
		{name("web"), name("web"), "openneuro/app:v5.5.1", 80, ""},
		{name("dataset-worker"), name("dataset-worker"), "openneuro/datalad-service:v5.5.1", 80,
			"uvicorn --host 0.0.0.0 --port 80 --factory datalad_service.app:create_app --workers 12 --timeout-keep-alive"},
		{name("dataset-worker"), name("dataset-taskiq-worker"), "openneuro/datalad-service:v5.5.1", 0,
			"/srv/.venv/bin/taskiq worker datalad_service.broker:broker --tasks-pattern datalad_service/tasks/*.py --fs-discover --max-async-tasks 2 --use-process-pool"},
		{name("scheduler"), name("scheduler"), "openneuro/datalad-service:v5.5.1", 0,
			"/srv/.venv/bin/taskiq scheduler datalad_service.broker.scheduler:scheduler --tasks-pattern datalad_service/tasks/*.py --fs-discover"},
		{name("indexer"), "openneuro-indexer", "openneuro/indexer:v5.5.1", 0, ""},
	}
	for _, item := range containers {
		t.Run("container "+item.container, func(t *testing.T) {
			c := container(t, o.podTemplate(t, item.workload).Spec, item.container)
			equal(t, "image", c.Image, item.image)
			var ports []int32
			for _, p := range c.Ports {
				ports = append(ports, p.ContainerPort)
			}
			if item.port == 0 && len(ports) != 0 || item.port != 0 && (len(ports) != 1 || ports[0] != item.port) {
				t.Errorf("container ports %v, want %d", ports, item.port)
			}
			if got := strings.Join(c.Command, " "); !strings.HasPrefix(got, item.command) {
				t.Errorf("command %q, want %q", got, item.command)
			}
		})
	}

	data := o.configMap(t, name("configmap")).Data
	for _, key := range []string{"CRN_SERVER_URL", "GRAPHQL_URI", "DATALAD_WORKERS", "SUPPORT_URL", "FRESH_DESK_URL",
		"ENVIRONMENT", "GOOGLE_TRACKING_IDS", "REDIS_HOST", "REDIS_PORT", "GRAPHQL_ENDPOINT", "DATALAD_SERVICE_URI",
		"DATALAD_DATASET_PATH", "LOCPATH", "OPENNEURO_VERSION", "SENTRY_DSN"} {
		t.Run("ConfigMap key "+key, func(t *testing.T) {
			if _, ok := data[key]; !ok {
				t.Error("missing")
			}
		})
	}
	secret := o.secret(t, name("secret")).StringData
	for _, key := range []string{"JWT_SECRET", "CRN_SERVER_MAIL_API_KEY", "CRN_SERVER_MAIL_API_SECRET", "CRN_SERVER_MAIL_FROM",
		"AWS_REGION", "AWS_ACCOUNT_ID", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_PUBLIC_BUCKET", "AWS_S3_PRIVATE_BUCKET",
		"GCP_ACCESS_KEY_ID", "GCP_SECRET_ACCESS_KEY", "GCP_S3_BACKUP_BUCKET", "DOI_USERNAME", "DOI_PASSWORD", "DOI_PREFIX", "DOI_URL",
		"MONGO_URL", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "ORCID_CLIENT_ID", "ORCID_CLIENT_SECRET", "ORCID_API_ENDPOINT",
		"GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "GLOBUS_CLIENT_ID", "GLOBUS_CLIENT_SECRET",
		"DATALAD_GITHUB_EXPORTS_ENABLED", "DATALAD_GITHUB_ORG", "DATALAD_GITHUB_TOKEN", "ELASTICSEARCH_CONNECTION"} {
		t.Run("Secret key "+key, func(t *testing.T) {
			if _, ok := secret[key]; !ok {
				t.Error("missing")
			}
		})
	}
	t.Run("SSH key Secret key datalad-key", func(t *testing.T) {
		if _, ok := o.secret(t, name("ssh-key")).StringData["datalad-key"]; !ok {
			t.Error("missing")
		}
	})
	for _, w := range []string{name("api"), name("dataset-worker"), name("scheduler"), name("indexer")} {
		t.Run("envFrom configmap+secret "+w, func(t *testing.T) {
			for _, c := range o.podTemplate(t, w).Spec.Containers {
				equal(t, c.Name+" envFrom", c.EnvFrom, envFromOf())
			}
		})
	}

	// The chart's readiness probes (api-deployment.yaml, dataset-worker-stateful-set.yaml); the
	// liveness probes keep the chart's timing but check only the listener (kube-score's
	// pod-probes-identical, gated in make lint).
	probes := []struct{ workload, container, readiness, liveness string }{
		{name("api"), name("api"), "GET /crn/ delay 15 period 30", "TCP http delay 60 period 30"},
		{name("dataset-worker"), name("dataset-worker"), "GET /heartbeat delay 15 period 5", "TCP http delay 0 period 60"},
	}
	for _, item := range probes {
		t.Run("probes "+item.container, func(t *testing.T) {
			c := container(t, o.podTemplate(t, item.workload).Spec, item.container)
			if got := describeProbe(c.ReadinessProbe); got != item.readiness {
				t.Errorf("readiness %q, want %q", got, item.readiness)
			}
			if got := describeProbe(c.LivenessProbe); got != item.liveness {
				t.Errorf("liveness %q, want %q", got, item.liveness)
			}
		})
	}

	mounts := []struct{ container, path, volume, subPath string }{
		{name("dataset-worker"), "/datasets", "datasets", ""},
		{name("dataset-worker"), "/datalad-key", "ssh-key", "datalad-key"},
		{name("dataset-taskiq-worker"), "/datasets", "datasets", ""},
		{name("dataset-taskiq-worker"), "/datalad-key", "ssh-key", "datalad-key"},
	}
	workerPod := o.podTemplate(t, name("dataset-worker")).Spec
	for _, item := range mounts {
		t.Run(fmt.Sprintf("mount %s %s", item.container, item.path), func(t *testing.T) {
			m := mount(t, container(t, workerPod, item.container), item.path)
			equal(t, "volume", m.Name, item.volume)
			equal(t, "subPath", m.SubPath, item.subPath)
		})
	}
	t.Run("ssh-key volume mode 0400", func(t *testing.T) {
		v := volume(t, workerPod, "ssh-key")
		if len(v.Secret.Items) != 1 || *v.Secret.Items[0].Mode != 0o400 || v.Secret.Items[0].Key != "datalad-key" {
			t.Errorf("items %v", v.Secret.Items)
		}
	})
	t.Run("volumeClaimTemplate ReadWriteOnce per worker", func(t *testing.T) {
		tmpl := o.statefulSet(t, name("dataset-worker")).Spec.VolumeClaimTemplates
		if len(tmpl) != 1 || tmpl[0].Name != "datasets" || tmpl[0].Spec.AccessModes[0] != corev1.ReadWriteOnce {
			t.Errorf("claim templates %v", tmpl)
		}
	})
	t.Run("worker nodeSelector zone", func(t *testing.T) {
		if workerPod.NodeSelector["topology.kubernetes.io/zone"] == "" {
			t.Error("missing")
		}
	})
	for _, w := range []string{name("api"), name("web"), name("dataset-worker"), name("scheduler")} {
		t.Run("checksum annotations (web reads no settings) "+w, func(t *testing.T) {
			a := o.podTemplate(t, w).Annotations
			_, cfg := a["checksum/config"]
			_, sec := a["checksum/secret"]
			if want := w != name("web"); cfg != want || sec != want {
				t.Errorf("checksum/config %v checksum/secret %v, want %v", cfg, sec, want)
			}
		})
	}
	t.Run("indexer schedule, restartPolicy, NODE_OPTIONS", func(t *testing.T) {
		cj := o.cronJob(t, name("indexer"))
		equal(t, "schedule", cj.Spec.Schedule, "57 */4 * * *")
		pod := cj.Spec.JobTemplate.Spec.Template.Spec
		equal(t, "restartPolicy", pod.RestartPolicy, corev1.RestartPolicyOnFailure)
		equal(t, "env", container(t, pod, "openneuro-indexer").Env, []corev1.EnvVar{{Name: "NODE_OPTIONS", Value: "--max_old_space_size=2048"}})
	})

	// The GKE objects and their ALB replacements (ingress.yaml, managed-certificate.yaml,
	// datalad-worker-service.yaml's BackendConfig).
	ing := o.ingress(t, rel)
	albs := []struct{ gke, annotation, want string }{
		{"FrontendConfig redirectToHttps", "alb.ingress.kubernetes.io/ssl-redirect", "443"},
		{"ManagedCertificate", "alb.ingress.kubernetes.io/certificate-arn", "arn:aws:acm:us-east-1:488777458602:certificate/6883342b-63ac-4466-b3f8-d9a8dd80bfaa"},
		{"global static IP (a public load balancer)", "alb.ingress.kubernetes.io/scheme", "internet-facing"},
		{"ClusterIP backends", "alb.ingress.kubernetes.io/target-type", "ip"},
	}
	for _, item := range albs {
		t.Run("ALB replaces "+item.gke, func(t *testing.T) {
			equal(t, item.annotation, ing.Annotations[item.annotation], item.want)
		})
	}
	equal(t, "ingress class", *ing.Spec.IngressClassName, "alb")
	healthChecks := []struct{ service, path string }{
		{name("api"), "/crn/"}, {name("web"), "/"}, {name("dataset-worker-0"), "/heartbeat"}, {name("dataset-worker-3"), "/heartbeat"},
	}
	for _, item := range healthChecks {
		t.Run("health check (GKE derived it from readiness) "+item.service, func(t *testing.T) {
			equal(t, "healthcheck-path", o.service(t, item.service).Annotations["alb.ingress.kubernetes.io/healthcheck-path"], item.path)
		})
	}
	var paths []string
	for _, p := range ing.Spec.Rules[len(ing.Spec.Rules)-1].HTTP.Paths {
		paths = append(paths, p.Path)
	}
	for _, want := range []string{"/graphql-subscriptions", "/crn/*", "/api/*", "/sitemap.xml", "/uploads/0/*", "/uploads/3/*", "/git/0/*", "/git/3/*", "/*"} {
		t.Run("ingress path "+want, func(t *testing.T) {
			if !strings.Contains(" "+strings.Join(paths, " ")+" ", " "+want+" ") {
				t.Errorf("paths %v", paths)
			}
		})
	}
}
