package stacks

import "strings"

// Ingress configures how traffic reaches OpenNeuro (openneuro:ingress): in eks mode the AWS Load
// Balancer Controller and the alb IngressClass; in existing mode the cluster's own ingress controller.
type Ingress struct {
	loadMark
	// ClassName is the IngressClass of OpenNeuro's Ingress. eks mode: alb (created by the program).
	// existing mode: the cluster's class, e.g. nginx or traefik; required there.
	ClassName string `json:"className,omitempty"`
	// DefaultClass marks the alb IngressClass as the cluster default (eks mode). Default false.
	DefaultClass bool `json:"defaultClass,omitempty"`
	// ControllerChartVersion pins the aws-load-balancer-controller Helm chart (eks mode). Default
	// 1.14.0 (controller v2.14.0, runs on EKS 1.35); infra/ingress transcribes that controller
	// version's IAM policy, so a bump updates infra/ingress/iampolicy.go too.
	ControllerChartVersion string `json:"controllerChartVersion,omitempty"`
	// ControllerReplicas is the controller's replica count (eks mode). Default 2.
	ControllerReplicas int `json:"controllerReplicas,omitempty"`
	// Annotations are added to OpenNeuro's Ingress in existing mode (e.g. nginx proxy timeouts).
	Annotations map[string]string `json:"annotations,omitempty"`
	// TLSSecretName is a kubernetes.io/tls Secret in the app namespace for HTTPS in existing mode.
	// Default "": plain HTTP (local clusters).
	TLSSecretName string `json:"tlsSecretName,omitempty"`
	// ControllerNamespace is the namespace of the cluster's ingress controller pods (existing mode;
	// required there), e.g. ingress-nginx, or kube-system for k3s's traefik. The NetworkPolicies
	// admit the site's traffic to the API and web pods from there only.
	ControllerNamespace string `json:"controllerNamespace,omitempty"`
}

// ALBClassName is the IngressClass the program creates for the AWS Load Balancer Controller.
const ALBClassName = "alb"

func (i *Ingress) applyDefaults(c Cluster) {
	if c.Mode != ModeEKS {
		return
	}
	if i.ClassName == "" {
		i.ClassName = ALBClassName
	}
	if i.ControllerChartVersion == "" {
		i.ControllerChartVersion = "1.14.0"
	}
	if i.ControllerReplicas == 0 {
		i.ControllerReplicas = 2
	}
}

func (i Ingress) validate(v *validator, c Cluster) {
	if c.Mode != ModeEKS {
		if i.ClassName == "" {
			v.addf("ingress.className", "is required with cluster.mode existing; name the cluster's IngressClass, e.g. nginx")
		} else {
			v.k8sName("ingress.className", i.ClassName, 253)
		}
		if i.ClassName == ALBClassName {
			v.addf("ingress.className", "alb needs the AWS Load Balancer Controller, which only eks mode installs; use the cluster's own class")
		}
		if i.DefaultClass || i.ControllerChartVersion != "" || i.ControllerReplicas != 0 {
			v.addf("ingress.controllerChartVersion", "defaultClass, controllerChartVersion and controllerReplicas configure the AWS Load Balancer Controller, which existing mode does not install; remove them")
		}
		for _, k := range sortedKeys(i.Annotations) {
			if strings.HasPrefix(k, "alb.ingress.kubernetes.io/") || strings.HasPrefix(k, "service.beta.kubernetes.io/aws-") {
				v.addf("ingress.annotations", "%q is an AWS load balancer annotation, which needs eks mode; remove it", k)
			}
		}
		if i.TLSSecretName != "" {
			v.k8sName("ingress.tlsSecretName", i.TLSSecretName, 253)
		}
		if i.ControllerNamespace == "" {
			v.addf("ingress.controllerNamespace", "is required with cluster.mode existing: the NetworkPolicies admit the site's traffic only from the ingress controller's namespace; name it, e.g. ingress-nginx (kubectl get pods -A -l app.kubernetes.io/name=ingress-nginx)")
		} else {
			v.k8sName("ingress.controllerNamespace", i.ControllerNamespace, 63)
		}
		return
	}
	if i.ControllerNamespace != "" {
		v.addf("ingress.controllerNamespace", "names an existing cluster's ingress controller; in eks mode the ALB sends from the VPC, remove it")
	}
	if i.ClassName != ALBClassName {
		v.addf("ingress.className", "%q: in eks mode OpenNeuro is served by the AWS Load Balancer Controller; use alb", i.ClassName)
	}
	if len(i.Annotations) > 0 || i.TLSSecretName != "" {
		v.addf("ingress.annotations", "annotations and tlsSecretName are for existing mode; in eks mode the ALB settings come from app.certificateArn and the program")
	}
	v.version("ingress.controllerChartVersion", i.ControllerChartVersion)
	if i.ControllerReplicas < 1 {
		v.addf("ingress.controllerReplicas", "is %d; run at least 1 (2 for availability)", i.ControllerReplicas)
	}
}
