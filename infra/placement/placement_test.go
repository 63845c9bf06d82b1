package placement_test

import (
	"reflect"
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	k8score "k8s.io/api/core/v1"

	"github.com/openneuro/openneuro-infra/infra/placement"
)

func TestNoPoolMeansAnywhere(t *testing.T) {
	var none *placement.Pool
	if none.NodeSelector() != nil || none.Tolerations() != nil || none.NodeAffinity() != nil || none.NodeLabels() != nil {
		t.Error("a nil pool must not constrain scheduling")
	}
}

func TestStoragePool(t *testing.T) {
	p := placement.StoragePool()
	if got := p.NodeLabels()["openneuro.org/node-pool"]; got != "edgefs-target" {
		t.Errorf("node label %q", got)
	}
	if len(p.Tolerations()) != 1 || p.NodeSelector() == nil || p.NodeAffinity() == nil {
		t.Error("the storage pool must select, tolerate and require its nodes")
	}
}

// TestOneSetOfTerms: the k8s.io/api values and the Pulumi arguments are the same terms, the pool's
// label key and value with NoSchedule, so EdgeFS's custom resources and the pods cannot disagree.
func TestOneSetOfTerms(t *testing.T) {
	t.Parallel()
	p := placement.StoragePool()
	want := []k8score.Toleration{{Key: "openneuro.org/node-pool", Operator: k8score.TolerationOpEqual, Value: "edgefs-target", Effect: k8score.TaintEffectNoSchedule}}
	if got := p.CoreTolerations(); !reflect.DeepEqual(got, want) {
		t.Errorf("CoreTolerations = %+v, want %+v", got, want)
	}
	args := p.Tolerations()[0].(corev1.TolerationArgs)
	if args.Key != pulumi.String(want[0].Key) || args.Operator != pulumi.String("Equal") || args.Value != pulumi.String(want[0].Value) || args.Effect != pulumi.String("NoSchedule") {
		t.Errorf("Tolerations = %+v, want the same terms as CoreTolerations", args)
	}
	expr := p.CoreNodeAffinity().RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
	if expr.Key != want[0].Key || expr.Operator != k8score.NodeSelectorOpIn || !reflect.DeepEqual(expr.Values, []string{"edgefs-target"}) {
		t.Errorf("CoreNodeAffinity expression %+v", expr)
	}
	argExpr := p.NodeAffinity().RequiredDuringSchedulingIgnoredDuringExecution.(corev1.NodeSelectorArgs).NodeSelectorTerms.(corev1.NodeSelectorTermArray)[0].(corev1.NodeSelectorTermArgs).MatchExpressions.(corev1.NodeSelectorRequirementArray)[0].(corev1.NodeSelectorRequirementArgs)
	if argExpr.Key != pulumi.String(expr.Key) || argExpr.Operator != pulumi.String("In") || !reflect.DeepEqual(argExpr.Values, pulumi.ToStringArray(expr.Values)) {
		t.Errorf("NodeAffinity expression %+v, want the same as CoreNodeAffinity", argExpr)
	}
}
