package ingress

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Tags the AWS Load Balancer Controller puts on every load balancer it creates
// (kubernetes-sigs/aws-load-balancer-controller v2.14.0, docs/guide/ingress/annotations.md,
// "Resource Tags"). The stack tag of an Ingress without a group.name annotation is its implicit
// group, "namespace/ingressname" (same page, group.name).
const (
	ClusterTag = "elbv2.k8s.aws/cluster"
	StackTag   = "ingress.k8s.aws/stack"
	// ResourceTag names the resource within the stack; for a target group it is
	// "<namespace>/<ingress>-<service>:<port>" (pkg/ingress/model_build_target_group.go,
	// buildTargetGroupResourceID, with the backend's port as the Ingress gives it).
	ResourceTag = "ingress.k8s.aws/resource"
)

// LoadBalancer is the ALB the controller made for an Ingress.
type LoadBalancer struct {
	// DNSName is the ALB's DNS name, the target of the site's DNS records.
	DNSName pulumi.StringOutput
	// ZoneID is the ALB's canonical hosted zone id, what a Route 53 alias record to it names.
	ZoneID pulumi.StringOutput
	// ARNSuffix is the app/<name>/<id> part of its ARN, the LoadBalancer dimension of its
	// CloudWatch metrics.
	ARNSuffix pulumi.StringOutput
}

// LoadBalancerOf looks up the ALB of the Ingress namespace/name in the given cluster. The controller
// creates the ALB, not Pulumi, so its hosted zone id is only known from AWS. ready is the Ingress's
// load balancer address: the lookup waits for it, so it runs once the ALB exists (and is skipped in
// a preview before the first up, when the address is still unknown).
func LoadBalancerOf(ctx *pulumi.Context, clusterName pulumi.StringInput, namespace, name string, ready pulumi.StringOutput) LoadBalancer {
	stack := ready.ApplyT(func(string) string { return namespace + "/" + name }).(pulumi.StringOutput)
	alb := lb.LookupLoadBalancerOutput(ctx, lb.LookupLoadBalancerOutputArgs{
		Tags: pulumi.StringMap{ClusterTag: clusterName, StackTag: stack},
	})
	return LoadBalancer{DNSName: alb.DnsName(), ZoneID: alb.ZoneId(), ARNSuffix: alb.ArnSuffix()}
}

// TargetGroupResource is the ResourceTag of the target group the controller makes for the backend
// service:port of the Ingress namespace/ingress.
func TargetGroupResource(namespace, ingress, service string, port int) string {
	return fmt.Sprintf("%s/%s-%s:%d", namespace, ingress, service, port)
}

// TargetGroupOf looks up the ARN suffix (targetgroup/<name>/<id>, the TargetGroup dimension of its
// CloudWatch metrics) of the target group the controller made for the backend service:port of the
// Ingress namespace/name. Like LoadBalancerOf it waits for ready, the Ingress's load balancer
// address: the controller writes it once the ALB and its target groups exist.
func TargetGroupOf(ctx *pulumi.Context, clusterName pulumi.StringInput, namespace, name, service string, port int, ready pulumi.StringOutput) pulumi.StringOutput {
	stack := ready.ApplyT(func(string) string { return namespace + "/" + name }).(pulumi.StringOutput)
	tg := lb.LookupTargetGroupOutput(ctx, lb.LookupTargetGroupOutputArgs{
		Tags: pulumi.StringMap{ClusterTag: clusterName, StackTag: stack, ResourceTag: pulumi.String(TargetGroupResource(namespace, name, service, port))},
	})
	return tg.ArnSuffix()
}
