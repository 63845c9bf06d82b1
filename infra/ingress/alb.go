package ingress

import (
	"encoding/json"

	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/exposure"
)

// AWS Load Balancer Controller annotations
// (https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/).
const (
	albPrefix = "alb.ingress.kubernetes.io/"
	// wwwRedirect is the action (actions.<name> annotation) the www host's rule points to.
	wwwRedirect = "www-redirect"
	// useAnnotation is the port name that makes a backend an annotation-defined action.
	useAnnotation = "use-annotation"
	// albIdleTimeout is the ALB default, 60 s, as the chart had. It must stay below the backends'
	// keep-alive, or the ALB reuses a connection the backend is closing and answers 502 ("configure
	// the idle timeout of your application to be larger than the idle timeout configured for the
	// load balancer", ALB docs): the web pods' nginx keeps connections 65 s. A transfer that moves
	// data never idles; websockets and quiet long requests need client or server keep-alives.
	albIdleTimeout = "idle_timeout.timeout_seconds=60"
	// albDeregistration drains a target for 30 s instead of the default 300 s: rollouts replace pods
	// one at a time, and a pod's 10 s preStop pause already covers the controller's deregistration.
	albDeregistration = "deregistration_delay.timeout_seconds=30"
	// albSSLPolicy allows TLS 1.2 and 1.3 only.
	albSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	// readinessGateKey makes the controller add a readiness gate to pods behind an ALB target group,
	// so that a rollout waits until new pods are healthy in the ALB before it stops old ones
	// (target-type ip; https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/).
	readinessGateKey = "elbv2.k8s.aws/pod-readiness-gate-inject"
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

// ALB is the exposure of hostname through an internet-facing ALB of the load balancer controller:
// TLS with the ACM certificate, HTTP redirected to HTTPS, pods registered directly (target-type
// ip) behind readiness gates, each Service with its own health check, and www.<hostname>
// redirected to the apex. controller is what the app's Services, Ingress and pods wait for
// (Ingress.Controller); vpcCIDR is the VPC's block, where the ALB's requests come from.
func ALB(className, hostname string, certificateARN pulumi.StringInput, controller pulumi.Resource, vpcCIDR string) (exposure.Exposure, error) {
	listen, err := json.Marshal([]map[string]int{{"HTTP": 80}, {"HTTPS": 443}})
	if err != nil {
		return exposure.Exposure{}, err
	}
	www, err := json.Marshal(albAction{Type: "redirect", RedirectConfig: albRedirectConfig{
		Host: hostname, Port: "443", Protocol: "HTTPS", StatusCode: "HTTP_301",
	}})
	if err != nil {
		return exposure.Exposure{}, err
	}
	return exposure.Exposure{
		ClassName: className,
		Annotations: pulumi.StringMap{
			albPrefix + "scheme":                   pulumi.String("internet-facing"),
			albPrefix + "target-type":              pulumi.String("ip"),
			albPrefix + "certificate-arn":          certificateARN,
			albPrefix + "listen-ports":             pulumi.String(string(listen)),
			albPrefix + "ssl-redirect":             pulumi.String("443"),
			albPrefix + "ssl-policy":               pulumi.String(albSSLPolicy),
			albPrefix + "actions." + wwwRedirect:   pulumi.String(string(www)),
			albPrefix + "load-balancer-attributes": pulumi.String(albIdleTimeout),
			albPrefix + "target-group-attributes":  pulumi.String(albDeregistration),
		},
		// Each target group checks its own backend; the chart's one Ingress-wide /crn/ check
		// marked the web pods unhealthy.
		HealthCheck: func(path string) pulumi.StringMap {
			return pulumi.StringMap{albPrefix + "healthcheck-path": pulumi.String(path)}
		},
		NamespaceLabels: map[string]string{readinessGateKey: "enabled"},
		Glob:            true,
		ExtraRules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
			Host: pulumi.String("www." + hostname),
			Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{
				networkingv1.HTTPIngressPathArgs{
					Path: pulumi.String("/*"), PathType: pulumi.String("ImplementationSpecific"),
					Backend: networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
						Name: pulumi.String(wwwRedirect), Port: &networkingv1.ServiceBackendPortArgs{Name: pulumi.String(useAnnotation)},
					}},
				},
			}},
		}},
		Controller: controller,
		GatesPods:  true,
		// The ALB sends to the pod IPs (target-type ip) from its own addresses in the public
		// subnets, which are drawn from the VPC's block: no narrower source is known in advance.
		Sources: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
			IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(vpcCIDR)},
		}},
	}, nil
}
