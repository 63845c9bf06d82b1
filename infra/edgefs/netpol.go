package edgefs

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// s3Ports are the S3 gateway's HTTP and HTTPS ports (rook v1.5.12 pkg/operator/edgefs/s3/s3.go
// defaultPort, defaultSecurePort; the S3 CR leaves them at their defaults).
var s3Ports = []int{9982, 9443}

// namespaceNameLabel is the label the API server sets on every namespace to its name.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// policy is one NetworkPolicy: its Pulumi role, namespace, name and spec.
type policy struct {
	role string
	ns   *corev1.Namespace
	name string
	spec networkingv1.NetworkPolicySpecArgs
}

// newNetworkPolicies closes both namespaces to incoming connections, then opens: everything
// between EdgeFS's own pods (targets, manager, gateways, the operator); the NFS ports of the
// gateways to every source, because the kubelet mounts the export from the node's own address,
// which no pod or namespace selector names; and, with S3, the gateway's ports to pods of every
// namespace. Egress stays open: the operator and the discovery Job talk to the API server, whose
// address differs between clusters.
func newNetworkPolicies(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args, h *home) error {
	set := labelSet("network-policy", args.Config.Image)
	ingressOnly := pulumi.StringArray{pulumi.String("Ingress")}
	edgefsNamespaces := networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
		MatchExpressions: metav1.LabelSelectorRequirementArray{metav1.LabelSelectorRequirementArgs{
			Key: pulumi.String(namespaceNameLabel), Operator: pulumi.String("In"),
			Values: pulumi.StringArray{pulumi.String(OperatorNamespace), pulumi.String(ClusterNamespace)},
		}},
	}}
	var nfsPortList networkingv1.NetworkPolicyPortArray
	for _, p := range nfsPorts {
		for _, proto := range []string{"TCP", "UDP"} {
			nfsPortList = append(nfsPortList, networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(p.port), Protocol: pulumi.String(proto)})
		}
	}
	policies := []policy{
		{"operator-deny", h.operatorNS, "default-deny-ingress", networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{}, PolicyTypes: ingressOnly,
		}},
		{"cluster-internal", h.clusterNS, "edgefs-internal", networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{}, PolicyTypes: ingressOnly,
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{edgefsNamespaces},
			}},
		}},
		{"nfs-clients", h.clusterNS, "nfs-clients", networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: nfsSelector(args.Config.NFS.Name)},
			PolicyTypes: ingressOnly,
			Ingress:     networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{Ports: nfsPortList}},
		}},
	}
	if args.Config.S3.Enabled {
		var ports networkingv1.NetworkPolicyPortArray
		for _, p := range s3Ports {
			ports = append(ports, networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(p), Protocol: pulumi.String("TCP")})
		}
		policies = append(policies, policy{"s3-clients", h.clusterNS, "s3-clients", networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
				"rook_cluster": pulumi.String(ClusterNamespace), "edgefs_svctype": pulumi.String("s3"),
			}},
			PolicyTypes: ingressOnly,
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From:  networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{}}},
				Ports: ports,
			}},
		}})
	}
	var allows []pulumi.Resource
	for _, p := range policies {
		np, err := networkingv1.NewNetworkPolicy(ctx, name+"-netpol-"+p.role, &networkingv1.NetworkPolicyArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(p.name), Namespace: p.ns.Metadata.Name(), Labels: set.Labels(), Annotations: kubeprovider.Annotations(nil)},
			Spec:     p.spec,
		}, pulumi.Parent(comp))
		if err != nil {
			return wrap("network policy "+p.name, err)
		}
		if p.ns == h.clusterNS {
			allows = append(allows, np)
		}
	}
	// The cluster namespace's deny comes after its allowances, so that running gateways keep
	// serving while an update adds the policies.
	_, err := networkingv1.NewNetworkPolicy(ctx, name+"-netpol-cluster-deny", &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("default-deny-ingress"), Namespace: h.clusterNS.Metadata.Name(), Labels: set.Labels(), Annotations: kubeprovider.Annotations(nil)},
		Spec:     networkingv1.NetworkPolicySpecArgs{PodSelector: &metav1.LabelSelectorArgs{}, PolicyTypes: ingressOnly},
	}, pulumi.Parent(comp), pulumi.DependsOn(allows))
	if err != nil {
		return wrap("network policy default-deny-ingress", err)
	}
	return nil
}
