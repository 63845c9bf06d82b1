// Package dashboard installs the optional Kubernetes dashboard (cluster.dashboard.enabled), as the old
// setup had, but without its long-lived eks-admin token: an operator port-forwards to it and signs in
// with a 15-minute token of their own IAM identity (`aws eks get-token`), so the dashboard can do
// exactly what that identity's access entry allows.
package dashboard

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Token is the component's type token.
const Token = "openneuro:dashboard:Dashboard"

// Namespace is where the dashboard runs.
const Namespace = "kubernetes-dashboard"

// Args configures the dashboard.
type Args struct {
	// Provider is the cluster's Kubernetes provider. Required.
	Provider *kubernetes.Provider
	// ClusterName is the EKS cluster's name, for the sign-in command.
	ClusterName string
	// ChartVersion pins the kubernetes-dashboard chart (cluster.dashboard.chartVersion).
	ChartVersion string
	// DependsOn are the node groups: the release waits for nodes and is removed before them.
	DependsOn []pulumi.Resource
	// DockerHubCache, when set, pulls the chart's Docker Hub images through the ECR cache.
	DockerHubCache *stacks.DockerHubCache
}

// chartImages are the Docker Hub image repositories of the kubernetes-dashboard chart 7.13.0 by
// values path (kubernetes/dashboard charts/kubernetes-dashboard/values.yaml, and its kong
// dependency 2.46.0's image.repository, Kong/charts charts/kong/values.yaml); their tags stay the
// chart's.
var chartImages = []struct{ component, repository string }{
	{"auth", "docker.io/kubernetesui/dashboard-auth"},
	{"api", "docker.io/kubernetesui/dashboard-api"},
	{"web", "docker.io/kubernetesui/dashboard-web"},
	{"metricsScraper", "docker.io/kubernetesui/dashboard-metrics-scraper"},
	{"kong", "kong"},
}

// Dashboard is the installed dashboard.
type Dashboard struct {
	pulumi.ResourceState

	// AccessCommand is how an operator reaches it.
	AccessCommand pulumi.StringOutput `pulumi:"accessCommand"`
}

// values are the chart's values: its ingress stays off (the dashboard is only reached through a
// port-forward), and its images come through the Docker Hub cache when there is one.
func values(cache *stacks.DockerHubCache) pulumi.Map {
	v := pulumi.Map{"app": pulumi.Map{"ingress": pulumi.Map{"enabled": pulumi.Bool(false)}}}
	if cache != nil {
		for _, img := range chartImages {
			v[img.component] = pulumi.Map{"image": pulumi.Map{"repository": pulumi.String(cache.Rewrite(img.repository))}}
		}
	}
	return v
}

// New installs the dashboard chart.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Dashboard, error) {
	if args == nil || args.Provider == nil {
		return nil, errors.New("dashboard: Provider is required")
	}
	if args.ChartVersion == "" {
		return nil, errors.New("dashboard: ChartVersion is required")
	}
	comp := &Dashboard{}
	opts = append([]pulumi.ResourceOption{pulumi.Providers(args.Provider)}, opts...)
	if err := ctx.RegisterComponentResource(Token, name, comp, opts...); err != nil {
		return nil, err
	}
	_, err := helmv3.NewRelease(ctx, name+"-chart", &helmv3.ReleaseArgs{
		Name:            pulumi.String("kubernetes-dashboard"),
		Chart:           pulumi.String("kubernetes-dashboard"),
		Version:         pulumi.String(args.ChartVersion),
		Namespace:       pulumi.String(Namespace),
		CreateNamespace: pulumi.Bool(true),
		RepositoryOpts:  helmv3.RepositoryOptsArgs{Repo: pulumi.String("https://kubernetes.github.io/dashboard/")},
		Values:          values(args.DockerHubCache),
	}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn))
	if err != nil {
		return nil, fmt.Errorf("dashboard: chart: %w", err)
	}
	comp.AccessCommand = pulumi.Sprintf("kubectl -n %s port-forward svc/kubernetes-dashboard-kong-proxy 8443:443 "+
		"# then open https://localhost:8443 and sign in with: aws eks get-token --cluster-name %s --output json | jq -r .status.token",
		Namespace, args.ClusterName)
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"accessCommand": comp.AccessCommand}); err != nil {
		return nil, err
	}
	return comp, nil
}
