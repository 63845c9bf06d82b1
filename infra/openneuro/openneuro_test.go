package openneuro_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/openneuro/openneuro-infra/infra/labels"
	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/kubecheck"
	"github.com/openneuro/openneuro-infra/stacks"
)

// clusterScoped kinds take no namespace.
var clusterScoped = map[string]bool{"Namespace": true, "PersistentVolume": true}

// TestLayerInvariants: for both stacks, every object sits under the component with the
// cluster's provider, carries the recommended labels (the version only on workloads, so that an
// upgrade touches only them), and (if namespaced) is in the app namespace through the Namespace's
// output, so that it is created after it and deleted first.
func TestLayerInvariants(t *testing.T) {
	for _, tc := range []struct {
		name, stack string
		opts        []infratest.Option
	}{
		{"staging", "staging", []infratest.Option{infratest.WithValue("app.datasetStore", "edgefs")}},
		{"prod", "prod", []infratest.Option{infratest.WithValue("app.datasetStore", "edgefs")}},
		{"current generation", infratest.CurrentStack, infratest.Current()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := run(t, tc.stack, nil, tc.opts...)
			o := layerObjects(t, rec)
			ns := o.get(t, "Namespace", "openneuro")
			component := rec.ByType(openneuro.Token)
			if len(component) != 1 {
				t.Fatalf("%d components", len(component))
			}
			for key, res := range o {
				if res.Provider == "" || !strings.Contains(res.Provider, "pulumi:providers:kubernetes::k8s") {
					t.Errorf("%s: provider %q, want the cluster's", key, res.Provider)
				}
				if res.Parent != component[0].URN {
					t.Errorf("%s: parent %s", key, res.Parent)
				}
				if !strings.HasPrefix(res.Name, "openneuro-") {
					t.Errorf("%s: logical name %s is not <component>-<role>", key, res.Name)
				}
				obj := res.Plain(false)
				lbls, _ := dig(obj, "metadata", "labels").(map[string]any)
				kind := strings.SplitN(key, "/", 2)[0]
				for _, k := range []string{labels.NameKey, labels.InstanceKey, labels.ComponentKey, labels.PartOfKey, labels.ManagedByKey, labels.VersionKey} {
					v, _ := lbls[k].(string)
					switch {
					case k == labels.VersionKey && !kubecheck.WorkloadKinds[kind]:
						if v != "" {
							t.Errorf("%s: version label %q on an object that runs nothing: every upgrade would update it", key, v)
						}
					case v == "":
						t.Errorf("%s: no %s label", key, k)
					}
				}
				if clusterScoped[kind] {
					continue
				}
				if got := dig(obj, "metadata", "namespace"); got != "openneuro" {
					t.Errorf("%s: namespace %v", key, got)
				}
				if !slices.Contains(res.PropertyDependencies["metadata"], ns.URN) {
					t.Errorf("%s: its namespace does not come from the Namespace resource", key)
				}
			}
		})
	}
}

func TestNamespace(t *testing.T) {
	for _, tc := range []struct {
		stack   string
		protect bool
	}{{"staging", false}, {"prod", true}} {
		t.Run(tc.stack, func(t *testing.T) {
			rec := run(t, tc.stack, nil)
			res := layerObjects(t, rec).get(t, "Namespace", "openneuro")
			lbls := dig(res.Plain(false), "metadata", "labels").(map[string]any)
			equal(t, "PSA enforce", lbls["pod-security.kubernetes.io/enforce"], any("baseline"))
			equal(t, "PSA audit", lbls["pod-security.kubernetes.io/audit"], any("restricted"))
			if !dependsOn(res, urnOf(t, rec, "eks:index:ManagedNodeGroup", nodeGroupName)) {
				t.Error("the namespace does not depend on the node groups: destroy would remove them first")
			}
			equal(t, "protect", res.Protect, tc.protect)
			equal(t, "retainOnDelete", res.RetainOnDelete, tc.protect)
		})
	}
	t.Run("namespace from config", func(t *testing.T) {
		o := layerObjects(t, run(t, "staging", nil, infratest.WithValue("app.namespace", "neuro")))
		o.get(t, "Namespace", "neuro")
		equal(t, "api namespace", o.deployment(t, name("api")).Namespace, "neuro")
	})
}

// TestDependencies: the orderings a real `pulumi up` and `pulumi destroy` need.
func TestDependencies(t *testing.T) {
	rec := run(t, "staging", nil)
	o := layerObjects(t, rec)
	lbc := urnOf(t, rec, "kubernetes:helm.sh/v3:Release", lbcName)
	for key, res := range o {
		kind := strings.SplitN(key, "/", 2)[0]
		switch kind {
		case "Service", "Ingress", "Deployment", "StatefulSet", "CronJob":
			// The controller's webhooks admit Services and Ingresses, and (readiness gates) pods.
			if !dependsOn(res, lbc) {
				t.Errorf("%s does not depend on the load balancer controller", key)
			}
		}
	}
	for _, w := range []struct{ kind, name string }{
		{"Deployment", "api"}, {"Deployment", "datalad-service"}, {"StatefulSet", "dataset-worker"},
		{"Deployment", "beat-scheduler"}, {"Deployment", "flower"}, {"CronJob", "indexer"},
	} {
		res := o.get(t, w.kind, name(w.name))
		for _, cfg := range []struct{ kind, name string }{{"ConfigMap", "configmap"}, {"Secret", "secret"}} {
			if !dependsOn(res, o.get(t, cfg.kind, name(cfg.name)).URN) {
				t.Errorf("%s does not depend on the %s it reads", w.name, cfg.kind)
			}
		}
	}
	if !dependsOn(o.get(t, "StatefulSet", name("dataset-worker")), o.get(t, "Secret", name("ssh-key")).URN) {
		t.Error("the workers do not depend on their SSH key")
	}
	redis := o.get(t, "StatefulSet", name("redis-master"))
	if !dependsOn(redis, o.get(t, "PersistentVolumeClaim", name("redis-data")).URN) {
		t.Error("redis does not depend on its data claim")
	}
}

func TestArgsChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*openneuro.Args)
		want   string
	}{
		{"provider", func(a *openneuro.Args) { a.Provider = nil }, "openneuro: Provider is required"},
		{"class", func(a *openneuro.Args) { a.Exposure.ClassName = "" }, "openneuro: Exposure.ClassName is required"},
		{"defaults", func(a *openneuro.Args) { a.Config = stacks.OpenNeuro{Release: "openneuro-staging"} }, "Config is not from stacks.Load"},
		{"nfs", func(a *openneuro.Args) { a.Datasets.NFS = &openneuro.NFSExport{} }, "Datasets.NFS needs both Server and Path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := infratest.RunStack("staging", infratest.WithProgram(layer(tc.mutate)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if n := len(rec.ByType(openneuro.Token)); n != 0 {
				t.Errorf("%d components registered before the args were checked", n)
			}
		})
	}
}

// TestOutputs awaits the component's own outputs.
func TestOutputs(t *testing.T) {
	var comp *openneuro.OpenNeuro
	rec := infratest.Run(t, "prod", infratest.WithProgram(func(ctx *pulumi.Context) error {
		var err error
		comp, err = newLayer(ctx, nil)
		return err
	}))
	url, err := internals.UnsafeAwaitOutput(context.Background(), comp.URL)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "url", url.Value, any("https://openneuro.org"))
	host, err := internals.UnsafeAwaitOutput(context.Background(), comp.LoadBalancerHostname)
	if err != nil {
		t.Fatal(err)
	}
	ing := rec.Find("kubernetes:networking.k8s.io/v1:Ingress", "openneuro-ingress")
	want := dig(ing.Outputs.Mappable(), "status", "loadBalancer", "ingress").([]any)[0].(map[string]any)["hostname"]
	equal(t, "loadBalancerHostname (the Ingress status)", host.Value, want)
	if s, _ := host.Value.(string); !strings.HasSuffix(s, ".elb.amazonaws.com") {
		t.Errorf("loadBalancerHostname %v is not an ALB DNS name", host.Value)
	}
}
