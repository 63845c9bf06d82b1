// Package kubeprovider decides how the program's one Kubernetes provider behaves, the same for an
// EKS cluster and an existing one.
package kubeprovider

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args are the provider's arguments:
//   - ClusterIdentifier pins the provider's identity to the cluster's name, so that a new
//     kubeconfig for the same cluster (a rotated CA or endpoint, another credential, a moved file)
//     updates the provider instead of replacing it and, with it, every object, data included.
//     Changing the identifier is the one way to say "another cluster".
//   - Server-side apply: field ownership instead of last-applied annotations.
//   - ConfigMaps and Secrets are updated in place. By default the provider replaces them on any
//     data change, and with the fixed names consumers refer to, a replacement deletes the old
//     object before it creates the new one: a pod starting in between fails on a missing Secret.
//     The workloads that read them roll on the checksum annotations instead. Set explicitly, so the
//     PULUMI_K8S_ENABLE_*_MUTABLE variables of whoever runs pulumi cannot change it.
//   - Objects are created by server-side apply (upsertExistingObjects), as the provider did up to
//     v4.28. Since v4.29 it creates them client-side, which leaves their fields owned by the
//     create's manager, not by the apply manager of later updates; the provider moves them over on
//     the first real update, but not in a preview, so the preview of a change that drops a field
//     (a probe changing its handler, a volume its source, a PodDisruptionBudget minAvailable for
//     maxUnavailable) sends both the old and the new field and the API server refuses it
//     ("may not specify more than 1 handler type"). Created by apply, the fields are the apply
//     manager's from the start. It also makes a create of an object that exists take it over
//     instead of failing with AlreadyExists: a claim kept on purpose and created again, an object
//     an interrupted up created but did not record. The price is that an object of the same name
//     made outside this stack is taken over too (README, "Deploying onto an existing cluster"),
//     and that a resource renamed without an alias would be taken over and then deleted under its
//     old name: infra/dataholding_test.go fails a render that moves a Kubernetes object to another
//     name without one.
//   - Every apply forces its fields: see Annotations. enablePatchForce does the same for the
//     objects the program does not write itself (the load balancer controller's CRDs, from its
//     chart's files: Helm created them up to v0.1.0, and a chart bump's apply must take Helm's
//     fields), with provider v4.29 and later; older providers ignore the setting.
//
// No deleteUnreachable: with it, any failure to reach the API (expired credentials, no aws CLI,
// another identity) would let a destroy or refresh drop Ingresses and claims from the state
// without deleting them, leaving load balancers and volumes behind. Set
// PULUMI_K8S_DELETE_UNREACHABLE=true by hand only when the cluster is really gone.
func Args(kubeconfig pulumi.StringInput, clusterIdentifier string) *kubernetes.ProviderArgs {
	return &kubernetes.ProviderArgs{
		Kubeconfig:             kubeconfig,
		ClusterIdentifier:      pulumi.String(clusterIdentifier),
		EnableServerSideApply:  pulumi.Bool(true),
		EnableConfigMapMutable: pulumi.Bool(true),
		EnableSecretMutable:    pulumi.Bool(true),
		UpsertExistingObjects:  pulumi.Bool(true),
		EnablePatchForce:       pulumi.Bool(true),
	}
}

// PatchForceAnnotation makes the provider's server-side apply of an object force its fields over
// any other field manager's.
const PatchForceAnnotation = "pulumi.com/patchForce"

// Annotations are the metadata annotations of every object the program applies: extra (nil for
// none) and patchForce. The objects are the stack's alone, so an up takes back what a runbook
// changed with kubectl (`kubectl scale` owns spec.replicas from then on), a claim's fields from
// whoever created it (the StatefulSet controller, or the client-side create of v0.1.0), and any
// field from the apply manager of an up that was lost before it recorded its create: the provider
// names a resource's manager at random when it first plans it, so the next up plans the same
// object under another name, and without force its first change of a field the lost manager still
// shares fails on a conflict (tier 4, "worker added" of the EdgeFS stack). An annotation on each
// object as well as the provider's enablePatchForce (Args): that setting is new in v4.29 (#2280),
// and older providers (the module proxy's build among them) ignore it without a word; the setting
// covers what the program does not write itself.
func Annotations(extra pulumi.StringMap) pulumi.StringMap {
	all := pulumi.StringMap{PatchForceAnnotation: pulumi.String("true")}
	for k, v := range extra {
		all[k] = v
	}
	return all
}
