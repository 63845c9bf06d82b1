// Package placement decides where pods run: the dedicated, tainted edgefs-target storage pool, or
// anywhere when a stack has no such pool.
package placement

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
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

// Tolerations let a pod run on the pool's tainted nodes.
func (p *Pool) Tolerations() corev1.TolerationArray {
	if p == nil {
		return nil
	}
	return corev1.TolerationArray{corev1.TolerationArgs{
		Key:      pulumi.String(p.Key),
		Operator: pulumi.String("Equal"),
		Value:    pulumi.String(p.Value),
		Effect:   pulumi.String("NoSchedule"),
	}}
}

// NodeAffinity requires the pool's label, for APIs that take affinity instead of a node selector
// (the EdgeFS Cluster CR's placement).
func (p *Pool) NodeAffinity() *corev1.NodeAffinityArgs {
	if p == nil {
		return nil
	}
	return &corev1.NodeAffinityArgs{
		RequiredDuringSchedulingIgnoredDuringExecution: corev1.NodeSelectorArgs{
			NodeSelectorTerms: corev1.NodeSelectorTermArray{corev1.NodeSelectorTermArgs{
				MatchExpressions: corev1.NodeSelectorRequirementArray{corev1.NodeSelectorRequirementArgs{
					Key:      pulumi.String(p.Key),
					Operator: pulumi.String("In"),
					Values:   pulumi.StringArray{pulumi.String(p.Value)},
				}},
			}},
		},
	}
}
