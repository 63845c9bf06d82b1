package edgefs

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// home is where the operator and the cluster run and as whom.
type home struct {
	operatorNS, clusterNS           *corev1.Namespace
	operatorAccount, clusterAccount *corev1.ServiceAccount
}

// newHome creates both namespaces and their ServiceAccounts. The cluster namespace is protected with
// the Cluster: deleting it deletes the Cluster CR inside.
func newHome(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args) (*home, error) {
	op := labelSet("operator", args.Config.OperatorImage)
	cl := labelSet("cluster", args.Config.Image)
	var h home
	var err error
	h.operatorNS, err = corev1.NewNamespace(ctx, name+"-operator-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(OperatorNamespace), Labels: podSecurityPrivileged(op.Labels()), Annotations: kubeprovider.Annotations(nil)},
	}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn))
	if err != nil {
		return nil, wrap("operator namespace", err)
	}
	h.clusterNS, err = corev1.NewNamespace(ctx, name+"-cluster-namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ClusterNamespace), Labels: podSecurityPrivileged(cl.Labels()), Annotations: kubeprovider.Annotations(nil)},
	}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn), pulumi.Protect(args.Protect))
	if err != nil {
		return nil, wrap("cluster namespace", err)
	}
	h.operatorAccount, err = corev1.NewServiceAccount(ctx, name+"-operator-account", &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(operatorAccount), Namespace: h.operatorNS.Metadata.Name(), Labels: withUpstream(op.Labels()), Annotations: kubeprovider.Annotations(nil),
		},
	}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn))
	if err != nil {
		return nil, wrap("operator service account", err)
	}
	h.clusterAccount, err = corev1.NewServiceAccount(ctx, name+"-cluster-account", &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(clusterAccount), Namespace: h.clusterNS.Metadata.Name(), Labels: cl.Labels(), Annotations: kubeprovider.Annotations(nil),
		},
	}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn))
	if err != nil {
		return nil, wrap("cluster service account", err)
	}
	return &h, nil
}
