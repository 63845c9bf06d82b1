// Package existing connects the program to a Kubernetes cluster it does not create (cluster.mode
// existing: kind, k3d, minikube, a university cluster, another cloud). No AWS resource, provider or
// credential is involved.
package existing

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// Token is the component's type token.
const Token = "openneuro:existing:Cluster"

// Args selects the kubeconfig. With neither Kubeconfig nor KubeconfigPath set, the provider uses the
// ambient kubeconfig ($KUBECONFIG or ~/.kube/config) of whoever runs pulumi.
type Args struct {
	// KubeconfigPath is a kubeconfig file (cluster.kubeconfig). Default "".
	KubeconfigPath string
	// Kubeconfig is a kubeconfig's content, a secret (openneuro:CLUSTER_KUBECONFIG). Default nil.
	Kubeconfig pulumi.StringInput
	// Context is the kubeconfig context (cluster.context). Default "": the current context.
	Context string
	// Name identifies the cluster to Pulumi (cluster.name): a new kubeconfig with the same name is
	// the same cluster. Required.
	Name string
}

// Cluster is the existing cluster as the later layers see it.
type Cluster struct {
	pulumi.ResourceState

	// Provider is the one Kubernetes provider every Kubernetes resource of the program uses.
	Provider *kubernetes.Provider
}

// New registers the component and its Kubernetes provider.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if args == nil {
		args = &Args{}
	}
	if args.KubeconfigPath != "" && args.Kubeconfig != nil {
		return nil, errors.New("existing: set either KubeconfigPath or Kubeconfig, not both")
	}
	if args.Name == "" {
		return nil, errors.New("existing: Name is required")
	}
	comp := &Cluster{}
	if err := ctx.RegisterComponentResource(Token, name, comp, opts...); err != nil {
		return nil, err
	}
	// The same provider behaviour as in eks mode (kubeprovider.Args); no kubeconfig means the
	// ambient one.
	var kubeconfig pulumi.StringInput
	switch {
	case args.Kubeconfig != nil:
		kubeconfig = args.Kubeconfig
	case args.KubeconfigPath != "":
		kubeconfig = pulumi.String(args.KubeconfigPath)
	}
	pargs := kubeprovider.Args(kubeconfig, args.Name)
	if args.Context != "" {
		pargs.Context = pulumi.String(args.Context)
	}
	provider, err := kubernetes.NewProvider(ctx, name+"-k8s", pargs, pulumi.Parent(comp))
	if err != nil {
		return nil, fmt.Errorf("existing: kubernetes provider: %w", err)
	}
	comp.Provider = provider
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{}); err != nil {
		return nil, err
	}
	return comp, nil
}
