package kubecheck

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// TestProjectRules enforces the project rules (rules.go) on every object of every stack and of the
// current generation; an exception no object of them needs is an error.
func TestProjectRules(t *testing.T) {
	secrets := slices.Sorted(maps.Values(stackconfig.SecretPlaceholders()))
	var all []map[string]any
	for _, stack := range append(allStacks(t), currentGeneration) {
		t.Run(stack, func(t *testing.T) {
			objs := stackObjects(t, stack)
			all = append(all, objs...)
			for _, v := range Check(objs, secrets) {
				t.Error(v)
			}
		})
	}
	if t.Failed() {
		return // a stack that did not run would make every exception look unused
	}
	for _, u := range UnusedExceptions(all) {
		t.Errorf("%s; remove the entry", u)
	}
}

// fixtureSecret stands for a secret value, as the harness's placeholders do.
const fixtureSecret = "placeholder-jwt-secret"

func TestRulesAcceptValidFixture(t *testing.T) {
	for _, v := range Check(validFixture(t), []string{fixtureSecret}) {
		t.Error(v)
	}
}

// TestRulesCatchViolations shows each rule catching a violation, and not firing on close cases that
// are fine. Fixtures are minimal: only violations of the rule under test are looked at.
func TestRulesCatchViolations(t *testing.T) {
	const pod = `
      containers:
        - name: app
          image: demo/app:v1
          readinessProbe: {tcpSocket: {port: 80}}
          resources: {requests: {cpu: 1m, memory: 1Mi}, limits: {cpu: 1m, memory: 1Mi}}`
	deployment := func(name, labels, podSpec string) string {
		return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: ns}
spec:
  selector: {matchLabels: ` + labels + `}
  template:
    metadata: {labels: ` + labels + `}
    spec:` + podSpec
	}
	for _, tc := range []struct {
		name, rule, objects string
		want                string // substring of the one expected violation; "" for none
	}{
		// resources
		{"missing limits", RuleResources, deployment("d", "{app: a}", `
      containers:
        - {name: app, image: demo/app:v1, resources: {requests: {cpu: 1m, memory: 1Mi}}}`),
			`Deployment ns/d: resources: container "app" has no limits.cpu, limits.memory`},
		{"init container without resources", RuleResources, deployment("d", "{app: a}", `
      initContainers: [{name: init, image: demo/init:v1}]`+pod),
			`init container "init" has no requests.cpu, requests.memory, limits.cpu, limits.memory`},
		{"cronjob container without resources", RuleResources, `
apiVersion: batch/v1
kind: CronJob
metadata: {name: c, namespace: ns}
spec:
  schedule: "* * * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: job, image: demo/job:v1}]}}}}`,
			`CronJob ns/c: resources: container "job" has no requests.cpu`},

		// readiness-probe
		{"deployment without readinessProbe", RuleReadinessProbe, deployment("d", "{app: a}", `
      containers: [{name: app, image: demo/app:v1}]`),
			`Deployment ns/d: readiness-probe: container "app" has no readinessProbe`},
		{"sidecar without readinessProbe", RuleReadinessProbe, deployment("d", "{app: a}", `
      initContainers: [{name: proxy, image: demo/proxy:v1, restartPolicy: Always}]`+pod),
			`init container "proxy" has no readinessProbe`},
		{"init container and job need none", RuleReadinessProbe, deployment("d", "{app: a}", `
      initContainers: [{name: init, image: demo/init:v1}]`+pod) + `
---
apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: ns}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: job, image: demo/job:v1}]}}}`,
			""},

		// image-tag
		{"no tag", RuleImageTag, deployment("d", "{app: a}", `
      containers: [{name: app, image: redis}]`), `image "redis" has no tag`},
		{"registry port is not a tag", RuleImageTag, deployment("d", "{app: a}", `
      containers: [{name: app, image: "registry.example.invalid:5000/redis"}]`), `has no tag`},
		{"latest", RuleImageTag, deployment("d", "{app: a}", `
      containers: [{name: app, image: "redis:latest"}]`), `uses the latest tag`},
		{"digest and tag are fine", RuleImageTag, deployment("d", "{app: a}", `
      containers:
        - {name: app, image: "registry.example.invalid:5000/redis:7.4.2"}
        - {name: b, image: "redis@sha256:0000000000000000000000000000000000000000000000000000000000000000"}`), ""},

		// recommended-labels
		{"missing labels", RuleLabels, `
apiVersion: v1
kind: Namespace
metadata:
  name: ns
  labels: {app.kubernetes.io/name: openneuro, app.kubernetes.io/managed-by: pulumi}`,
			`Namespace ns: recommended-labels: missing app.kubernetes.io/instance, app.kubernetes.io/component, app.kubernetes.io/part-of`},
		{"a workload without its version", RuleLabels, `
apiVersion: batch/v1
kind: Job
metadata:
  name: j
  namespace: ns
  labels: {app.kubernetes.io/name: openneuro, app.kubernetes.io/instance: i, app.kubernetes.io/component: c, app.kubernetes.io/part-of: openneuro, app.kubernetes.io/managed-by: pulumi}
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/name: openneuro, app.kubernetes.io/instance: i, app.kubernetes.io/component: c, app.kubernetes.io/part-of: openneuro, app.kubernetes.io/managed-by: pulumi, app.kubernetes.io/version: v1}
    spec:
      restartPolicy: Never
      containers:
        - {name: app, image: "redis:7.4.2", resources: {requests: {cpu: 1m, memory: 1Mi}, limits: {cpu: 1m, memory: 1Mi}}}`,
			`Job ns/j: recommended-labels: missing app.kubernetes.io/version`},
		{"managed by someone else", RuleLabels, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: ns
  labels:
    app.kubernetes.io/name: openneuro
    app.kubernetes.io/instance: openneuro-staging
    app.kubernetes.io/component: api
    app.kubernetes.io/part-of: openneuro
    app.kubernetes.io/managed-by: Helm
    app.kubernetes.io/version: v1`,
			`app.kubernetes.io/managed-by is "Helm", want "pulumi"`},

		// service-selector
		{"selector matches nothing", RuleServiceSelector, deployment("d", "{app: a}", pod) + `
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns}
spec: {selector: {app: typo}, ports: [{port: 80}]}`,
			`Service ns/s: service-selector: selector map[app:typo] matches the pods of no workload`},
		{"selector in another namespace", RuleServiceSelector, deployment("d", "{app: a}", pod) + `
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: other}
spec: {selector: {app: a}, ports: [{port: 80}]}`,
			`matches the pods of no workload`},
		{"selector matches two workloads", RuleServiceSelector, deployment("d1", "{app: a, tier: front}", pod) + "\n---" +
			deployment("d2", "{app: a, tier: back}", pod) + `
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns}
spec: {selector: {app: a}, ports: [{port: 80}]}`,
			`matches the pods of 2 workloads: Deployment ns/d1, Deployment ns/d2`},
		{"per-pod selector beyond replicas", RuleServiceSelector, `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: w, namespace: ns}
spec:
  replicas: 2
  selector: {matchLabels: {app: w}}
  template: {metadata: {labels: {app: w}}, spec: {containers: [{name: app, image: demo/app:v1}]}}
---
apiVersion: v1
kind: Service
metadata: {name: w-2, namespace: ns}
spec: {selector: {app: w, statefulset.kubernetes.io/pod-name: w-2}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: w-1, namespace: ns}
spec: {selector: {app: w, statefulset.kubernetes.io/pod-name: w-1}, ports: [{port: 80}]}`,
			`Service ns/w-2: service-selector: selector map[app:w statefulset.kubernetes.io/pod-name:w-2] matches the pods of no workload`},
		{"no selector", RuleServiceSelector, `
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns}
spec: {ports: [{port: 80}]}`,
			`Service ns/s: service-selector: has no selector`},

		// volume-mounts
		{"mount of an undeclared volume", RuleVolumeMounts, deployment("d", "{app: a}", `
      containers:
        - {name: app, image: demo/app:v1, volumeMounts: [{name: data, mountPath: /data}, {name: tmp, mountPath: /tmp}]}
      volumes: [{name: tmp, emptyDir: {}}]`),
			`Deployment ns/d: volume-mounts: container "app" mounts volume "data", which the pod does not declare`},

		// references
		{"envFrom secret nobody creates", RuleReferences, deployment("d", "{app: a}", `
      containers: [{name: app, image: demo/app:v1, envFrom: [{secretRef: {name: creds}}]}]`),
			`Deployment ns/d: references: container "app" envFrom refers to Secret ns/creds, which the program does not create`},
		{"configmap in another namespace", RuleReferences, deployment("d", "{app: a}", `
      containers: [{name: app, image: demo/app:v1}]
      volumes: [{name: config, configMap: {name: c}}]`) + `
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: other}`,
			`volume "config" refers to ConfigMap ns/c, which the program does not create`},
		{"secret key that does not exist", RuleReferences, deployment("d", "{app: a}", `
      containers:
        - name: app
          image: demo/app:v1
          env: [{name: JWT_SECRET, valueFrom: {secretKeyRef: {name: creds, key: JWT_SECERT}}}]`) + `
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ns}
stringData: {JWT_SECRET: x}`,
			`container "app" env JWT_SECRET refers to key "JWT_SECERT" of Secret ns/creds, which has no such key`},

		// no-plain-secrets
		{"secret value in a configmap", RuleNoPlainSecrets, `
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: ns}
data: {JWT: "Bearer ` + fixtureSecret + `"}`,
			`ConfigMap ns/c: no-plain-secrets: data key JWT holds a secret value; put it in a Secret`},
		{"credential-like key in a configmap", RuleNoPlainSecrets, `
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: ns}
data: {datalad.github-token: "x"}`,
			`data key datalad.github-token looks like a credential`},
		{"secret value in an annotation", RuleNoPlainSecrets, `
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns, annotations: {note: ` + fixtureSecret + `}}`,
			`Service ns/s: no-plain-secrets: annotation note holds a secret value`},
		{"secret value in a pod template annotation", RuleNoPlainSecrets, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ns}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}, annotations: {checksum: ` + fixtureSecret + `}}
    spec: {containers: [{name: app, image: demo/app:v1}]}`,
			`pod template annotation checksum holds a secret value`},
		{"plain keys and secrets in Secrets are fine", RuleNoPlainSecrets, `
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: ns}
data: {CRN_SERVER_URL: "https://openneuro.org", KEYCLOAK_REALM: "x", AWS_S3_PUBLIC_BUCKET: "b"}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: ns}
stringData: {JWT_SECRET: ` + fixtureSecret + `}`,
			""},
	} {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			var got []string
			for _, v := range Check(readObjects(t, tc.objects), []string{fixtureSecret}) {
				if v.Rule == tc.rule {
					got = append(got, v.String())
				}
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("want no %s violation, got:\n%s", tc.rule, strings.Join(got, "\n"))
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("want one %s violation containing\n  %s\ngot:\n%s", tc.rule, tc.want, strings.Join(got, "\n"))
			}
		})
	}
}

func TestExceptions(t *testing.T) {
	savedProbe, savedService := NoReadinessProbe, ServiceSelectorExceptions
	t.Cleanup(func() { NoReadinessProbe, ServiceSelectorExceptions = savedProbe, savedService })
	NoReadinessProbe = []Exception{
		{Kind: "Deployment", Name: "*-beat", Container: "beat", Reason: "test: serves no traffic"},
		{Kind: "Deployment", Name: "*-gone", Container: "gone", Reason: "test: matches nothing"},
	}
	ServiceSelectorExceptions = []Exception{
		{Kind: "Service", Name: "*-nfs", Reason: "test: selects pods an operator creates"},
	}
	objs := readObjects(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: openneuro-staging-beat, namespace: ns}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: beat, image: demo/app:v1}, {name: other, image: demo/app:v1}]}
---
apiVersion: v1
kind: Service
metadata: {name: datasets-nfs, namespace: ns}
spec: {selector: {app: rook-edgefs-nfs}, ports: [{port: 2049}]}`)
	var got []string
	for _, v := range Check(objs, nil) {
		if v.Rule == RuleReadinessProbe || v.Rule == RuleServiceSelector {
			got = append(got, v.String())
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], `container "other"`) {
		t.Errorf("want only the container that is not excepted, got %q", got)
	}
	unused := UnusedExceptions(objs)
	if len(unused) != 1 || !strings.Contains(unused[0], "*-gone") {
		t.Errorf("want the *-gone entry reported unused, got %q", unused)
	}
}

// TestExceptionTablesAreDocumented keeps every exception's reason written down.
func TestExceptionTablesAreDocumented(t *testing.T) {
	for _, e := range slices.Concat(NoReadinessProbe, ServiceSelectorExceptions) {
		if e.Kind == "" || e.Name == "" || strings.TrimSpace(e.Reason) == "" {
			t.Errorf("exception %+v needs a kind, a name and a reason", e)
		}
	}
	for _, e := range ExternalRefs {
		if (e.Kind != "ConfigMap" && e.Kind != "Secret") || e.Namespace == "" || e.Name == "" || strings.TrimSpace(e.Reason) == "" {
			t.Errorf("external ref %+v needs kind ConfigMap or Secret, a namespace, a name and a reason", e)
		}
	}
}
