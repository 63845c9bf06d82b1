package existing_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/existing"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

func provider(t *testing.T, args *existing.Args) map[string]any {
	t.Helper()
	rec := infratest.Run(t, "local", infratest.WithProgram(func(ctx *pulumi.Context) error {
		_, err := existing.New(ctx, "cluster", args)
		return err
	}))
	p := rec.Find("pulumi:providers:kubernetes", "cluster-k8s")
	if p == nil {
		t.Fatal("no Kubernetes provider")
	}
	return p.Plain(true)
}

func TestKubeconfigSources(t *testing.T) {
	cases := []struct {
		name       string
		args       *existing.Args
		kubeconfig any
		context    any
	}{
		{"ambient kubeconfig", &existing.Args{Name: "openneuro-local"}, nil, nil},
		{"path and context", &existing.Args{Name: "openneuro-local", KubeconfigPath: "/home/me/.kube/config", Context: "kind-openneuro"}, "/home/me/.kube/config", "kind-openneuro"},
		{"secret content", &existing.Args{Name: "openneuro-local", Kubeconfig: pulumi.ToSecret(pulumi.String("apiVersion: v1")).(pulumi.StringOutput)}, infratest.Redacted, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := provider(t, c.args)
			if in["kubeconfig"] != c.kubeconfig || in["context"] != c.context {
				t.Errorf("kubeconfig %v context %v, want %v %v", in["kubeconfig"], in["context"], c.kubeconfig, c.context)
			}
			for _, key := range []string{"enableServerSideApply", "enableConfigMapMutable", "enableSecretMutable"} {
				if in[key] != "true" && in[key] != true {
					t.Errorf("%s is off: %v", key, in[key])
				}
			}
			// A new kubeconfig of the same cluster must update the provider, not replace it (and
			// with it every object): its identity is the cluster's name.
			if in["clusterIdentifier"] != "openneuro-local" {
				t.Errorf("clusterIdentifier = %v, want openneuro-local", in["clusterIdentifier"])
			}
		})
	}
}

func TestPathAndContentAreExclusive(t *testing.T) {
	_, err := infratest.RunStack("local", infratest.WithProgram(func(ctx *pulumi.Context) error {
		_, err := existing.New(ctx, "cluster", &existing.Args{KubeconfigPath: "/x", Kubeconfig: pulumi.String("y")})
		return err
	}))
	if err == nil {
		t.Error("a path and a content were both accepted")
	}
}
