package openneuro_test

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/exposure"
	"github.com/openneuro/openneuro-infra/infra/ingress"
	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Names of the fake upstream resources the layer program registers.
const (
	nodeGroupName = "nodes-edgefs-target"
	efsDriverName = "efs-csi-driver"
	ebsDriverName = "ebs-csi-driver"
	lbcName       = "aws-load-balancer-controller"
)

// layer is the application layer alone, wired the way infra.Run wires it: the stack's config,
// a Kubernetes provider, and stand-ins for the upstream layers' resources. mutate, if not nil,
// changes the args before New (e.g. to test existing-cluster ingress settings).
func layer(mutate func(*openneuro.Args)) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		_, err := newLayer(ctx, mutate)
		return err
	}
}

// newLayer is layer's body; it returns the component, whose outputs a test may await.
func newLayer(ctx *pulumi.Context, mutate func(*openneuro.Args)) (*openneuro.OpenNeuro, error) {
	cfg, err := stacks.Load(ctx)
	if err != nil {
		return nil, err
	}
	provider, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
	if err != nil {
		return nil, err
	}
	nodes, err := fake(ctx, "eks:index:ManagedNodeGroup", nodeGroupName)
	if err != nil {
		return nil, err
	}
	args := &openneuro.Args{
		Config:   cfg.OpenNeuro,
		Secrets:  cfg.Secrets,
		Provider: provider,
		Datasets: openneuro.Datasets{
			StorageClass: cfg.Storage.DatasetsStorageClass,
			AccessMode:   cfg.Storage.DatasetsAccessMode,
			Size:         cfg.Storage.DatasetsSize,
		},
		RedisStorageClass:  cfg.Storage.BlockStorageClass,
		WorkerStorageClass: cfg.Storage.BlockStorageClass,
		Exposure:           exposure.Existing(cfg.Ingress),
		Protect:            cfg.Storage.Protect,
		DependsOn:          []pulumi.Resource{nodes},
	}
	if cfg.Cluster.HasStoragePool() {
		args.StoragePool = placement.StoragePool()
	}
	if cfg.IsEKS() {
		efs, err := fake(ctx, "aws:eks/addon:Addon", efsDriverName)
		if err != nil {
			return nil, err
		}
		ebs, err := fake(ctx, "aws:eks/addon:Addon", ebsDriverName)
		if err != nil {
			return nil, err
		}
		lbc, err := fake(ctx, "kubernetes:helm.sh/v3:Release", lbcName, pulumi.Provider(provider))
		if err != nil {
			return nil, err
		}
		args.StorageDrivers = []pulumi.Resource{efs, ebs}
		if args.Exposure, err = ingress.ALB(cfg.Ingress.ClassName, cfg.OpenNeuro.Hostname, pulumi.String(cfg.OpenNeuro.CertificateARN), lbc, cfg.Network.CIDR); err != nil {
			return nil, err
		}
	}
	if cfg.OpenNeuro.DatasetStore == stacks.StoreEdgeFS {
		// The EdgeFS operator's NFS Service, whose cluster IP the kubelet mounts.
		nfs, err := corev1.NewService(ctx, "edgefs-nfs", &corev1.ServiceArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("rook-edgefs-nfs-datasets"), Namespace: pulumi.String("rook-edgefs")},
			Spec: &corev1.ServiceSpecArgs{Ports: corev1.ServicePortArray{corev1.ServicePortArgs{Port: pulumi.Int(2049)}},
				Selector: pulumi.StringMap{"app": pulumi.String("rook-edgefs-nfs")}},
		}, pulumi.Provider(provider))
		if err != nil {
			return nil, err
		}
		args.Datasets.NFS = &openneuro.NFSExport{Server: nfs.Spec.ClusterIP().Elem(), Path: cfg.EdgeFS.NFS.ExportPath()}
	}
	if mutate != nil {
		mutate(args)
	}
	return openneuro.New(ctx, "openneuro", args)
}

// fake registers a stand-in custom resource of an upstream layer.
func fake(ctx *pulumi.Context, typ, name string, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	var r pulumi.CustomResourceState
	if err := ctx.RegisterResource(typ, name, pulumi.Map{}, &r, opts...); err != nil {
		return nil, err
	}
	return &r, nil
}

// shared are the layer's runs with the stacks' config as committed, one per stack for the package.
var shared infratest.Memo[*infratest.Recorder]

// run runs the layer for a stack; mutate may be nil. The run without mutate and options is made once
// per stack and shared by the tests, which only read it (diff_test's "the same config twice"
// compares it with a fresh run, so sharing cannot hide a run that is not deterministic).
func run(t *testing.T, stack string, mutate func(*openneuro.Args), opts ...infratest.Option) *infratest.Recorder {
	t.Helper()
	if mutate != nil || len(opts) > 0 {
		return runFresh(t, stack, mutate, opts...)
	}
	return shared.Get(t, stack, func() *infratest.Recorder { return runFresh(t, stack, nil) })
}

func runFresh(t *testing.T, stack string, mutate func(*openneuro.Args), opts ...infratest.Option) *infratest.Recorder {
	t.Helper()
	return infratest.Run(t, stack, append([]infratest.Option{infratest.WithProgram(layer(mutate))}, opts...)...)
}

// objects are the layer's Kubernetes objects by "<Kind>/<metadata.name>".
type objects map[string]infratest.Resource

func layerObjects(t *testing.T, rec *infratest.Recorder) objects {
	t.Helper()
	out := objects{}
	for _, res := range rec.Descendants(openneuro.Token) {
		if !res.IsKubernetesObject() {
			continue
		}
		obj := res.Plain(false)
		md, _ := obj["metadata"].(map[string]any)
		key := obj["kind"].(string) + "/" + md["name"].(string)
		if _, dup := out[key]; dup {
			t.Fatalf("two objects %s", key)
		}
		out[key] = res
	}
	return out
}

// get returns the object kind/name; the test fails if it does not exist.
func (o objects) get(t *testing.T, kind, name string) infratest.Resource {
	t.Helper()
	res, ok := o[kind+"/"+name]
	if !ok {
		t.Fatalf("no %s %q", kind, name)
	}
	return res
}

// decode turns an object's inputs (secrets in clear) into its k8s.io/api type.
func decode[T any](t *testing.T, res infratest.Resource) *T {
	t.Helper()
	b, err := json.Marshal(res.Plain(false))
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", res.Name, err)
	}
	return &v
}
