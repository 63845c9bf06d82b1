package openneuro

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newFlower is the Celery dashboard (chart section 2.8). It reads its basic auth (user:password) from
// FLOWER_BASIC_AUTH in the Secret. It has a ClusterIP Service and no Ingress: operators reach it
// with `kubectl port-forward svc/<release>-flower 5555`.
func newFlower(k *kit, s *settings) error {
	image := k.cfg.Images.DataladService
	set := k.labelSet(compFlower, image)
	sa, err := k.serviceAccount("flower", set)
	if err != nil {
		return err
	}
	pod := basePod(sa)
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:  pulumi.String(k.objectName(compFlower)),
		Image: pulumi.String(image),
		Command: pulumi.ToStringArray([]string{"flower", "-A", celeryApp, "--broker",
			"redis://" + k.objectName(redisMasterSuffix)}),
		Ports:   httpPort(flowerPort),
		EnvFrom: s.envFrom(),
		// Every path asks for basic auth (and the 2020 flower has no health endpoint): ready when
		// the broker it shows answers, alive while it listens.
		ReadinessProbe:  brokerProbe(),
		LivenessProbe:   listeningProbe(30, 30),
		Resources:       resources(k.cfg.Resources.Flower),
		SecurityContext: containerSecurity(),
	}}
	if _, err := appsv1.NewDeployment(k.ctx, k.logical("flower"), &appsv1.DeploymentArgs{
		Metadata: k.workloadMeta(k.objectName(compFlower), set, nil),
		Spec:     deploymentSpec(1, set, nil, s.checksums(), pod),
	}, k.workloadOpts(s.deps()...)...); err != nil {
		return err
	}
	_, err = k.httpService("flower", set, flowerPort, nil)
	return err
}
