package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// apiHealthPath is the API's health endpoint: its probes and the ALB's target group check.
const apiHealthPath = "/crn/"

// newAPI is the GraphQL API (openneuro/server, chart section 2.1-2.2); it returns its Service. Its
// REDIS_HOST is the cache, not the broker of the ConfigMap: the API keeps its cache, locks and
// GraphQL subscriptions there and queues no Celery task.
func newAPI(k *kit, s *settings, r *redis) (*corev1.Service, error) {
	image := k.cfg.Images.Server
	set := k.labelSet(compAPI, image)
	sa, err := k.serviceAccount("api", set)
	if err != nil {
		return nil, err
	}
	pod := basePod(sa)
	pod.TopologySpreadConstraints = spread(set)
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:    pulumi.String(k.objectName(compAPI)),
		Image:   pulumi.String(image),
		Ports:   httpPort(apiPort),
		EnvFrom: s.envFrom(),
		// env wins over envFrom for the same name.
		Env: corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("REDIS_HOST"), Value: pulumi.String(r.cacheHost)}},
		// The chart's liveness timing (60/30) on the process alone.
		LivenessProbe:   listeningProbe(60, 30),
		ReadinessProbe:  httpProbe(apiHealthPath, 15, 15, 10),
		Lifecycle:       drainPause(),
		Resources:       resources(k.cfg.Resources.API),
		SecurityContext: containerSecurity(),
	}}
	if err := k.autoscaledDeployment("api", set, k.cfg.Replicas.API, k.cfg.Autoscaling.APIMaxReplicas, s.checksums(), pod, s.deps()...); err != nil {
		return nil, err
	}
	if err := k.disruptionBudget("api", set); err != nil {
		return nil, err
	}
	return k.httpService("api", set, apiPort, k.healthCheck(apiHealthPath))
}
