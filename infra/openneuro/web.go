package openneuro

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	contentVolume = "shared-data"
	// contentCopyPath is where the init container copies the openneuro/content files to.
	contentCopyPath = "/shared"
	// contentServePath is where nginx serves them from.
	contentServePath = "/srv/app/dist/content"
)

// newWeb is the React front end: nginx serving the built app (openneuro/app), with the static content
// of openneuro/content copied in by an init container (chart section 2.13-2.14). nginx reads none
// of the ConfigMap or Secret (the app's settings are built into it), so unlike the chart the pods
// get neither: no secret in a web server's environment, and no restart when they change.
func newWeb(k *kit) (*corev1.Service, error) {
	image := k.cfg.Images.App
	set := k.labelSet(compWeb, image)
	sa, err := k.serviceAccount("web", set)
	if err != nil {
		return nil, err
	}
	pod := basePod(sa)
	pod.TopologySpreadConstraints = spread(set)
	pod.Volumes = corev1.VolumeArray{corev1.VolumeArgs{
		Name: pulumi.String(contentVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{},
	}}
	pod.InitContainers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:    pulumi.String(k.objectName("content")),
		Image:   pulumi.String(k.cfg.Images.Content),
		Command: pulumi.ToStringArray([]string{"/bin/sh"}),
		Args:    pulumi.ToStringArray([]string{"-c", "cp -r content/* " + contentCopyPath}),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String(contentVolume), MountPath: pulumi.String(contentCopyPath),
		}},
		Resources:       resources(k.cfg.Resources.Content),
		SecurityContext: containerSecurity(),
	}}
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:  pulumi.String(k.objectName(compWeb)),
		Image: pulumi.String(image),
		Ports: httpPort(webPort),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String(contentVolume), MountPath: pulumi.String(contentServePath),
		}},
		LivenessProbe:   listeningProbe(10, 30),
		ReadinessProbe:  httpProbe("/", 5, 10, 5),
		Lifecycle:       drainPause(),
		Resources:       resources(k.cfg.Resources.Web),
		SecurityContext: containerSecurity(),
	}}
	if err := k.autoscaledDeployment("web", set, k.cfg.Replicas.Web, k.cfg.Autoscaling.WebMaxReplicas, nil, pod); err != nil {
		return nil, err
	}
	if err := k.disruptionBudget("web", set); err != nil {
		return nil, err
	}
	return k.httpService("web", set, webPort, k.healthCheck("/"))
}
