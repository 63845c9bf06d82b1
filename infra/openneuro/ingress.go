package openneuro

import (
	"encoding/json"

	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AWS Load Balancer Controller annotations
// (https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/).
const (
	albPrefix = "alb.ingress.kubernetes.io/"
	// wwwRedirect is the action (actions.<name> annotation) the www host's rule points to.
	wwwRedirect = "www-redirect"
	// useAnnotation is the port name that makes a backend an annotation-defined action.
	useAnnotation = "use-annotation"
	// albIdleTimeout keeps websockets (graphql-subscriptions) and long uploads and git pushes open;
	// the ALB default of 60 s cut them (OpenNeuro later set 600 s on GKE for the same reason).
	albIdleTimeout = "idle_timeout.timeout_seconds=600"
	// albDeregistration drains a target for 30 s instead of the default 300 s: rollouts replace pods
	// one at a time, and a pod's 10 s preStop pause already covers the controller's deregistration.
	albDeregistration = "deregistration_delay.timeout_seconds=30"
	// albSSLPolicy allows TLS 1.2 and 1.3 only.
	albSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
)

// albAction is an ALB action annotation value (actions.<name>).
type albAction struct {
	Type           string            `json:"type"`
	RedirectConfig albRedirectConfig `json:"redirectConfig"`
}

type albRedirectConfig struct {
	Host       string `json:"host,omitempty"`
	Port       string `json:"port"`
	Protocol   string `json:"protocol"`
	StatusCode string `json:"statusCode"`
}

// healthCheck is the ALB target group's health check path of a Service (with an ALB only); the
// chart's one Ingress-wide /crn/ check marked the web pods unhealthy.
func (b *builder) healthCheck(path string) pulumi.StringMap {
	if !b.args.Ingress.ALB {
		return nil
	}
	return pulumi.StringMap{albPrefix + "healthcheck-path": pulumi.String(path)}
}

// albAnnotations configure the internet-facing ALB: TLS with the ACM certificate, HTTP redirected
// to HTTPS, pods registered directly (target-type ip), www.<hostname> redirected to the apex.
func (b *builder) albAnnotations() (pulumi.StringMap, error) {
	listen, err := json.Marshal([]map[string]int{{"HTTP": 80}, {"HTTPS": 443}})
	if err != nil {
		return nil, err
	}
	www, err := json.Marshal(albAction{Type: "redirect", RedirectConfig: albRedirectConfig{
		Host: b.cfg.Hostname, Port: "443", Protocol: "HTTPS", StatusCode: "HTTP_301",
	}})
	if err != nil {
		return nil, err
	}
	return pulumi.StringMap{
		albPrefix + "scheme":                   pulumi.String("internet-facing"),
		albPrefix + "target-type":              pulumi.String("ip"),
		albPrefix + "certificate-arn":          b.args.Ingress.CertificateARN,
		albPrefix + "listen-ports":             pulumi.String(string(listen)),
		albPrefix + "ssl-redirect":             pulumi.String("443"),
		albPrefix + "ssl-policy":               pulumi.String(albSSLPolicy),
		albPrefix + "actions." + wwwRedirect:   pulumi.String(string(www)),
		albPrefix + "load-balancer-attributes": pulumi.String(albIdleTimeout),
		albPrefix + "target-group-attributes":  pulumi.String(albDeregistration),
	}, nil
}

// route is one path rule of the site's host.
type route struct {
	path, pathType, service string
	port                    int
}

// routes are the chart's rules for <hostname>, in its order (the ALB evaluates them in order):
// the websocket endpoint, the API, the sitemap the API renders, then everything else to web. With
// an ALB the paths are its wildcard patterns; elsewhere Exact/Prefix equivalents.
func (b *builder) routes() []route {
	api, web := b.objectName(compAPI), b.objectName(compWeb)
	if b.args.Ingress.ALB {
		return []route{
			{"/graphql-subscriptions", "ImplementationSpecific", api, apiPort},
			{"/crn/*", "ImplementationSpecific", api, apiPort},
			{"/sitemap.xml", "ImplementationSpecific", api, apiPort},
			{"/*", "ImplementationSpecific", web, webPort},
		}
	}
	return []route{
		{"/graphql-subscriptions", "Exact", api, apiPort},
		{"/crn", "Prefix", api, apiPort},
		{"/sitemap.xml", "Exact", api, apiPort},
		{"/", "Prefix", web, webPort},
	}
}

// ingress is the Ingress <release> (chart section 2.11).
func (b *builder) ingress() error {
	in := b.args.Ingress
	meta := b.meta(b.cfg.Release, b.labelSet(compIngress, ""))
	var paths networkingv1.HTTPIngressPathArray
	for _, r := range b.routes() {
		paths = append(paths, networkingv1.HTTPIngressPathArgs{
			Path: pulumi.String(r.path), PathType: pulumi.String(r.pathType),
			Backend: networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
				Name: pulumi.String(r.service), Port: &networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(r.port)},
			}},
		})
	}
	site := networkingv1.IngressRuleArgs{
		Host: pulumi.String(b.cfg.Hostname),
		Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: paths},
	}
	spec := &networkingv1.IngressSpecArgs{IngressClassName: pulumi.String(in.ClassName)}
	if in.ALB {
		annotations, err := b.albAnnotations()
		if err != nil {
			return err
		}
		meta.Annotations = annotations
		www := networkingv1.IngressRuleArgs{
			Host: pulumi.String("www." + b.cfg.Hostname),
			Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{
				networkingv1.HTTPIngressPathArgs{
					Path: pulumi.String("/*"), PathType: pulumi.String("ImplementationSpecific"),
					Backend: networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
						Name: pulumi.String(wwwRedirect), Port: &networkingv1.ServiceBackendPortArgs{Name: pulumi.String(useAnnotation)},
					}},
				},
			}},
		}
		spec.Rules = networkingv1.IngressRuleArray{www, site}
	} else {
		// The cluster's controller: its own annotations (timeouts, redirects) from the config.
		if len(in.Annotations) > 0 {
			meta.Annotations = pulumi.ToStringMap(in.Annotations)
		}
		spec.Rules = networkingv1.IngressRuleArray{site}
		if in.TLSSecretName != "" {
			spec.Tls = networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
				Hosts: pulumi.ToStringArray([]string{b.cfg.Hostname}), SecretName: pulumi.String(in.TLSSecretName),
			}}
		}
	}
	// After the Services it routes to; deleted before them and before the load balancer
	// controller, which must remove the ALB and the Ingress's finalizer.
	ing, err := networkingv1.NewIngress(b.ctx, b.logical("ingress"), &networkingv1.IngressArgs{
		Metadata: meta,
		Spec:     spec,
	}, b.serviceOpts(b.apiSvc, b.webSvc)...)
	if err != nil {
		return err
	}
	b.ingressObj = ing
	return nil
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
