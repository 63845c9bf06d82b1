package edgefs

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// The RBAC of Rook v1.5.12's operator.yaml and cluster.yaml, in rbac.authorization.k8s.io/v1, with
// their mistakes fixed:
//
//  1. rook-edgefs-cluster granted deployments/scale in apiGroup extensions, which has not served
//     Deployments since Kubernetes 1.16: the grant is for apps.
//  2. The PodSecurityPolicy privileged, the ClusterRole privileged-psp-user (which named the PSP in
//     apiGroup apps, so it never granted anything) and the bindings rook-edgefs-system-psp and
//     rook-edgefs-cluster-psp are gone: PSPs were removed in Kubernetes 1.25; both namespaces carry
//     Pod Security Admission labels (privileged) instead.
//  3. nodes was granted in the Role rook-edgefs-system and in rook-edgefs-cluster-mgmt, which is bound
//     by a RoleBinding: nodes are cluster-scoped, so a namespaced grant gives nothing. The operator's
//     rights on nodes (labelling the storage nodes) come from rook-edgefs-global.
//  4. rook-edgefs-global granted * on apiGroup rook.io, which no CRD of this install serves (the
//     EdgeFS operator uses edgefs.rook.io only): dropped.
//  5. OpenNeuro's chart hard-coded the operator's namespace in the cluster chart's binding; here both
//     namespaces are constants of this package.

// rule is one PolicyRule.
type rule struct{ groups, resources, verbs []string }

var (
	readWrite   = []string{"get", "list", "watch", "patch", "create", "update", "delete"}
	noPatch     = []string{"get", "list", "watch", "create", "update", "delete"}
	crossGroups = []string{"*"}
)

// role is a Role (namespace set) or ClusterRole, with the component whose rights it holds.
type role struct {
	name, namespace, component string
	rules                      []rule
}

// binding binds a Role (namespace set) or ClusterRole (roleKind) to one ServiceAccount.
type binding struct {
	name, namespace, component string
	roleKind, roleName         string
	account, accountNamespace  string
}

var roles = []role{
	{name: "rook-edgefs-cluster-mgmt", component: "operator", rules: []rule{
		// What the operator creates in the cluster namespace (bound there by a RoleBinding).
		{[]string{""}, []string{"secrets", "pods", "services", "configmaps", "endpoints"}, readWrite},
		{[]string{"apps"}, []string{"statefulsets", "statefulsets/scale"}, []string{"create", "delete", "deletecollection", "patch", "update"}},
		{[]string{"apps"}, []string{"deployments", "daemonsets", "replicasets", "statefulsets"}, noPatch},
	}},
	{name: "rook-edgefs-system", namespace: OperatorNamespace, component: "operator", rules: []rule{
		// Its own pod (to find its image), rook-discover and the device ConfigMaps it writes.
		{[]string{""}, []string{"pods", "configmaps"}, readWrite},
		{[]string{"apps"}, []string{"daemonsets"}, noPatch},
	}},
	{name: "rook-edgefs-global", component: "operator", rules: []rule{
		{[]string{""}, []string{"pods", "nodes", "nodes/proxy"}, []string{"get", "list", "watch", "update", "patch"}},
		{[]string{""}, []string{"events", "persistentvolumes", "persistentvolumeclaims"}, readWrite},
		{[]string{"storage.k8s.io"}, []string{"storageclasses"}, []string{"get", "list", "watch"}},
		{[]string{"batch"}, []string{"jobs"}, noPatch},
		{[]string{"edgefs.rook.io"}, crossGroups, crossGroups},
	}},
	{name: "rook-edgefs-cluster", namespace: ClusterNamespace, component: "cluster", rules: []rule{
		// The target, mgr and gateway pods: peer discovery, the CRs, scaling the gateways.
		{[]string{""}, []string{"configmaps", "endpoints"}, noPatch},
		{[]string{"edgefs.rook.io"}, crossGroups, crossGroups},
		{[]string{""}, []string{"pods"}, []string{"get", "list"}},
		{[]string{"apps"}, []string{"deployments/scale"}, []string{"get", "update"}},
	}},
}

var bindings = []binding{
	{name: "rook-edgefs-system", namespace: OperatorNamespace, component: "operator", roleKind: "Role", roleName: "rook-edgefs-system",
		account: operatorAccount, accountNamespace: OperatorNamespace},
	{name: "rook-edgefs-global", component: "operator", roleKind: "ClusterRole", roleName: "rook-edgefs-global",
		account: operatorAccount, accountNamespace: OperatorNamespace},
	{name: "rook-edgefs-cluster-mgmt", namespace: ClusterNamespace, component: "operator", roleKind: "ClusterRole", roleName: "rook-edgefs-cluster-mgmt",
		account: operatorAccount, accountNamespace: OperatorNamespace},
	{name: "rook-edgefs-cluster", namespace: ClusterNamespace, component: "cluster", roleKind: "Role", roleName: "rook-edgefs-cluster",
		account: clusterAccount, accountNamespace: ClusterNamespace},
}

// newRBAC creates the roles and bindings. Namespaced ones take their namespace from the Namespace
// resource, so they wait for it.
func newRBAC(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args, h *home) ([]pulumi.Resource, error) {
	namespace := func(ns string) pulumi.StringPtrInput {
		switch ns {
		case OperatorNamespace:
			return h.operatorNS.Metadata.Name()
		case ClusterNamespace:
			return h.clusterNS.Metadata.Name()
		}
		return nil
	}
	meta := func(k8sName, ns, component string) *metav1.ObjectMetaArgs {
		l := labelSet("cluster", args.Config.Image).Labels()
		if component == "operator" {
			l = withUpstream(labelSet("operator", args.Config.OperatorImage).Labels())
		}
		return &metav1.ObjectMetaArgs{Name: pulumi.String(k8sName), Namespace: namespace(ns), Labels: l, Annotations: kubeprovider.Annotations(nil)}
	}

	var out []pulumi.Resource
	for _, r := range roles {
		var rules rbacv1.PolicyRuleArray
		for _, ru := range r.rules {
			rules = append(rules, rbacv1.PolicyRuleArgs{
				ApiGroups: pulumi.ToStringArray(ru.groups),
				Resources: pulumi.ToStringArray(ru.resources),
				Verbs:     pulumi.ToStringArray(ru.verbs),
			})
		}
		var res pulumi.Resource
		var err error
		if r.namespace == "" {
			res, err = rbacv1.NewClusterRole(ctx, name+"-rbac-"+r.name, &rbacv1.ClusterRoleArgs{
				Metadata: meta(r.name, "", r.component), Rules: rules,
			}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn))
		} else {
			res, err = rbacv1.NewRole(ctx, name+"-rbac-"+r.name, &rbacv1.RoleArgs{
				Metadata: meta(r.name, r.namespace, r.component), Rules: rules,
			}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn))
		}
		if err != nil {
			return nil, wrap("role "+r.name, err)
		}
		out = append(out, res)
	}

	for _, b := range bindings {
		ref := rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String(b.roleKind), Name: pulumi.String(b.roleName)}
		subjects := rbacv1.SubjectArray{rbacv1.SubjectArgs{
			Kind: pulumi.String("ServiceAccount"), Name: pulumi.String(b.account), Namespace: pulumi.String(b.accountNamespace),
		}}
		var res pulumi.Resource
		var err error
		if b.namespace == "" {
			res, err = rbacv1.NewClusterRoleBinding(ctx, name+"-rbac-"+b.name, &rbacv1.ClusterRoleBindingArgs{
				Metadata: meta(b.name, "", b.component), RoleRef: ref, Subjects: subjects,
			}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn))
		} else {
			res, err = rbacv1.NewRoleBinding(ctx, name+"-rbac-"+b.name, &rbacv1.RoleBindingArgs{
				Metadata: meta(b.name, b.namespace, b.component), RoleRef: ref, Subjects: subjects,
			}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn))
		}
		if err != nil {
			return nil, wrap("binding "+b.name, err)
		}
		out = append(out, res)
	}
	return out, nil
}
