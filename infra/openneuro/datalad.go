package openneuro

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// dataladHealthPath answers {"alive": true}.
const dataladHealthPath = "/heartbeat"

// newDataladService is the Falcon HTTP API over DataLad (openneuro/datalad-service with the image's
// gunicorn command, chart section 2.5-2.6). It queues work for the dataset workers and reads some
// files straight from the shared datasets volume, hence the same mount at /datalad.
func newDataladService(k *kit, s *settings, d *datasets) error {
	image := k.cfg.Images.DataladService
	set := k.labelSet(compDatalad, image)
	sa, err := k.serviceAccount("datalad-service", set)
	if err != nil {
		return err
	}
	pod := basePod(sa)
	pod.TopologySpreadConstraints = spread(set)
	pod.Volumes = corev1.VolumeArray{d.volume()}
	if !d.shared {
		// A ReadWriteOnce volume attaches to one node: run beside the worker that mounts it (on a
		// single-node cluster this changes nothing; on a larger one it avoids Multi-Attach).
		pod.Affinity = &corev1.AffinityArgs{PodAffinity: &corev1.PodAffinityArgs{
			RequiredDuringSchedulingIgnoredDuringExecution: corev1.PodAffinityTermArray{corev1.PodAffinityTermArgs{
				LabelSelector: &metav1.LabelSelectorArgs{MatchLabels: k.labelSet(compWorker, "").Selector()},
				TopologyKey:   pulumi.String(hostnameLabel),
			}},
		}}
	}
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:    pulumi.String(k.objectName(compDatalad)),
		Image:   pulumi.String(image),
		Ports:   httpPort(dataladPort),
		EnvFrom: s.envFrom(),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String(datasetsVolume), MountPath: pulumi.String(datasetsMountPath),
		}},
		LivenessProbe:   listeningProbe(30, 30),
		ReadinessProbe:  httpProbe(dataladHealthPath, 10, 10, 5),
		Lifecycle:       drainPause(),
		Resources:       resources(k.cfg.Resources.DataladService),
		SecurityContext: containerSecurity(),
	}}
	if _, err := appsv1.NewDeployment(k.ctx, k.logical("datalad-service"), &appsv1.DeploymentArgs{
		Metadata: k.rolledMeta(k.objectName(compDatalad), set, k.cfg.Replicas.DataladService, writerAnnotations(k.cfg.Replicas.DataladService)),
		Spec:     deploymentSpec(k.cfg.Replicas.DataladService, set, surgeRollout(), s.checksums(), pod),
	}, append(k.workloadOpts(s.deps()...), createTimeout)...); err != nil {
		return err
	}
	if err := k.disruptionBudget("datalad-service", set); err != nil {
		return err
	}
	_, err = k.httpService("datalad-service", set, dataladPort, nil)
	return err
}
