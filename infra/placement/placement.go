// Package placement decides where pods run: the dedicated, tainted edgefs-target storage pool, or
// anywhere when a stack has no such pool.
package placement

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	k8score "k8s.io/api/core/v1"
)

// StoragePoolKey is the node label and taint key of the storage pool.
const StoragePoolKey = "openneuro.org/node-pool"

// StoragePoolName is the storage node group's name, label value and taint value.
const StoragePoolName = "edgefs-target"

// Pool is a dedicated node pool: nodes labelled and tainted Key=Value:NoSchedule, so that only pods
// that both select and tolerate it run there. A nil *Pool means "no dedicated pool": every method
// then returns nil and pods schedule anywhere.
type Pool struct {
	Key   string
	Value string
}

// StoragePool is the edgefs-target pool of Rook/EdgeFS and the dataset workers.
func StoragePool() *Pool { return &Pool{Key: StoragePoolKey, Value: StoragePoolName} }

// NodeLabels are the labels the node group puts on its nodes.
func (p *Pool) NodeLabels() map[string]string {
	if p == nil {
		return nil
	}
	return map[string]string{p.Key: p.Value}
}

// NodeSelector pins a pod to the pool.
func (p *Pool) NodeSelector() pulumi.StringMap {
	if p == nil {
		return nil
	}
	return pulumi.StringMap{p.Key: pulumi.String(p.Value)}
}

// CoreTolerations let a pod run on the pool's tainted nodes, as k8s.io/api values (for specs built
// from Go types, e.g. the EdgeFS custom resources). Tolerations is the same for Pulumi arguments.
func (p *Pool) CoreTolerations() []k8score.Toleration {
	if p == nil {
		return nil
	}
	return []k8score.Toleration{{Key: p.Key, Operator: k8score.TolerationOpEqual, Value: p.Value, Effect: k8score.TaintEffectNoSchedule}}
}

// Tolerations are CoreTolerations as Pulumi arguments.
func (p *Pool) Tolerations() corev1.TolerationArray {
	if p == nil {
		return nil
	}
	var out corev1.TolerationArray
	for _, t := range p.CoreTolerations() {
		out = append(out, corev1.TolerationArgs{
			Key:      pulumi.String(t.Key),
			Operator: pulumi.String(string(t.Operator)),
			Value:    pulumi.String(t.Value),
			Effect:   pulumi.String(string(t.Effect)),
		})
	}
	return out
}

// CoreNodeAffinity requires the pool's label, for APIs that take affinity instead of a node selector
// (the EdgeFS Cluster CR's placement), as k8s.io/api values. NodeAffinity is the same for Pulumi
// arguments.
func (p *Pool) CoreNodeAffinity() *k8score.NodeAffinity {
	if p == nil {
		return nil
	}
	return &k8score.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &k8score.NodeSelector{
		NodeSelectorTerms: []k8score.NodeSelectorTerm{{MatchExpressions: []k8score.NodeSelectorRequirement{
			{Key: p.Key, Operator: k8score.NodeSelectorOpIn, Values: []string{p.Value}},
		}}},
	}}
}

// NodeAffinity is CoreNodeAffinity as Pulumi arguments.
func (p *Pool) NodeAffinity() *corev1.NodeAffinityArgs {
	if p == nil {
		return nil
	}
	var terms corev1.NodeSelectorTermArray
	for _, term := range p.CoreNodeAffinity().RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		var match corev1.NodeSelectorRequirementArray
		for _, m := range term.MatchExpressions {
			match = append(match, corev1.NodeSelectorRequirementArgs{
				Key:      pulumi.String(m.Key),
				Operator: pulumi.String(string(m.Operator)),
				Values:   pulumi.ToStringArray(m.Values),
			})
		}
		terms = append(terms, corev1.NodeSelectorTermArgs{MatchExpressions: match})
	}
	return &corev1.NodeAffinityArgs{
		RequiredDuringSchedulingIgnoredDuringExecution: corev1.NodeSelectorArgs{NodeSelectorTerms: terms},
	}
}
