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
		{"ambient kubeconfig", &existing.Args{}, nil, nil},
		{"path and context", &existing.Args{KubeconfigPath: "/home/me/.kube/config", Context: "kind-openneuro"}, "/home/me/.kube/config", "kind-openneuro"},
		{"secret content", &existing.Args{Kubeconfig: pulumi.ToSecret(pulumi.String("apiVersion: v1")).(pulumi.StringOutput)}, infratest.Redacted, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := provider(t, c.args)
			if in["kubeconfig"] != c.kubeconfig || in["context"] != c.context {
				t.Errorf("kubeconfig %v context %v, want %v %v", in["kubeconfig"], in["context"], c.kubeconfig, c.context)
			}
			if in["enableServerSideApply"] != "true" && in["enableServerSideApply"] != true {
				t.Errorf("server-side apply is off: %v", in["enableServerSideApply"])
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
