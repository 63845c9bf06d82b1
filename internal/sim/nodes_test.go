package sim

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/stacks"
)

// TestNodesAreAnEKSStack: three default and three storage nodes, one of each pool per zone, the
// storage ones labelled and tainted as the program's edgefs-target pool, each with the
// allocatable the capacity validation assumes for its instance type.
func TestNodesAreAnEKSStack(t *testing.T) {
	nodes := Nodes()
	if len(nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(nodes))
	}
	pool := placement.StoragePool()
	perZone := map[string]int{}
	storage := 0
	for _, n := range nodes {
		perZone[n.Labels[corev1.LabelTopologyZone]]++
		typ := n.Labels[corev1.LabelInstanceTypeStable]
		cpu, mem, ok := stacks.PodCapacity(typ)
		if !ok {
			t.Fatalf("%s: no capacity for %s", n.Name, typ)
		}
		if got := n.Status.Allocatable.Cpu().MilliValue(); got != cpu {
			t.Errorf("%s: %dm CPU allocatable, want %dm", n.Name, got, cpu)
		}
		if got := n.Status.Allocatable.Memory().Value() >> 20; got != mem {
			t.Errorf("%s: %dMi allocatable, want %dMi", n.Name, got, mem)
		}
		if n.Annotations[kwokNodeAnnotation] != "fake" {
			t.Errorf("%s is not managed by kwok", n.Name)
		}
		tainted := len(n.Spec.Taints) == 1 && n.Spec.Taints[0] == corev1.Taint{Key: pool.Key, Value: pool.Value, Effect: corev1.TaintEffectNoSchedule}
		labelled := n.Labels[pool.Key] == pool.Value
		switch typ {
		case stacks.StoragePoolInstanceType:
			storage++
			if !tainted || !labelled {
				t.Errorf("%s: storage node not labelled and tainted %s=%s:NoSchedule: %v %v", n.Name, pool.Key, pool.Value, n.Labels, n.Spec.Taints)
			}
		case stacks.DefaultPoolInstanceType:
			if len(n.Spec.Taints) != 0 || labelled {
				t.Errorf("%s: default node carries the storage pool's label or taint", n.Name)
			}
		}
	}
	if storage != 3 {
		t.Errorf("%d storage nodes, want 3", storage)
	}
	for _, z := range Zones {
		if perZone[z] != 2 {
			t.Errorf("zone %s has %d nodes, want one of each pool", z, perZone[z])
		}
	}
}
