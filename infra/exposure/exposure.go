// Package exposure describes how the site is reached from outside the cluster: the IngressClass,
// what its controller reads from the Ingress, the backend Services and the namespace, and the path
// syntax it speaks. The ingress layer builds one for the AWS Load Balancer Controller; an existing
// cluster's controller gets one from config (Existing). The application layer applies it without
// knowing which controller it is.
package exposure

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Exposure is everything the application needs to know about its ingress controller.
type Exposure struct {
	// ClassName is the IngressClass of the site's Ingress.
	ClassName string
	// Annotations go on the site's Ingress (TLS, listeners, redirects, timeouts). May hold outputs
	// (a certificate ARN created in the same run).
	Annotations pulumi.StringMap
	// HealthCheck returns the annotations of a backend Service whose health endpoint is path, for
	// controllers that check each backend themselves; nil when the controller needs none.
	HealthCheck func(path string) pulumi.StringMap
	// NamespaceLabels go on the application's namespace (e.g. the ALB's pod readiness gates).
	NamespaceLabels map[string]string
	// Glob makes the Ingress paths wildcard patterns of pathType ImplementationSpecific ("/crn/*"),
	// kept in the order given; otherwise they are Exact and Prefix paths.
	Glob bool
	// ExtraRules go on the Ingress before the site's own rule, e.g. the ALB's www redirect.
	ExtraRules networkingv1.IngressRuleArray
	// TLSSecretName is a kubernetes.io/tls Secret in the application's namespace for HTTPS at the
	// Ingress; "" when TLS ends at the load balancer, or for plain HTTP.
	TLSSecretName string
	// Controller is the ingress controller the program installs, whose webhooks admit Services and
	// Ingresses: they wait for it and are deleted while it still runs (so that it removes its load
	// balancer). nil when the cluster brings its own.
	Controller pulumi.Resource
	// GatesPods says the controller's webhook also admits the namespace's pods (readiness gates), so
	// the workloads wait for it too.
	GatesPods bool
	// Sources are where the controller's requests to the backends come from: the peers of the
	// NetworkPolicies that admit the site's traffic to the pods behind the Ingress.
	Sources networkingv1.NetworkPolicyPeerArray
}

// Existing is the exposure through an existing cluster's own ingress controller (nginx, traefik,
// ...): its class, the annotations the operator sets for it, an optional TLS Secret, and the
// namespace its pods run in, the only source the NetworkPolicies admit the site's traffic from.
func Existing(cfg stacks.Ingress) Exposure {
	e := Exposure{ClassName: cfg.ClassName, TLSSecretName: cfg.TLSSecretName}
	if len(cfg.Annotations) > 0 {
		e.Annotations = pulumi.ToStringMap(cfg.Annotations)
	}
	e.Sources = networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
		NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
			NamespaceNameLabel: pulumi.String(cfg.ControllerNamespace),
		}},
	}}
	return e
}

// NamespaceNameLabel is the label the API server sets on every namespace to its name.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// Route is one path of the site's host, routed to a Service port.
type Route struct {
	// Path is the path without wildcard, e.g. /crn or /sitemap.xml.
	Path string
	// Prefix routes everything under Path; otherwise only Path itself.
	Prefix bool
	// Service and Port are the backend.
	Service string
	Port    int
}

// IngressPath turns a route into the controller's path syntax.
func (e Exposure) IngressPath(r Route) (path, pathType string) {
	if !e.Glob {
		if r.Prefix {
			return r.Path, "Prefix"
		}
		return r.Path, "Exact"
	}
	if !r.Prefix {
		return r.Path, "ImplementationSpecific"
	}
	if r.Path == "/" {
		return "/*", "ImplementationSpecific"
	}
	return r.Path + "/*", "ImplementationSpecific"
}

// Backend is a Service port the site's routes lead to: an ALB has one target group for each.
type Backend struct {
	Service string
	Port    int
}

// Backends are the distinct backends of routes, in the order they first appear.
func Backends(routes []Route) []Backend {
	var out []Backend
	seen := map[Backend]bool{}
	for _, r := range routes {
		b := Backend{Service: r.Service, Port: r.Port}
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	return out
}
