// Package netpolicy decides whether a set of Kubernetes NetworkPolicies lets one endpoint open a
// connection to another, by the API's rules: a pod that no policy of a direction selects is open
// in that direction; a selected pod accepts only what one of the selecting policies' rules allows;
// a connection needs the source's egress and the destination's ingress. Tests use it to check the
// rendered policies against a table of the flows an application needs.
//
// It models what the API defines and no more: traffic from a pod's own node (kubelet probes) is
// always allowed and not modelled; ipBlocks match the given addresses of endpoints outside the
// cluster, never pods (the conservative reading: some CNIs match pod addresses, some do not).
package netpolicy

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Endpoint is one end of a connection: a pod (Namespace and Labels) or an address outside the
// cluster (IP).
type Endpoint struct {
	Namespace string
	Labels    map[string]string
	IP        string
}

// Pod is a pod endpoint.
func Pod(namespace string, labels map[string]string) Endpoint {
	return Endpoint{Namespace: namespace, Labels: labels}
}

// Outside is an address outside the cluster.
func Outside(ip string) Endpoint { return Endpoint{IP: ip} }

func (e Endpoint) isPod() bool { return e.IP == "" }

// Cluster holds the policies and the namespaces' labels.
type Cluster struct {
	policies   []networkingv1.NetworkPolicy
	namespaces map[string]map[string]string
}

// New returns the cluster of the given policies. Namespaces get the label the API server sets,
// kubernetes.io/metadata.name, plus any labels given for them.
func New(policies []networkingv1.NetworkPolicy, namespaceLabels map[string]map[string]string) *Cluster {
	c := &Cluster{policies: policies, namespaces: map[string]map[string]string{}}
	for ns, l := range namespaceLabels {
		c.namespaceLabels(ns)
		for k, v := range l {
			c.namespaces[ns][k] = v
		}
	}
	return c
}

func (c *Cluster) namespaceLabels(ns string) map[string]string {
	if c.namespaces[ns] == nil {
		c.namespaces[ns] = map[string]string{corev1.LabelMetadataName: ns}
	}
	return c.namespaces[ns]
}

// Allowed reports whether from may open a connection to to on port/protocol ("TCP", "UDP").
func (c *Cluster) Allowed(from, to Endpoint, port int, protocol string) (bool, error) {
	if from.isPod() {
		ok, err := c.direction(from, to, port, protocol, networkingv1.PolicyTypeEgress)
		if err != nil || !ok {
			return false, err
		}
	}
	if !to.isPod() {
		return true, nil
	}
	return c.direction(to, from, port, protocol, networkingv1.PolicyTypeIngress)
}

// direction checks pod's policies of one type against the peer at the other end.
func (c *Cluster) direction(pod, peer Endpoint, port int, protocol string, typ networkingv1.PolicyType) (bool, error) {
	selected := false
	for _, p := range c.policies {
		if p.Namespace != pod.Namespace || !hasType(p, typ) {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil {
			return false, fmt.Errorf("%s/%s podSelector: %w", p.Namespace, p.Name, err)
		}
		if !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		selected = true
		var rules []rule
		if typ == networkingv1.PolicyTypeIngress {
			for _, r := range p.Spec.Ingress {
				rules = append(rules, rule{peers: r.From, ports: r.Ports})
			}
		} else {
			for _, r := range p.Spec.Egress {
				rules = append(rules, rule{peers: r.To, ports: r.Ports})
			}
		}
		for _, r := range rules {
			ok, err := c.ruleMatches(p, r, peer, port, protocol)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
	}
	return !selected, nil
}

type rule struct {
	peers []networkingv1.NetworkPolicyPeer
	ports []networkingv1.NetworkPolicyPort
}

// hasType is the policy's effective policyTypes: as written, or Ingress plus Egress when it has
// egress rules (the API's defaulting).
func hasType(p networkingv1.NetworkPolicy, typ networkingv1.PolicyType) bool {
	if len(p.Spec.PolicyTypes) == 0 {
		return typ == networkingv1.PolicyTypeIngress || len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		if t == typ {
			return true
		}
	}
	return false
}

func (c *Cluster) ruleMatches(p networkingv1.NetworkPolicy, r rule, peer Endpoint, port int, protocol string) (bool, error) {
	if !portMatches(r.ports, port, protocol) {
		return false, nil
	}
	if len(r.peers) == 0 {
		return true, nil
	}
	for _, pp := range r.peers {
		ok, err := c.peerMatches(p.Namespace, pp, peer)
		if err != nil {
			return false, fmt.Errorf("%s/%s: %w", p.Namespace, p.Name, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func portMatches(ports []networkingv1.NetworkPolicyPort, port int, protocol string) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if string(proto) != protocol {
			continue
		}
		if p.Port == nil {
			return true
		}
		// Named ports are not modelled: the program writes numbers.
		lo, hi := p.Port.IntValue(), p.Port.IntValue()
		if p.EndPort != nil {
			hi = int(*p.EndPort)
		}
		if port >= lo && port <= hi {
			return true
		}
	}
	return false
}

// peerMatches applies one peer of a policy in namespace ns to the endpoint at the other end.
func (c *Cluster) peerMatches(ns string, pp networkingv1.NetworkPolicyPeer, e Endpoint) (bool, error) {
	if pp.IPBlock != nil {
		if e.isPod() {
			return false, nil
		}
		return inBlock(*pp.IPBlock, e.IP)
	}
	if !e.isPod() {
		return false, nil
	}
	if pp.NamespaceSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(pp.NamespaceSelector)
		if err != nil {
			return false, err
		}
		if !sel.Matches(labels.Set(c.namespaceLabels(e.Namespace))) {
			return false, nil
		}
	} else if e.Namespace != ns {
		return false, nil
	}
	if pp.PodSelector == nil {
		return true, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(pp.PodSelector)
	if err != nil {
		return false, err
	}
	return sel.Matches(labels.Set(e.Labels)), nil
}

func inBlock(b networkingv1.IPBlock, ip string) (bool, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false, err
	}
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return false, err
	}
	if !cidr.Contains(addr) {
		return false, nil
	}
	for _, ex := range b.Except {
		p, err := netip.ParsePrefix(ex)
		if err != nil {
			return false, err
		}
		if p.Contains(addr) {
			return false, nil
		}
	}
	return true, nil
}
