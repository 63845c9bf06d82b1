package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/exposure"
)

// newCurrentAPI is the GraphQL API of the current generation (openneuro/server,
// helm/openneuro/templates/api-deployment.yaml and api-service.yaml at v5.5.1): port 8111, the
// chart's readiness probe on /crn/ (its liveness probe, the same request, became a check of the
// listener: a liveness probe equal to the readiness probe restarts every API pod when MongoDB or redis
// is slow), the ConfigMap and Secret as its environment, and the routes the chart's
// Ingress sends to it (the websocket endpoint, /crn, /api, the sitemap).
func newCurrentAPI(k *kit, s *settings) (part, error) {
	image := k.cfg.Images.Server
	set := k.labelSet(compAPI, image)
	sa, err := k.serviceAccount("api", set)
	if err != nil {
		return part{}, err
	}
	pod := basePod(sa)
	pod.TopologySpreadConstraints = spread(set)
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:            pulumi.String(k.objectName(compAPI)),
		Image:           pulumi.String(image),
		Ports:           httpPort(apiPort),
		EnvFrom:         s.envFrom(),
		ReadinessProbe:  httpProbe(apiHealthPath, 15, 30, 1),
		LivenessProbe:   listeningProbe(60, 30),
		Lifecycle:       drainPause(),
		Resources:       resources(k.cfg.Resources.API),
		SecurityContext: containerSecurity(),
	}}
	if err := k.autoscaledDeployment("api", set, k.cfg.Replicas.API, k.cfg.Autoscaling.APIMaxReplicas, s.checksums(), pod, s.deps()...); err != nil {
		return part{}, err
	}
	if err := k.disruptionBudget("api", set); err != nil {
		return part{}, err
	}
	if err := newAutoscaler(k, "api", k.objectName(compAPI), set, k.cfg.Replicas.API, k.cfg.Autoscaling.APIMaxReplicas); err != nil {
		return part{}, err
	}
	svc, err := k.httpService("api", set, apiPort, k.healthCheck(apiHealthPath))
	if err != nil {
		return part{}, err
	}
	api := k.objectName(compAPI)
	return part{services: []pulumi.Resource{svc}, routes: []exposure.Route{
		{Path: "/graphql-subscriptions", Service: api, Port: apiPort},
		{Path: "/crn", Prefix: true, Service: api, Port: apiPort},
		// The API also serves its routes under /api (packages/openneuro-server/src/app.ts).
		{Path: "/api", Prefix: true, Service: api, Port: apiPort},
		{Path: "/sitemap.xml", Service: api, Port: apiPort},
	}}, nil
}
