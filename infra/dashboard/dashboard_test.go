package dashboard_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/dashboard"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

func TestDashboardRelease(t *testing.T) {
	rec := infratest.Run(t, "staging", infratest.WithProgram(func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		_, err = dashboard.New(ctx, "dashboard", &dashboard.Args{Provider: p, ClusterName: "openneuro-staging", ChartVersion: "7.13.0"})
		return err
	}))
	rel := rec.Find("kubernetes:helm.sh/v3:Release", "dashboard-chart")
	if rel == nil {
		t.Fatal("no dashboard release")
	}
	in := rel.Plain(false)
	if in["version"] != "7.13.0" || in["chart"] != "kubernetes-dashboard" || in["namespace"] != dashboard.Namespace {
		t.Errorf("release inputs %v", in)
	}
	if rel.Provider == "" {
		t.Error("the release must use the explicit provider")
	}
	ingress := in["values"].(map[string]any)["app"].(map[string]any)["ingress"].(map[string]any)["enabled"]
	if ingress != false {
		t.Error("the dashboard must not be exposed through an ingress")
	}
	if !strings.Contains(rel.Plain(false)["repositoryOpts"].(map[string]any)["repo"].(string), "kubernetes.github.io/dashboard") {
		t.Error("wrong chart repository")
	}
}
