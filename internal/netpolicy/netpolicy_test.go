package netpolicy

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func policy(ns string, selector map[string]string, types []networkingv1.PolicyType, ingress []networkingv1.NetworkPolicyIngressRule, egress []networkingv1.NetworkPolicyEgressRule) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector}, PolicyTypes: types, Ingress: ingress, Egress: egress,
		},
	}
}

func tcp(n int) []networkingv1.NetworkPolicyPort {
	proto := corev1.ProtocolTCP
	p := intstr.FromInt(n)
	return []networkingv1.NetworkPolicyPort{{Protocol: &proto, Port: &p}}
}

var (
	both    = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	db      = Pod("app", map[string]string{"c": "db"})
	api     = Pod("app", map[string]string{"c": "api"})
	other   = Pod("elsewhere", map[string]string{"c": "api"})
	ingress = Pod("ingress-nginx", map[string]string{"c": "controller"})
)

func TestAllowed(t *testing.T) {
	denyAll := policy("app", nil, both, nil, nil)
	dbFromAPI := policy("app", map[string]string{"c": "db"}, both,
		[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"c": "api"}}}}, Ports: tcp(5432)}}, nil)
	apiOut := policy("app", map[string]string{"c": "api"}, both,
		[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
			{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "ingress-nginx"}}},
			{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/16", Except: []string{"10.0.9.0/24"}}},
		}, Ports: tcp(8080)}},
		[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"c": "db"}}}}, Ports: tcp(5432)}})
	for _, tc := range []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		from, to Endpoint
		port     int
		want     bool
	}{
		{"no policy is open", nil, other, db, 5432, true},
		{"default deny", []networkingv1.NetworkPolicy{denyAll}, api, db, 5432, false},
		{"allowed flow", []networkingv1.NetworkPolicy{denyAll, dbFromAPI, apiOut}, api, db, 5432, true},
		{"allowed flow, other port", []networkingv1.NetworkPolicy{denyAll, dbFromAPI, apiOut}, api, db, 5433, false},
		{"podSelector alone is the policy's namespace", []networkingv1.NetworkPolicy{denyAll, dbFromAPI}, other, db, 5432, false},
		{"egress denied although ingress allows", []networkingv1.NetworkPolicy{denyAll, dbFromAPI}, api, db, 5432, false},
		{"namespace selector", []networkingv1.NetworkPolicy{apiOut}, ingress, api, 8080, true},
		{"namespace selector, other namespace", []networkingv1.NetworkPolicy{apiOut}, other, api, 8080, false},
		{"ip block", []networkingv1.NetworkPolicy{apiOut}, Outside("10.0.3.4"), api, 8080, true},
		{"ip block except", []networkingv1.NetworkPolicy{apiOut}, Outside("10.0.9.4"), api, 8080, false},
		{"ip block never matches pods", []networkingv1.NetworkPolicy{apiOut}, Pod("app", map[string]string{"c": "web"}), api, 8080, false},
		{"egress to outside", []networkingv1.NetworkPolicy{apiOut}, api, Outside("1.1.1.1"), 443, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := New(tc.policies, nil).Allowed(tc.from, tc.to, tc.port, "TCP")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Allowed = %v, want %v", got, tc.want)
			}
		})
	}
}
