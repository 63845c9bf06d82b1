package openneuro

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// apiHealthPath is the API's health endpoint: its probes and the ALB's target group check.
const apiHealthPath = "/crn/"

// api is the GraphQL API (openneuro/server, chart section 2.1-2.2).
func (b *builder) api() error {
	image := b.cfg.Images.Server
	set := b.labelSet(compAPI, image)
	sa, err := b.serviceAccount("api", set)
	if err != nil {
		return err
	}
	pod := basePod(sa)
	pod.TopologySpreadConstraints = spread(set)
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:    pulumi.String(b.objectName(compAPI)),
		Image:   pulumi.String(image),
		Ports:   httpPort(apiPort),
		EnvFrom: b.envFrom(),
		// The chart's liveness (60/30); the timeout is the chart's later 10 s.
		LivenessProbe:   httpProbe(apiHealthPath, 60, 30, 10),
		ReadinessProbe:  httpProbe(apiHealthPath, 15, 15, 10),
		Lifecycle:       drainPause(),
		Resources:       resources(b.cfg.Resources.API),
		SecurityContext: containerSecurity(),
	}}
	if _, err := appsv1.NewDeployment(b.ctx, b.logical("api"), &appsv1.DeploymentArgs{
		Metadata: b.rolledMeta(b.objectName(compAPI), set, b.cfg.Replicas.API),
		Spec:     deploymentSpec(b.cfg.Replicas.API, set, surgeRollout(), b.configAnnotations(), pod),
	}, b.workloadOpts(b.configMap, b.secret)...); err != nil {
		return err
	}
	if err := b.disruptionBudget("api", set); err != nil {
		return err
	}
	b.apiSvc, err = b.httpService("api", set, apiPort, b.healthCheck(apiHealthPath))
	return err
}
