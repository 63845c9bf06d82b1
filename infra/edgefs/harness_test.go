package edgefs_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/edgefs"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/stacks"
)

// layer is one run of the EdgeFS layer alone, with the stack's real config.
type layer struct {
	rec    *infratest.Recorder
	nodes  string // URN of the stand-in node group passed as DependsOn
	result *edgefs.EdgeFS
}

// layers are the runs without options, shared by the package's tests (they only read them).
var layers infratest.Memo[layer]

// runLayer runs edgefs.New for a stack as infra.Run would call it: the stack's config, a Kubernetes
// provider, the storage pool (unless withoutPool) and a node group to depend on. A run without
// options is made once and shared.
func runLayer(t *testing.T, stack string, withoutPool bool, opts ...infratest.Option) layer {
	t.Helper()
	if len(opts) > 0 {
		return newLayerRun(t, stack, withoutPool, opts...)
	}
	key := fmt.Sprintf("%s without pool %v", stack, withoutPool)
	return layers.Get(t, key, func() layer { return newLayerRun(t, stack, withoutPool) })
}

func newLayerRun(t *testing.T, stack string, withoutPool bool, opts ...infratest.Option) layer {
	t.Helper()
	var l layer
	program := func(ctx *pulumi.Context) error {
		cfg, err := stacks.Load(ctx)
		if err != nil {
			return err
		}
		provider, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		nodes, err := awseks.NewNodeGroup(ctx, "edgefs-target", &awseks.NodeGroupArgs{
			ClusterName: pulumi.String("openneuro-" + stack), NodeRoleArn: pulumi.String("arn:aws:iam::123456789012:role/nodes"),
			SubnetIds:     pulumi.ToStringArray([]string{"subnet-1"}),
			ScalingConfig: awseks.NodeGroupScalingConfigArgs{DesiredSize: pulumi.Int(3), MinSize: pulumi.Int(3), MaxSize: pulumi.Int(3)},
		})
		if err != nil {
			return err
		}
		pool := placement.StoragePool()
		if withoutPool {
			pool = nil
		} else {
			// What the rest of the program schedules onto the pool with, for comparison.
			_, err = corev1.NewPod(ctx, "pool-reference", &corev1.PodArgs{Spec: corev1.PodSpecArgs{
				Containers:  corev1.ContainerArray{corev1.ContainerArgs{Name: pulumi.String("c"), Image: pulumi.String("busybox:1.37")}},
				Affinity:    &corev1.AffinityArgs{NodeAffinity: pool.NodeAffinity()},
				Tolerations: pool.Tolerations(),
			}}, pulumi.Provider(provider))
			if err != nil {
				return err
			}
		}
		l.result, err = edgefs.New(ctx, "edgefs", &edgefs.Args{
			Config: cfg.EdgeFS, Provider: provider, StoragePool: pool, Protect: cfg.Storage.Protect,
			DependsOn: []pulumi.Resource{nodes},
		})
		return err
	}
	l.rec = infratest.Run(t, stack, append(opts, infratest.WithProgram(program))...)
	l.nodes = l.rec.Find("aws:eks/nodeGroup:NodeGroup", "edgefs-target").URN
	return l
}

// find returns the layer's resource of a type and logical name, failing the test if there is none.
func (l layer) find(t *testing.T, typ, name string) infratest.Resource {
	t.Helper()
	r := l.rec.Find(typ, name)
	if r == nil {
		t.Fatalf("no %s %q registered", typ, name)
	}
	return *r
}

// manifests are the layer's Kubernetes objects as the provider sends them.
func (l layer) manifests() []map[string]any {
	var out []map[string]any
	for _, r := range l.rec.Descendants(edgefs.Token) {
		if r.IsKubernetesObject() {
			out = append(out, r.Plain(false))
		}
	}
	return out
}

// manifest returns the layer's object of a kind and name.
func (l layer) manifest(t *testing.T, kind, name string) map[string]any {
	t.Helper()
	for _, m := range l.manifests() {
		if m["kind"] == kind && get(m, "metadata", "name") == name {
			return m
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// get walks plain data by map keys and slice indexes (ints).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

// jsonOf renders plain data canonically (sorted keys), for comparisons with readable failures.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// plainOf turns any JSON-encodable value into plain data.
func plainOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// withS3 turns the S3 service on.
func withS3() infratest.Option { return infratest.WithValue("edgefs.s3.enabled", true) }

// relaxed selects OpenNeuro's 2020 consistency tuning.
func relaxed() infratest.Option { return infratest.WithValue("edgefs.consistency", "relaxed") }
