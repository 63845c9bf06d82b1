package openneuro

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// dataladHealthPath answers {"alive": true}.
const dataladHealthPath = "/heartbeat"

// dataladService is the Falcon HTTP API over DataLad (openneuro/datalad-service with the image's
// gunicorn command, chart section 2.5-2.6). It queues work for the dataset workers and reads some
// files straight from the shared datasets volume, hence the same mount at /datalad.
func (b *builder) dataladService() error {
	image := b.cfg.Images.DataladService
	set := b.labelSet(compDatalad, image)
	sa, err := b.serviceAccount("datalad-service", set)
	if err != nil {
		return err
	}
	pod := basePod(sa)
	pod.TopologySpreadConstraints = spread(set)
	pod.Volumes = corev1.VolumeArray{b.datasetsVolumeSource()}
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:    pulumi.String(b.objectName(compDatalad)),
		Image:   pulumi.String(image),
		Ports:   httpPort(dataladPort),
		EnvFrom: b.envFrom(),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String(datasetsVolume), MountPath: pulumi.String(datasetsMountPath),
		}},
		LivenessProbe:   httpProbe(dataladHealthPath, 30, 30, 10),
		ReadinessProbe:  httpProbe(dataladHealthPath, 10, 10, 5),
		Lifecycle:       drainPause(),
		Resources:       resources(b.cfg.Resources.DataladService),
		SecurityContext: containerSecurity(),
	}}
	if _, err := appsv1.NewDeployment(b.ctx, b.logical("datalad-service"), &appsv1.DeploymentArgs{
		Metadata: b.rolledMeta(b.objectName(compDatalad), set, b.cfg.Replicas.DataladService),
		Spec:     deploymentSpec(b.cfg.Replicas.DataladService, set, surgeRollout(), b.configAnnotations(), pod),
	}, b.workloadOpts(b.configMap, b.secret)...); err != nil {
		return err
	}
	if err := b.disruptionBudget("datalad-service", set); err != nil {
		return err
	}
	_, err = b.httpService("datalad-service", set, dataladPort, nil)
	return err
}
