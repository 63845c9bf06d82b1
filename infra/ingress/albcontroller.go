package ingress

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	yamlv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/yaml/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	k8snetworking "k8s.io/api/networking/v1"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/infra/labels"
	"github.com/openneuro/openneuro-infra/stacks"
)

// The controller is installed from its Helm chart because it is not an EKS add-on
// (aws/containers-roadmap#1162).
const (
	ChartRepo      = "https://aws.github.io/eks-charts"
	ChartName      = "aws-load-balancer-controller"
	ReleaseName    = "aws-load-balancer-controller"
	Namespace      = "kube-system"
	ServiceAccount = "aws-load-balancer-controller"
	// ControllerName is the IngressClass controller the AWS Load Balancer Controller serves.
	ControllerName = "ingress.k8s.aws/alb"
	// DefaultClassAnnotation marks the cluster's default IngressClass.
	DefaultClassAnnotation = k8snetworking.AnnotationIsDefaultIngressClass
	// releaseTimeoutSeconds covers a first install on fresh nodes (image pulls); Helm waits for
	// the controller Deployment to be ready, so the webhooks serve when the release is done.
	releaseTimeoutSeconds = 600
)

// newController creates the controller's IAM policy and IRSA role, its CRDs, its Helm release and
// the IngressClass, and returns the IngressClass (see Ingress.Controller).
func newController(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption) (pulumi.Resource, error) {
	cfg := args.Config
	chart, ok := stacks.ControllerChartFor(cfg.ControllerChartVersion)
	if !ok {
		return nil, fmt.Errorf("ingress: chart %s has no row in the controller table", cfg.ControllerChartVersion)
	}
	// The CRDs of the chart's version, applied by the program (Helm never upgrades crds/), as one
	// group: a CRD that moves between the chart's files keeps its resource, never deleted and made
	// anew with every object of its kind. A preview and an up read the files from the controller's
	// repository at its tag.
	crds, err := yamlv2.NewConfigGroup(ctx, name+"-controller-crds", &yamlv2.ConfigGroupArgs{
		Files: pulumi.ToStringArray(chart.CRDURLs()),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("ingress: controller CRDs: %w", err)
	}
	doc, err := ControllerPolicy().JSON()
	if err != nil {
		return nil, fmt.Errorf("ingress: controller policy: %w", err)
	}
	policy, err := iam.NewPolicy(ctx, name+"-controller", &iam.PolicyArgs{
		Description: pulumi.String("AWS Load Balancer Controller, from " + ControllerPolicySource),
		Policy:      pulumi.String(doc),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("ingress: controller policy: %w", err)
	}
	role, err := irsa.NewRole(ctx, name+"-controller", &irsa.RoleArgs{
		OIDCProviderARN: args.OIDCProviderARN,
		OIDCIssuer:      args.OIDCIssuer,
		Namespace:       Namespace,
		ServiceAccount:  ServiceAccount,
		Description:     "IRSA role of the AWS Load Balancer Controller",
		Policies:        map[string]pulumi.StringInput{"AWSLoadBalancerControllerIAMPolicy": policy.Arn},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("ingress: controller role: %w", err)
	}

	release, err := helmv3.NewRelease(ctx, name+"-controller", &helmv3.ReleaseArgs{
		Name:           pulumi.String(ReleaseName),
		Chart:          pulumi.String(ChartName),
		Version:        pulumi.String(cfg.ControllerChartVersion),
		RepositoryOpts: helmv3.RepositoryOptsArgs{Repo: pulumi.String(ChartRepo)},
		Namespace:      pulumi.String(Namespace),
		Timeout:        pulumi.Int(releaseTimeoutSeconds),
		MaxHistory:     pulumi.Int(10),
		Values:         controllerValues(args, role.ARN),
		SkipCrds:       pulumi.Bool(true),
	}, parent,
		pulumi.DependsOn(append(append([]pulumi.Resource{crds}, args.NodeGroups...), role.Ready...)),
		// The chart renders a fresh self-signed webhook CA (genCA) whenever it cannot look up its
		// existing TLS Secret, which is every time Pulumi renders it client-side to compute the
		// release's checksum: without this, every preview shows the release changed. A real
		// change of chart version or values still shows, and the upgrade keeps the existing
		// certificate (keepTLSSecret: Helm's server-side lookup finds the Secret).
		// Ref: pulumi-kubernetes provider/pkg/provider/helm_release.go (Diff honours "checksum").
		pulumi.IgnoreChanges([]string{"checksum"}),
	)
	if err != nil {
		return nil, fmt.Errorf("ingress: controller release: %w", err)
	}

	meta := metav1.ObjectMetaArgs{
		Name:        pulumi.String(cfg.ClassName),
		Labels:      labels.Set{Name: ChartName, Instance: ReleaseName, Component: "ingress-class", Version: cfg.ControllerChartVersion}.Labels(),
		Annotations: kubeprovider.Annotations(nil),
	}
	if cfg.DefaultClass {
		meta.Annotations = kubeprovider.Annotations(pulumi.StringMap{DefaultClassAnnotation: pulumi.String("true")})
	}
	class, err := networkingv1.NewIngressClass(ctx, name+"-class", &networkingv1.IngressClassArgs{
		Metadata: meta,
		Spec:     networkingv1.IngressClassSpecArgs{Controller: pulumi.String(ControllerName)},
	}, parent, pulumi.DependsOn([]pulumi.Resource{release}))
	if err != nil {
		return nil, fmt.Errorf("ingress: ingress class: %w", err)
	}
	return class, nil
}

// controllerValues are the chart values. region and vpcId are explicit because the nodes' IMDS hop
// limit of 1 keeps the controller from discovering them; the IngressClass is ours, typed and
// labelled; the Service mutator webhook is off so that no Service of the cluster waits on the
// controller being up.
func controllerValues(args *Args, roleARN pulumi.StringInput) pulumi.Map {
	return pulumi.Map{
		"clusterName":  args.ClusterName,
		"region":       pulumi.String(args.Region),
		"vpcId":        args.VpcID,
		"replicaCount": pulumi.Int(args.Config.ControllerReplicas),
		"serviceAccount": pulumi.Map{
			"create":      pulumi.Bool(true),
			"name":        pulumi.String(ServiceAccount),
			"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": roleARN},
		},
		"ingressClass":                pulumi.String(args.Config.ClassName),
		"createIngressClassResource":  pulumi.Bool(false),
		"enableServiceMutatorWebhook": pulumi.Bool(false),
		"keepTLSSecret":               pulumi.Bool(true),
		"podDisruptionBudget":         pulumi.Map{"maxUnavailable": pulumi.Int(1)},
	}
}
