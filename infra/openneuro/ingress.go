package openneuro

import (
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/exposure"
	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// newIngress is the Ingress <release> of the site's host, with routes in the given order (the ALB
// evaluates them in order), configured for the ingress controller by the exposure. It is created
// after the Services it routes to (backends), and deleted before them and before the ingress
// controller, which must remove its load balancer and the Ingress's finalizer.
func newIngress(k *kit, routes []exposure.Route, backends ...pulumi.Resource) (*networkingv1.Ingress, error) {
	e := k.args.Exposure
	meta := k.meta(k.cfg.Release, k.labelSet(compIngress, ""))
	if len(e.Annotations) > 0 {
		meta.Annotations = kubeprovider.Annotations(e.Annotations)
	}
	var paths networkingv1.HTTPIngressPathArray
	for _, r := range routes {
		path, pathType := e.IngressPath(r)
		paths = append(paths, networkingv1.HTTPIngressPathArgs{
			Path: pulumi.String(path), PathType: pulumi.String(pathType),
			Backend: networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
				Name: pulumi.String(r.Service), Port: &networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(r.Port)},
			}},
		})
	}
	site := networkingv1.IngressRuleArgs{
		Host: pulumi.String(k.cfg.Hostname),
		Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: paths},
	}
	spec := &networkingv1.IngressSpecArgs{
		IngressClassName: pulumi.String(e.ClassName),
		Rules:            append(append(networkingv1.IngressRuleArray{}, e.ExtraRules...), site),
	}
	if e.TLSSecretName != "" {
		spec.Tls = networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
			Hosts: pulumi.ToStringArray([]string{k.cfg.Hostname}), SecretName: pulumi.String(e.TLSSecretName),
		}}
	}
	return networkingv1.NewIngress(k.ctx, k.logical("ingress"), &networkingv1.IngressArgs{
		Metadata: meta,
		Spec:     spec,
	}, k.serviceOpts(backends...)...)
}

// loadBalancerAddress is the Ingress's load balancer hostname (an ALB's DNS name), or its IP for
// controllers that publish one.
func loadBalancerAddress(ing *networkingv1.Ingress) pulumi.StringOutput {
	return ing.Status.ApplyT(func(s *networkingv1.IngressStatus) string {
		if s == nil || s.LoadBalancer == nil || len(s.LoadBalancer.Ingress) == 0 {
			return ""
		}
		lb := s.LoadBalancer.Ingress[0]
		switch {
		case lb.Hostname != nil && *lb.Hostname != "":
			return *lb.Hostname
		case lb.Ip != nil:
			return *lb.Ip
		}
		return ""
	}).(pulumi.StringOutput)
}
