package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/exposure"
)

// newCurrentWeb is the React front end of the current generation: openneuro/app, nginx serving the
// built app on port 80 (packages/openneuro-app/Dockerfile and nginx.conf at v5.5.1). The static
// content it once copied from openneuro/content is built in. nginx reads none of the ConfigMap or
// Secret (the browser gets its settings from the API's /crn/config.js), so the pods get neither.
// The chart gives it no probes; the readiness probe here is what the ALB's readiness gate and a
// rollout wait for, the liveness probe restarts only a dead listener. It takes every path the API
// and the workers do not: its route is the Ingress's last.
func newCurrentWeb(k *kit, _ *settings) (part, error) {
	image := k.cfg.Images.App
	set := k.labelSet(compWeb, image)
	sa, err := k.serviceAccount("web", set)
	if err != nil {
		return part{}, err
	}
	pod := basePod(sa)
	pod.TopologySpreadConstraints = spread(set)
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:            pulumi.String(k.objectName(compWeb)),
		Image:           pulumi.String(image),
		Ports:           httpPort(webPort),
		LivenessProbe:   listeningProbe(10, 30),
		ReadinessProbe:  httpProbe("/", 5, 10, 5),
		Lifecycle:       drainPause(),
		Resources:       resources(k.cfg.Resources.Web),
		SecurityContext: containerSecurity(),
	}}
	if err := k.autoscaledDeployment("web", set, k.cfg.Replicas.Web, k.cfg.Autoscaling.WebMaxReplicas, nil, pod); err != nil {
		return part{}, err
	}
	if err := k.disruptionBudget("web", set); err != nil {
		return part{}, err
	}
	if err := newAutoscaler(k, "web", k.objectName(compWeb), set, k.cfg.Replicas.Web, k.cfg.Autoscaling.WebMaxReplicas); err != nil {
		return part{}, err
	}
	svc, err := k.httpService("web", set, webPort, k.healthCheck("/"))
	if err != nil {
		return part{}, err
	}
	return part{services: []pulumi.Resource{svc}, routes: []exposure.Route{
		{Path: "/", Prefix: true, Service: k.objectName(compWeb), Port: webPort},
	}}, nil
}
