package openneuro_test

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/openneuro/openneuro-infra/infra/exposure"
	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/stacks"
)

type rule struct {
	Host, Path, PathType, Service string
	Port                          int32
	PortName                      string
}

// rulesOf flattens an Ingress's rules in order.
func rulesOf(ing *networkingv1.Ingress) []rule {
	var out []rule
	for _, r := range ing.Spec.Rules {
		for _, p := range r.HTTP.Paths {
			out = append(out, rule{Host: r.Host, Path: p.Path, PathType: string(*p.PathType), Service: p.Backend.Service.Name,
				Port: p.Backend.Service.Port.Number, PortName: p.Backend.Service.Port.Name})
		}
	}
	return out
}

func TestIngressALB(t *testing.T) {
	rec := run(t, "prod", nil)
	o := layerObjects(t, rec)
	ing := o.ingress(t, "openneuro-prod")
	equal(t, "class", *ing.Spec.IngressClassName, "alb")
	equal(t, "labels", ing.Labels, map[string]string{
		"app.kubernetes.io/name": "openneuro", "app.kubernetes.io/instance": "openneuro-prod", "app.kubernetes.io/component": "ingress",
		"app.kubernetes.io/part-of": "openneuro", "app.kubernetes.io/managed-by": "pulumi"})
	equal(t, "annotations", ing.Annotations, map[string]string{
		"alb.ingress.kubernetes.io/scheme":          "internet-facing",
		"alb.ingress.kubernetes.io/target-type":     "ip",
		"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:us-west-2:488777458602:certificate/d37b43e0-9af3-423a-86ef-0652e0332e33",
		"alb.ingress.kubernetes.io/listen-ports":    `[{"HTTP":80},{"HTTPS":443}]`,
		"alb.ingress.kubernetes.io/ssl-redirect":    "443",
		"alb.ingress.kubernetes.io/ssl-policy":      "ELBSecurityPolicy-TLS13-1-2-2021-06",
		"alb.ingress.kubernetes.io/actions.www-redirect": `{"type":"redirect","redirectConfig":` +
			`{"host":"openneuro.org","port":"443","protocol":"HTTPS","statusCode":"HTTP_301"}}`,
		"alb.ingress.kubernetes.io/load-balancer-attributes": "idle_timeout.timeout_seconds=60",
		"alb.ingress.kubernetes.io/target-group-attributes":  "deregistration_delay.timeout_seconds=30",
		kubeprovider.PatchForceAnnotation:                    "true",
	})
	const is = "ImplementationSpecific"
	equal(t, "rules, in the chart's order", rulesOf(ing), []rule{
		{Host: "www.openneuro.org", Path: "/*", PathType: is, Service: "www-redirect", PortName: "use-annotation"},
		{Host: "openneuro.org", Path: "/graphql-subscriptions", PathType: is, Service: "openneuro-prod-api", Port: 8111},
		{Host: "openneuro.org", Path: "/crn/*", PathType: is, Service: "openneuro-prod-api", Port: 8111},
		{Host: "openneuro.org", Path: "/sitemap.xml", PathType: is, Service: "openneuro-prod-api", Port: 8111},
		{Host: "openneuro.org", Path: "/*", PathType: is, Service: "openneuro-prod-web", Port: 80},
	})
	equal(t, "tls (terminated at the ALB)", len(ing.Spec.TLS), 0)

	res := o.get(t, "Ingress", "openneuro-prod")
	if !dependsOn(res, urnOf(t, rec, "kubernetes:helm.sh/v3:Release", lbcName)) {
		t.Error("the Ingress does not depend on the load balancer controller")
	}
	for _, svc := range []string{"openneuro-prod-api", "openneuro-prod-web"} {
		if !dependsOn(res, o.get(t, "Service", svc).URN) {
			t.Errorf("the Ingress does not depend on %s", svc)
		}
	}
	ns := decode[struct {
		Metadata struct{ Labels map[string]string } `json:"metadata"`
	}](t, o.get(t, "Namespace", "openneuro"))
	equal(t, "ALB pod readiness gates", ns.Metadata.Labels["elbv2.k8s.aws/pod-readiness-gate-inject"], "enabled")
}

// TestIngressExisting: an existing cluster's controller gets Exact/Prefix equivalents of the same
// rules, its own annotations and optional TLS, and nothing ALB-specific.
func TestIngressExisting(t *testing.T) {
	existing := func(a *openneuro.Args) {
		a.Exposure = exposure.Existing(stacks.Ingress{ClassName: "nginx", Annotations: map[string]string{"nginx.ingress.kubernetes.io/proxy-read-timeout": "600"}, TLSSecretName: "openneuro-tls", ControllerNamespace: "ingress-nginx"})
	}
	o := layerObjects(t, run(t, "staging", existing))
	ing := o.ingress(t, rel)
	equal(t, "class", *ing.Spec.IngressClassName, "nginx")
	equal(t, "annotations", ing.Annotations, map[string]string{"nginx.ingress.kubernetes.io/proxy-read-timeout": "600", kubeprovider.PatchForceAnnotation: "true"})
	const host = "openneuro.staging.sqm.io"
	equal(t, "rules", rulesOf(ing), []rule{
		{Host: host, Path: "/graphql-subscriptions", PathType: "Exact", Service: name("api"), Port: 8111},
		{Host: host, Path: "/crn", PathType: "Prefix", Service: name("api"), Port: 8111},
		{Host: host, Path: "/sitemap.xml", PathType: "Exact", Service: name("api"), Port: 8111},
		{Host: host, Path: "/", PathType: "Prefix", Service: name("web"), Port: 80},
	})
	equal(t, "tls", ing.Spec.TLS, []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "openneuro-tls"}})
	for _, svc := range []string{name("api"), name("web")} {
		for k := range o.service(t, svc).Annotations {
			if k != kubeprovider.PatchForceAnnotation {
				t.Errorf("%s has the ALB annotation %s", svc, k)
			}
		}
	}
	ns := decode[struct {
		Metadata struct{ Labels map[string]string } `json:"metadata"`
	}](t, o.get(t, "Namespace", "openneuro"))
	if _, ok := ns.Metadata.Labels["elbv2.k8s.aws/pod-readiness-gate-inject"]; ok {
		t.Error("readiness gates without an ALB controller would block every pod")
	}

	t.Run("plain HTTP without a TLS secret", func(t *testing.T) {
		o := layerObjects(t, run(t, "staging", func(a *openneuro.Args) {
			a.Exposure = exposure.Existing(stacks.Ingress{ClassName: "nginx", ControllerNamespace: "ingress-nginx"})
		}))
		ing := o.ingress(t, rel)
		equal(t, "tls", len(ing.Spec.TLS), 0)
		equal(t, "annotations", ing.Annotations, map[string]string{kubeprovider.PatchForceAnnotation: "true"})
	})
}
