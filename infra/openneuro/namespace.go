package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// Pod Security Admission. "baseline" is the strictest level every image runs at: the server,
// app (nginx), datalad-service and indexer images run as root, which "restricted" forbids. Redis
// already meets "restricted"; the audit label records every other violation of it in the API
// server's audit log without blocking (https://kubernetes.io/docs/concepts/security/pod-security-admission/).
const (
	psaEnforceKey = "pod-security.kubernetes.io/enforce"
	psaAuditKey   = "pod-security.kubernetes.io/audit"
)

// newNamespace creates the application's namespace, labelled for Pod Security and for the
// ingress controller (the exposure's namespace labels).
func newNamespace(k *kit) (*corev1.Namespace, error) {
	lbls := k.labelSet(compNS, "").Common()
	lbls[psaEnforceKey] = pulumi.String("baseline")
	lbls[psaAuditKey] = pulumi.String("restricted")
	for key, v := range k.args.Exposure.NamespaceLabels {
		lbls[key] = pulumi.String(v)
	}
	return corev1.NewNamespace(k.ctx, k.logical("namespace"), &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(k.cfg.Namespace), Labels: lbls, Annotations: kubeprovider.Annotations(nil)},
	}, k.parent, pulumi.DependsOn(k.args.DependsOn),
		// Deleting the namespace deletes the datasets claim in it: protect it like the claim.
		pulumi.Protect(k.args.Protect), pulumi.RetainOnDelete(k.args.Protect))
}
