package openneuro_test

import (
	"testing"

	"github.com/openneuro/openneuro-infra/infra/exposure"
	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/kubecheck"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// variants are the layer's shapes that the stack files alone do not produce; kubecheck's own
// tests cover the staging and prod stacks as they are.
var variants = []struct {
	name   string
	stack  string
	mutate func(*openneuro.Args)
	opts   []infratest.Option
}{
	{name: "staging", stack: "staging"},
	{name: "prod with the EdgeFS export", stack: "prod", opts: []infratest.Option{infratest.WithValue("app.datasetStore", "edgefs")}},
	{name: "existing cluster ingress, no redis persistence", stack: "staging", mutate: func(a *openneuro.Args) {
		a.Exposure = exposure.Existing(stacks.Ingress{ClassName: "nginx", TLSSecretName: "openneuro-tls", ControllerNamespace: "ingress-nginx"})
		a.StorageDrivers, a.StoragePool = nil, nil
	}, opts: []infratest.Option{infratest.WithValue("app.redis.persistence", false)}},
	{name: "current generation", stack: infratest.CurrentStack, opts: infratest.Current()},
	{name: "current generation on an existing cluster, protected", stack: infratest.CurrentStack, mutate: func(a *openneuro.Args) {
		a.Exposure = exposure.Existing(stacks.Ingress{ClassName: "nginx", TLSSecretName: "openneuro-tls", ControllerNamespace: "ingress-nginx"})
		a.StorageDrivers, a.StoragePool, a.WorkerStorageClass, a.Config.WorkerZone = nil, nil, "", ""
	}, opts: infratest.Current(infratest.WithValue("storage.protect", true), infratest.WithValue("storage.reclaimPolicy", "Retain"))},
}

// layerManifests are the layer's objects as the provider would apply them, secrets in clear.
func layerManifests(t *testing.T, rec *infratest.Recorder) []map[string]any {
	t.Helper()
	mine := map[string]bool{}
	for _, res := range rec.Descendants(openneuro.Token) {
		mine[res.URN] = true
	}
	var objs []map[string]any
	for _, m := range rec.Manifests(false) {
		if mine[m.URN] {
			objs = append(objs, m.Object)
		}
	}
	return objs
}

// TestKubecheckRules runs the project's manifest rules (requests and limits, readiness probes,
// pinned tags, labels, one workload per Service selector, declared mounts, created references, no
// secret in a ConfigMap or annotation) and the strict decode over every variant of the layer.
func TestKubecheckRules(t *testing.T) {
	var secrets []string
	for _, v := range stackconfig.SecretPlaceholders() {
		secrets = append(secrets, v)
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := layerManifests(t, run(t, v.stack, v.mutate, v.opts...))
			for _, violation := range kubecheck.Check(objs, secrets) {
				t.Error(violation)
			}
			for _, o := range objs {
				if _, _, err := kubecheck.DecodeStrict(o); err != nil {
					t.Errorf("%v %v: %v", o["kind"], dig(o, "metadata", "name"), err)
				}
			}
		})
	}
}
