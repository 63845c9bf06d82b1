// Package openneuro deploys the OpenNeuro application as typed Kubernetes resources, in one of two
// generations (app.generation), with the charts' known bugs fixed. MongoDB and Elasticsearch stay
// external.
//   - current (generationcurrent.go): OpenNeuro v5.x, the chart of v5.5.1: API, web, the
//     dataset-worker StatefulSet (DataLad service + taskiq worker, a disk and a Service per
//     worker), the taskiq scheduler, the indexer, redis. A list of components, one file each
//     (apicurrent.go, webcurrent.go, datasetworkers.go, scheduler.go, indexer.go, redis.go).
//   - 2020 (generation2020.go): the 2020 Helm chart, release v3.14.2: API, web, DataLad service,
//     Celery dataset workers, beat, flower, indexer, redis, on one shared datasets volume.
//
// pod.go, kit.go, settings.go, netpol.go and ingress.go hold the shared decisions (security
// context, spreading, rollout checksums, names and labels, configuration, network policies, the
// Ingress).
package openneuro

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/exposure"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Token is the component's type token.
const Token = "openneuro:openneuro:OpenNeuro"

// Args are the inputs of the application layer.
type Args struct {
	// Config is the application config as stacks.Load returns it (defaults filled, validated). Required.
	Config stacks.OpenNeuro
	// Secrets are the stack's secrets; the application Secret holds Secrets.AppEnvKeys() and the
	// dataset workers' SSH key comes from DATALAD_SSH_KEY (required).
	Secrets stacks.Secrets
	// Provider is the cluster's Kubernetes provider. Required.
	Provider *kubernetes.Provider
	// StoragePool pins the dataset workers to the tainted storage nodes; nil schedules them
	// anywhere.
	StoragePool *placement.Pool
	// Datasets is the volume holding the git/git-annex repositories, mounted at /datalad
	// (generation 2020; required there).
	Datasets Datasets
	// WorkerStorageClass is the class of each dataset worker's own disk (generation current): gp3
	// in eks mode (storage.blockStorageClass); "" is the cluster's default class.
	WorkerStorageClass string
	// RedisStorageClass is the class of redis's data volume (app.redis.persistence); "" is the
	// cluster's default class.
	RedisStorageClass string
	// Exposure says how the site is reached: the ingress controller's class, annotations, path
	// syntax and what it admits (an ALB in eks mode, the cluster's own controller otherwise).
	// ClassName is required.
	Exposure exposure.Exposure
	// Protect protects the namespace with Pulumi's protect and keeps it on delete, and protects the
	// EdgeFS export's volume and claim. The data claims need neither: they are retained on delete
	// in every stack (newDataClaim). Default false; prod sets true (storage.protect).
	Protect bool
	// DependsOn are the node groups: every object waits for them and is deleted before them.
	DependsOn []pulumi.Resource
	// StorageDrivers are the CSI drivers (EFS, EBS): the datasets claim and redis wait for them and
	// are deleted before them. Empty in existing mode.
	StorageDrivers []pulumi.Resource
}

// Datasets describes the shared datasets volume.
type Datasets struct {
	// StorageClass of the claim, e.g. efs; "" is the cluster's default class. Ignored with NFS.
	StorageClass string
	// AccessMode is ReadWriteMany (every worker and DataLad pod mounts it) or ReadWriteOnce.
	AccessMode string
	// Size is the requested size, e.g. 100Gi (EFS and NFS ignore it, but the API requires one).
	Size string
	// NFS, when set, is the EdgeFS export: a static NFS volume and its own claim, beside the one
	// provisioned from StorageClass.
	NFS *NFSExport
	// FromNFS makes the pods mount the NFS claim (app.datasetStore edgefs). Requires NFS.
	FromNFS bool
}

// NFSExport is an NFSv3 export.
type NFSExport struct {
	// Server is the NFS server address the kubelet mounts, e.g. the EdgeFS NFS Service's cluster IP
	// (nodes cannot resolve cluster DNS names).
	Server pulumi.StringInput
	// Path is the export, e.g. /openneuro/datasets.
	Path string
}

// OpenNeuro is the deployed application.
type OpenNeuro struct {
	pulumi.ResourceState

	// URL is the public base URL of the site.
	URL pulumi.StringOutput `pulumi:"url"`
	// LoadBalancerHostname is the Ingress's load balancer address (the ALB's DNS name in eks mode),
	// the target of the site's DNS records.
	LoadBalancerHostname pulumi.StringOutput `pulumi:"loadBalancerHostname"`

	// Backends are the Services the Ingress routes to, each once (the ALB's target groups).
	Backends []exposure.Backend
}

func (a *Args) check() error {
	var errs []error
	if a.Provider == nil {
		errs = append(errs, errors.New("openneuro: Provider is required"))
	}
	if !a.Config.FromLoad() {
		errs = append(errs, errors.New("openneuro: Config is not from stacks.Load, so it has no defaults; pass the stacks.Load result's OpenNeuro"))
	}
	if !a.Secrets.Has(stacks.SecretDataladSSHKey) {
		errs = append(errs, errors.New("openneuro: Secrets has no DATALAD_SSH_KEY; the dataset workers need their GitHub deploy key"))
	}
	if a.Exposure.ClassName == "" {
		errs = append(errs, errors.New("openneuro: Exposure.ClassName is required"))
	}
	if a.Config.Generation != stacks.GenCurrent && (a.Datasets.AccessMode == "" || a.Datasets.Size == "") {
		errs = append(errs, errors.New("openneuro: Datasets.AccessMode and Datasets.Size are required"))
	}
	if a.Datasets.NFS != nil && (a.Datasets.NFS.Server == nil || a.Datasets.NFS.Path == "") {
		errs = append(errs, errors.New("openneuro: Datasets.NFS needs both Server and Path"))
	}
	if a.Datasets.FromNFS && a.Datasets.NFS == nil {
		errs = append(errs, errors.New("openneuro: Datasets.FromNFS needs Datasets.NFS"))
	}
	return errors.Join(errs...)
}

// New deploys OpenNeuro into its own namespace.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*OpenNeuro, error) {
	if args == nil {
		return nil, errors.New("openneuro: args are required")
	}
	if err := args.check(); err != nil {
		return nil, err
	}
	comp := &OpenNeuro{}
	opts = append([]pulumi.ResourceOption{pulumi.Providers(args.Provider)}, opts...)
	if err := ctx.RegisterComponentResource(Token, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("openneuro: %w", err)
	}
	k := &kit{ctx: ctx, name: name, args: args, cfg: args.Config, parent: pulumi.Parent(comp)}
	ns, err := newNamespace(k)
	if err != nil {
		return nil, fmt.Errorf("openneuro: namespace: %w", err)
	}
	k.ns = ns.Metadata.Name()
	var ing *networkingv1.Ingress
	var routes []exposure.Route
	if k.cfg.Generation == stacks.GenCurrent {
		ing, routes, err = buildCurrent(k)
	} else {
		ing, err = build2020(k)
		routes = routes2020(k)
	}
	if err != nil {
		return nil, fmt.Errorf("openneuro: %w", err)
	}

	comp.URL = pulumi.String(k.cfg.URL).ToStringOutput()
	comp.LoadBalancerHostname = loadBalancerAddress(ing)
	comp.Backends = exposure.Backends(routes)
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"url":                  comp.URL,
		"loadBalancerHostname": comp.LoadBalancerHostname,
	}); err != nil {
		return nil, fmt.Errorf("openneuro: outputs: %w", err)
	}
	return comp, nil
}
