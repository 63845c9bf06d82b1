package edgefs

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
	"github.com/openneuro/openneuro-infra/infra/placement"
)

// poolPlacement pins EdgeFS pods to the storage pool: required node affinity on the pool's node
// labels and a toleration of its taint, the same terms as pool.NodeAffinity() and pool.Tolerations()
// (a test compares them), in the plain types a custom resource's spec is built from. nil without a
// pool.
func poolPlacement(pool *placement.Pool) *edgefsv1.Placement {
	if pool == nil {
		return nil
	}
	nodeLabels := pool.NodeLabels()
	keys := make([]string, 0, len(nodeLabels))
	for k := range nodeLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var match []corev1.NodeSelectorRequirement
	for _, k := range keys {
		match = append(match, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpIn, Values: []string{nodeLabels[k]}})
	}
	return &edgefsv1.Placement{
		NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: match}},
		}},
		// The pool's nodes are tainted Key=Value:NoSchedule (placement.Pool).
		Tolerations: []corev1.Toleration{{Key: pool.Key, Operator: corev1.TolerationOpEqual, Value: pool.Value, Effect: corev1.TaintEffectNoSchedule}},
	}
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
