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
	// ControllerChartVersion pins the aws-load-balancer-controller Helm chart (eks mode): one of
	// the charts of ControllerCharts, which pairs each with its controller, IAM policy and CRDs.
	// Default 1.14.0 (controller v2.14.0, runs on EKS 1.35).
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

// ControllerChart is what one release of the aws-load-balancer-controller chart needs beside
// itself.
type ControllerChart struct {
	// Controller is the controller version it runs: its appVersion and default image tag.
	Controller string
	// PolicySHA256 is the sha256 of that controller version's IAM policy as upstream publishes it
	// (docs/install/iam_policy.json at the controller's tag); infra/ingress/iampolicy.go
	// transcribes the policy of that checksum, and its test refuses a row with another one.
	PolicySHA256 string
	// CRDFiles are the chart's crds/ files at the controller's tag (helm/<chart>/crds/): Helm
	// installs them on a first install and never upgrades them, so the program applies them
	// itself, before the release, and a chart bump brings its CRDs with it.
	CRDFiles []string
}

// CRDURLs are the chart's CRD files as the program applies them, from the controller's tag in its
// repository. The chart files published for 1.14.0 (aws/eks-charts 049a6f7,
// stable/aws-load-balancer-controller/crds/) are byte for byte the tag's.
func (c ControllerChart) CRDURLs() []string {
	urls := make([]string, len(c.CRDFiles))
	for i, f := range c.CRDFiles {
		urls[i] = "https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/" + c.Controller + "/helm/aws-load-balancer-controller/crds/" + f
	}
	return urls
}

// controllerCharts are the charts the program runs, by chart version. Source of each row: the
// chart's Chart.yaml (appVersion) in aws/eks-charts at the commit that published it, and
// kubernetes-sigs/aws-load-balancer-controller at the controller's tag (iam_policy.json's sha256,
// helm/aws-load-balancer-controller/crds/). A newer chart adds CRDs (1.14.1:
// globalaccelerators.aga.k8s.aws; 1.16: albtargetcontrolconfigs.elbv2.k8s.aws; 3.5: the gateway
// CRDs' v1), which is why a chart outside the table is refused rather than installed with the old
// CRDs.
var controllerCharts = map[string]ControllerChart{
	"1.14.0": {
		Controller:   "v2.14.0",
		PolicySHA256: "16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a",
		CRDFiles:     []string{"crds.yaml", "gateway-crds.yaml"},
	},
}

// ControllerCharts returns the chart versions of the table, sorted.
func ControllerCharts() []string { return sortedKeys(controllerCharts) }

// ControllerChartFor returns the table's row of a chart version.
func ControllerChartFor(version string) (ControllerChart, bool) {
	c, ok := controllerCharts[version]
	return c, ok
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
	if _, ok := controllerCharts[i.ControllerChartVersion]; !ok {
		v.addf("ingress.controllerChartVersion", "%q is not in the controller table of stacks/ingress.go, which pairs each chart with its controller version, IAM policy and CRDs; use one of %s, or add the chart's row first", i.ControllerChartVersion, strings.Join(ControllerCharts(), ", "))
	}
	if i.ControllerReplicas < 1 {
		v.addf("ingress.controllerReplicas", "is %d; run at least 1 (2 for availability)", i.ControllerReplicas)
	}
}
