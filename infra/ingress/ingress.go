// Package ingress is the ingress layer of an EKS stack: the AWS Load Balancer Controller from its
// official Helm chart, with its IRSA role and upstream IAM policy, and the alb IngressClass.
package ingress

import (
	"errors"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Type is the component's type token.
const Type = "openneuro:ingress:Ingress"

// Args configures the ingress layer.
type Args struct {
	// Config is the stack's openneuro:ingress config as stacks.Load returns it (eks mode, defaults filled, validated).
	Config stacks.Ingress
	// Provider is the cluster's Kubernetes provider. Required.
	Provider *kubernetes.Provider
	// ClusterName is the EKS cluster the controller manages load balancers for. Required.
	ClusterName pulumi.StringInput
	// Region is the AWS region (aws:region). Required: with IMDS hop limit 1 the controller cannot
	// discover it.
	Region string
	// VpcID is the cluster's VPC. Required, for the same reason.
	VpcID pulumi.StringInput
	// OIDCProviderARN and OIDCIssuer are the cluster's IRSA identity provider. Required.
	OIDCProviderARN pulumi.StringInput
	OIDCIssuer      pulumi.StringInput
	// NodeGroups are the cluster's node groups; the controller's pods need them, and they must
	// outlive the controller on destroy.
	NodeGroups []pulumi.Resource
}

// Ingress is the ingress layer's result.
type Ingress struct {
	pulumi.ResourceState

	// ClassName is the IngressClass OpenNeuro's Ingress names (alb).
	ClassName string
	// Controller is what every Service and Ingress of the app depends on: the IngressClass, which
	// waits for the controller's Helm release to be ready (its webhooks serve, so no "no endpoints
	// available for aws-load-balancer-webhook-service"). On destroy the Ingresses then go first,
	// while the class and the controller still exist to delete their ALBs and finalizers.
	Controller pulumi.Resource
}

// New installs the AWS Load Balancer Controller and the IngressClass.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Ingress, error) {
	if args == nil || args.Provider == nil {
		return nil, errors.New("ingress: Provider is required")
	}
	if args.ClusterName == nil || args.VpcID == nil || args.OIDCProviderARN == nil || args.OIDCIssuer == nil || args.Region == "" {
		return nil, errors.New("ingress: ClusterName, Region, VpcID, OIDCProviderARN and OIDCIssuer are required")
	}
	if !args.Config.FromLoad() {
		return nil, errors.New("ingress: Config must be the ingress config from stacks.Load")
	}

	comp := &Ingress{ClassName: args.Config.ClassName}
	if err := ctx.RegisterComponentResource(Type, name, comp, append([]pulumi.ResourceOption{pulumi.Providers(args.Provider)}, opts...)...); err != nil {
		return nil, err
	}
	class, err := newController(ctx, name, args, pulumi.Parent(comp))
	if err != nil {
		return nil, err
	}
	comp.Controller = class
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"className": pulumi.String(comp.ClassName)}); err != nil {
		return nil, err
	}
	return comp, nil
}
