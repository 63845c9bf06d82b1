// Package openneuro deploys the OpenNeuro application (the 2020 Helm chart's objects, release
// v3.14.2: API, web, DataLad service, Celery dataset workers, beat, flower, indexer, redis) as typed
// Kubernetes resources, with the chart's known bugs fixed. MongoDB and Elasticsearch stay external.
//
// One file per component: namespace.go, config.go, datasets.go, redis.go, api.go, web.go,
// datalad.go, worker.go, beat.go, flower.go, indexer.go, ingress.go; pod.go and labels.go hold the
// shared decisions (security context, spreading, rollout checksums, names and labels).
package openneuro

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Token is the component's type token.
const Token = "openneuro:openneuro:OpenNeuro"

// Args are the inputs of the application layer.
type Args struct {
	// Config is the application config with defaults applied (stacks.Load). Required.
	Config stacks.OpenNeuro
	// Secrets are the stack's secrets; the application Secret holds Secrets.AppEnvKeys() and the
	// dataset workers' SSH key comes from DATALAD_SSH_KEY (required).
	Secrets stacks.Secrets
	// Provider is the cluster's Kubernetes provider. Required.
	Provider *kubernetes.Provider
	// StoragePool pins the dataset workers to the tainted edgefs-target nodes; nil schedules them
	// anywhere.
	StoragePool *placement.Pool
	// Datasets is the volume holding the git/git-annex repositories, mounted at /datalad.
	Datasets Datasets
	// RedisStorageClass is the class of redis's data volume (app.redis.persistence); "" is the
	// cluster's default class.
	RedisStorageClass string
	// Ingress says how the site is exposed: an internet-facing ALB, or the cluster's own controller.
	Ingress IngressSettings
	// Protect protects the namespace and the datasets volume (claim and NFS volume) with Pulumi's
	// protect and keeps them on delete. Default false; prod sets true (storage.protect).
	Protect bool
	// DependsOn are the node groups: every object waits for them and is deleted before them.
	DependsOn []pulumi.Resource
	// StorageDrivers are the CSI drivers (EFS, EBS): the datasets claim and redis wait for them and
	// are deleted before them. Empty in existing mode.
	StorageDrivers []pulumi.Resource
	// IngressController is the AWS Load Balancer Controller release whose webhooks admit Services,
	// Ingresses and (with ALB readiness gates) pods. nil in existing mode.
	IngressController pulumi.Resource
}

// Datasets describes the shared datasets volume.
type Datasets struct {
	// StorageClass of the claim, e.g. efs; "" is the cluster's default class. Ignored with NFS.
	StorageClass string
	// AccessMode is ReadWriteMany (every worker and DataLad pod mounts it) or ReadWriteOnce.
	AccessMode string
	// Size is the requested size, e.g. 100Gi (EFS and NFS ignore it, but the API requires one).
	Size string
	// NFS, when set, binds the claim to a static NFS volume (the EdgeFS export) instead of
	// provisioning one from StorageClass.
	NFS *NFSExport
}

// NFSExport is an NFSv3 export.
type NFSExport struct {
	// Server is the NFS server address the kubelet mounts, e.g. the EdgeFS NFS Service's cluster IP
	// (nodes cannot resolve cluster DNS names).
	Server pulumi.StringInput
	// Path is the export, e.g. /openneuro/datasets.
	Path string
}

// IngressSettings configure the site's Ingress.
type IngressSettings struct {
	// ClassName is the IngressClass, e.g. alb or nginx. Required.
	ClassName string
	// ALB turns on the AWS Load Balancer Controller annotations (TLS at the ALB, HTTP->HTTPS and
	// www->apex redirects, per-Service health checks, pod readiness gates).
	ALB bool
	// CertificateARN is the ACM certificate of the ALB, e.g. the output of the certificate the
	// program requests (app.dns), which the Ingress then waits for. Required with ALB.
	CertificateARN pulumi.StringInput
	// Annotations are added to the Ingress when ALB is false (existing clusters).
	Annotations map[string]string
	// TLSSecretName is a kubernetes.io/tls Secret in the namespace for HTTPS when ALB is false; ""
	// serves plain HTTP.
	TLSSecretName string
}

// OpenNeuro is the deployed application.
type OpenNeuro struct {
	pulumi.ResourceState

	// URL is the public base URL of the site.
	URL pulumi.StringOutput `pulumi:"url"`
	// LoadBalancerHostname is the Ingress's load balancer address (the ALB's DNS name in eks mode),
	// the target of the site's DNS records.
	LoadBalancerHostname pulumi.StringOutput `pulumi:"loadBalancerHostname"`

	// Namespace is the application's namespace.
	Namespace *corev1.Namespace
}

func (a *Args) check() error {
	var errs []error
	if a.Provider == nil {
		errs = append(errs, errors.New("openneuro: Provider is required"))
	}
	if a.Config.Release == "" || a.Config.Namespace == "" || a.Config.Workers < 1 {
		errs = append(errs, errors.New("openneuro: Config has no defaults applied; pass the stacks.Load result's OpenNeuro"))
	}
	if !a.Secrets.Has("DATALAD_SSH_KEY") {
		errs = append(errs, errors.New("openneuro: Secrets has no DATALAD_SSH_KEY; the dataset workers need their GitHub deploy key"))
	}
	if a.Ingress.ClassName == "" {
		errs = append(errs, errors.New("openneuro: Ingress.ClassName is required"))
	}
	if a.Ingress.ALB && a.Ingress.CertificateARN == nil {
		errs = append(errs, errors.New("openneuro: Ingress.CertificateARN is required with ALB"))
	}
	if a.Datasets.AccessMode == "" || a.Datasets.Size == "" {
		errs = append(errs, errors.New("openneuro: Datasets.AccessMode and Datasets.Size are required"))
	}
	if a.Datasets.NFS != nil && (a.Datasets.NFS.Server == nil || a.Datasets.NFS.Path == "") {
		errs = append(errs, errors.New("openneuro: Datasets.NFS needs both Server and Path"))
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
	b := &builder{ctx: ctx, name: name, args: args, cfg: args.Config, parent: pulumi.Parent(comp)}

	steps := []struct {
		role string
		fn   func() error
	}{
		{"namespace", b.namespace},
		{"config", b.config},
		{"datasets", b.datasets},
		{"redis", b.redis},
		{"api", b.api},
		{"web", b.web},
		{"datalad-service", b.dataladService},
		{"dataset-worker", b.workers},
		{"beat-scheduler", b.beat},
		{"flower", b.flower},
		{"indexer", b.indexer},
		{"ingress", b.ingress},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return nil, fmt.Errorf("openneuro: %s: %w", s.role, err)
		}
	}

	comp.Namespace = b.nsObj
	comp.URL = pulumi.String(b.cfg.URL).ToStringOutput()
	comp.LoadBalancerHostname = loadBalancerAddress(b.ingressObj)
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"url":                  comp.URL,
		"loadBalancerHostname": comp.LoadBalancerHostname,
	}); err != nil {
		return nil, fmt.Errorf("openneuro: outputs: %w", err)
	}
	return comp, nil
}
