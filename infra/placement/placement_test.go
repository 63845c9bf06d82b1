package placement_test

import (
	"testing"

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
