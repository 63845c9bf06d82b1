package openneuro

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// brokerReachable checks what beat and flower need to work: their redis broker answers. The image
// has redis-py, Celery's redis transport.
const brokerReachable = `import os, redis; redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), socket_timeout=5).ping()`

// beat is the Celery beat scheduler (chart section 2.3): it queues the periodic dataset audit.
// Exactly one may run, or every task would be queued twice: one replica, and Recreate so that a
// rollout stops the old one before it starts the new one.
func (b *builder) beat() error {
	image := b.cfg.Images.DataladService
	set := b.labelSet(compBeat, image)
	sa, err := b.serviceAccount("beat-scheduler", set)
	if err != nil {
		return err
	}
	pod := basePod(sa)
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:    pulumi.String(b.objectName(compBeat)),
		Image:   pulumi.String(image),
		Command: pulumi.ToStringArray([]string{"/beat-scheduler"}),
		EnvFrom: b.envFrom(),
		// Beat serves no port; it is ready when it can reach the broker it schedules into.
		ReadinessProbe: &corev1.ProbeArgs{
			Exec:                &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"python", "-c", brokerReachable})},
			InitialDelaySeconds: pulumi.Int(5),
			PeriodSeconds:       pulumi.Int(30),
			TimeoutSeconds:      pulumi.Int(10),
			FailureThreshold:    pulumi.Int(3),
		},
		Resources:       resources(b.cfg.Resources.Beat),
		SecurityContext: containerSecurity(),
	}}
	_, err = appsv1.NewDeployment(b.ctx, b.logical("beat-scheduler"), &appsv1.DeploymentArgs{
		Metadata: b.meta(b.objectName(compBeat), set),
		Spec:     deploymentSpec(1, set, &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")}, b.configAnnotations(), pod),
	}, b.workloadOpts(b.configMap, b.secret)...)
	return err
}
