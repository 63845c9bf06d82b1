package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// brokerReachable checks what beat and flower need to work: their redis broker answers. The image
// has redis-py, Celery's redis transport.
const brokerReachable = `import os, redis; redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), socket_timeout=5).ping()`

// brokerProbe is ready when the broker answers (a dependency: readiness only).
func brokerProbe() *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		Exec:                &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"python", "-c", brokerReachable})},
		InitialDelaySeconds: pulumi.Int(5),
		PeriodSeconds:       pulumi.Int(30),
		TimeoutSeconds:      pulumi.Int(10),
		FailureThreshold:    pulumi.Int(3),
	}
}

// newBeat is the Celery beat scheduler (chart section 2.3): it queues the periodic dataset audit.
// Exactly one may run, or every task would be queued twice: one replica, and Recreate so that a
// rollout stops the old one before it starts the new one.
func newBeat(k *kit, s *settings) error {
	image := k.cfg.Images.DataladService
	set := k.labelSet(compBeat, image)
	sa, err := k.serviceAccount("beat-scheduler", set)
	if err != nil {
		return err
	}
	pod := basePod(sa)
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:    pulumi.String(k.objectName(compBeat)),
		Image:   pulumi.String(image),
		Command: pulumi.ToStringArray([]string{"/beat-scheduler"}),
		EnvFrom: s.envFrom(),
		// Beat serves no port; it is ready when it can reach the broker it schedules into.
		ReadinessProbe:  brokerProbe(),
		Resources:       resources(k.cfg.Resources.Beat),
		SecurityContext: containerSecurity(),
	}}
	return k.singletonDeployment("beat-scheduler", set, s, pod)
}
