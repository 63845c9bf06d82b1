package openneuro

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/labels"
)

// newAutoscaler keeps the Deployment named deployment (labelled set) between min and max pods, at
// app.autoscaling.targetCpuPercent of the pods' CPU requests on average (autoscaling/v2, the CPU
// use metrics-server reports). Nothing is created with app.autoscaling off.
//
// Its PodDisruptionBudget (disruptionBudget) needs no change: maxUnavailable 1 lets a drain evict one
// pod at any count the HPA picks, where a minAvailable would block every drain at the minimum.
func newAutoscaler(k *kit, role, deployment string, set labels.Set, min, max int) error {
	if !k.cfg.Autoscaling.IsEnabled() {
		return nil
	}
	_, err := autoscalingv2.NewHorizontalPodAutoscaler(k.ctx, k.logical(role), &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: k.meta(deployment, set),
		Spec: &autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: &autoscalingv2.CrossVersionObjectReferenceArgs{
				ApiVersion: pulumi.String("apps/v1"), Kind: pulumi.String("Deployment"), Name: pulumi.String(deployment),
			},
			MinReplicas: pulumi.Int(min),
			MaxReplicas: pulumi.Int(max),
			Metrics: autoscalingv2.MetricSpecArray{autoscalingv2.MetricSpecArgs{
				Type: pulumi.String("Resource"),
				Resource: &autoscalingv2.ResourceMetricSourceArgs{
					Name: pulumi.String("cpu"),
					Target: &autoscalingv2.MetricTargetArgs{
						Type: pulumi.String("Utilization"), AverageUtilization: pulumi.Int(k.cfg.Autoscaling.TargetCPUPercent),
					},
				},
			}},
		},
	}, k.parent)
	return err
}

// autoscaledOpts are the options of a Deployment an HPA scales: Pulumi sets spec.replicas when it
// creates the Deployment and leaves it to the HPA afterwards. Under server-side apply an ignored
// field stays out of Pulumi's patch, so the HPA's ownership of it (through the scale subresource) is
// no conflict (pulumi/pulumi-kubernetes#2491, fixed in v4; the provider's guide "Managing Resources
// with Server-Side Apply", handle field conflicts). Empty with app.autoscaling off.
func (k *kit) autoscaledOpts() []pulumi.ResourceOption {
	if !k.cfg.Autoscaling.IsEnabled() {
		return nil
	}
	return []pulumi.ResourceOption{pulumi.IgnoreChanges([]string{"spec.replicas"})}
}

// mostReplicas is the most pods a Deployment of replicas pods runs: max when an HPA may scale it up
// to max (its rollout then takes that many pods' time).
func (k *kit) mostReplicas(replicas, max int) int {
	if k.cfg.Autoscaling.IsEnabled() && max > replicas {
		return max
	}
	return replicas
}

// autoscaledDeployment creates the Deployment <release>-<component> of the API or web (either
// generation): surge rollouts timed for the most pods its HPA may run, and spec.replicas left to
// the HPA after the first up. annotations are the pods' rollout checksums (nil for none); deps are
// what the pods read (the ConfigMap and Secret).
func (k *kit) autoscaledDeployment(role string, set labels.Set, replicas, maxReplicas int, annotations pulumi.StringMap, pod corev1.PodSpecArgs, deps ...pulumi.Resource) error {
	_, err := appsv1.NewDeployment(k.ctx, k.logical(role), &appsv1.DeploymentArgs{
		Metadata: k.rolledMeta(k.objectName(set.Component), set, k.mostReplicas(replicas, maxReplicas), nil),
		Spec:     deploymentSpec(replicas, set, surgeRollout(), annotations, pod),
	}, append(k.workloadOpts(deps...), append(k.autoscaledOpts(), createTimeout)...)...)
	return err
}
