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
	}
}
