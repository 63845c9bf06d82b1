package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// schedulerCommand is the taskiq scheduler (helm/openneuro/templates/dataset-worker-scheduler.yaml
// at v5.5.1): it sends the cron-labelled maintenance tasks (git gc, git fsck of a random dataset)
// to a random worker's queue.
var schedulerCommand = []string{"/srv/.venv/bin/taskiq", "scheduler", "datalad_service.broker.scheduler:scheduler",
	"--tasks-pattern", "datalad_service/tasks/*.py", "--fs-discover"}

// newScheduler is the taskiq scheduler Deployment <release>-scheduler: exactly one pod, replaced
// by stopping the old one first (Recreate), because the scheduler has no leader election and two
// would send every periodic task twice.
func newScheduler(k *kit, s *settings) (part, error) {
	image := k.cfg.Images.DataladService
	set := k.labelSet(compScheduler, image)
	sa, err := k.serviceAccount("scheduler", set)
	if err != nil {
		return part{}, err
	}
	pod := basePod(sa)
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:            pulumi.String(k.objectName(compScheduler)),
		Image:           pulumi.String(image),
		Command:         pulumi.ToStringArray(schedulerCommand),
		EnvFrom:         s.envFrom(),
		ReadinessProbe:  brokerReadiness(),
		Resources:       resources(k.cfg.Resources.Scheduler),
		SecurityContext: containerSecurity(),
	}}
	return part{}, k.singletonDeployment("scheduler", set, s, pod)
}
