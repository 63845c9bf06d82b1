package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Pod Security Admission. "baseline" is the strictest level every image runs at: the server,
// app (nginx), datalad-service and indexer images run as root, which "restricted" forbids. Redis
// already meets "restricted"; the audit label records every other violation of it in the API
// server's audit log without blocking (https://kubernetes.io/docs/concepts/security/pod-security-admission/).
const (
	psaEnforceKey = "pod-security.kubernetes.io/enforce"
	psaAuditKey   = "pod-security.kubernetes.io/audit"
	// readinessGateKey makes the AWS Load Balancer Controller add a readiness gate to pods behind
	// an ALB target group, so that a rollout waits until new pods are healthy in the ALB before it
	// stops old ones (target-type ip; https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/).
	readinessGateKey = "elbv2.k8s.aws/pod-readiness-gate-inject"
)

func (b *builder) namespace() error {
	lbls := b.labelSet(compNS, "").Labels()
	lbls[psaEnforceKey] = pulumi.String("baseline")
	lbls[psaAuditKey] = pulumi.String("restricted")
	if b.args.Ingress.ALB {
		lbls[readinessGateKey] = pulumi.String("enabled")
	}
	ns, err := corev1.NewNamespace(b.ctx, b.logical("namespace"), &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(b.cfg.Namespace), Labels: lbls},
	}, b.parent, pulumi.DependsOn(b.args.DependsOn),
		// Deleting the namespace deletes the datasets claim in it: protect it like the claim.
		pulumi.Protect(b.args.Protect), pulumi.RetainOnDelete(b.args.Protect))
	if err != nil {
		return err
	}
	b.nsObj = ns
	b.ns = ns.Metadata.Name()
	return nil
}
