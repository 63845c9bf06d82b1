package edgefs

import (
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
	"github.com/openneuro/openneuro-infra/infra/placement"
)

// poolPlacement pins EdgeFS pods to the storage pool: required node affinity on the pool's node
// label and a toleration of its taint, the placement package's own terms. nil without a pool.
func poolPlacement(pool *placement.Pool) *edgefsv1.Placement {
	if pool == nil {
		return nil
	}
	return &edgefsv1.Placement{NodeAffinity: pool.CoreNodeAffinity(), Tolerations: pool.CoreTolerations()}
}

// discoverEnv is the operator's DISCOVER_TOLERATIONS and DISCOVER_AGENT_NODE_AFFINITY for a
// placement, so that rook-discover runs on the storage nodes, and only there: with useAllNodes the
// storage nodes are the nodes rook-discover reported devices for (rook v1.5.12
// pkg/operator/discover/discover.go). DISCOVER_TOLERATIONS is a YAML list of tolerations
// (k8sutil.YamlToTolerations); DISCOVER_AGENT_NODE_AFFINITY is "key=v1,v2;key2=v3", each term a
// required In expression (k8sutil.GenerateNodeAffinity). Both are empty without a placement.
func discoverEnv(p *edgefsv1.Placement) (tolerations, affinity string, err error) {
	if p == nil {
		return "", "", nil
	}
	b, err := yaml.Marshal(p.Tolerations)
	if err != nil {
		return "", "", err
	}
	var terms []string
	for _, t := range p.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, m := range t.MatchExpressions {
			terms = append(terms, m.Key+"="+strings.Join(m.Values, ","))
		}
	}
	return string(b), strings.Join(terms, ";"), nil
}
