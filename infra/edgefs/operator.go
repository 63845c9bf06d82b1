package edgefs

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// newOperator runs the EdgeFS operator (rook v1.5.12 operator.yaml) on the default nodes: it does not
// tolerate the storage pool's taint; rook-discover, which it starts, does (DISCOVER_TOLERATIONS).
//
// It has no readiness probe: the image (rook/edgefs, the rook binary on edgefs/edgefs:1.0.0) serves
// no health endpoint and nothing routes to the pod. The rollout waits for the pod to run.
func newOperator(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args, h *home, deps []pulumi.Resource) (*appsv1.Deployment, error) {
	set := labelSet("operator", args.Config.OperatorImage)
	res, err := requirements(args.Config.OperatorResources)
	if err != nil {
		return nil, wrap("operator resources", err)
	}
	tolerations, affinity, err := discoverEnv(poolPlacement(args.StoragePool))
	if err != nil {
		return nil, wrap("operator discover env", err)
	}
	fieldRef := func(path string) *corev1.EnvVarSourceArgs {
		return &corev1.EnvVarSourceArgs{FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String(path)}}
	}
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("ROOK_LOG_LEVEL"), Value: pulumi.String("INFO")},
		// The operator looks up its own pod by these (k8sutil.GetRunningPod) and fails without them.
		corev1.EnvVarArgs{Name: pulumi.String("POD_NAME"), ValueFrom: fieldRef("metadata.name")},
		corev1.EnvVarArgs{Name: pulumi.String("POD_NAMESPACE"), ValueFrom: fieldRef("metadata.namespace")},
	}
	if tolerations != "" {
		env = append(env,
			corev1.EnvVarArgs{Name: pulumi.String("DISCOVER_TOLERATIONS"), Value: pulumi.String(tolerations)},
			corev1.EnvVarArgs{Name: pulumi.String("DISCOVER_AGENT_NODE_AFFINITY"), Value: pulumi.String(affinity)},
		)
	}
	podLabels := set.Labels()
	podLabels["app"] = pulumi.String(operatorName) // upstream's pod label, for kubectl -l app=...

	dep, err := appsv1.NewDeployment(ctx, name+"-operator", &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(operatorName), Namespace: h.operatorNS.Metadata.Name(), Labels: withUpstream(set.Labels()), Annotations: kubeprovider.Annotations(nil),
		},
		Spec: appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			// The EdgeFS operator has no leader election: a rolling update would run two of them
			// against the same CRs for a while.
			Strategy: appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")},
			Selector: &metav1.LabelSelectorArgs{MatchLabels: set.Selector()},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: podLabels},
				Spec: corev1.PodSpecArgs{
					ServiceAccountName: h.operatorAccount.Metadata.Name(),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String(operatorName),
						Image:           pulumi.String(args.Config.OperatorImage),
						ImagePullPolicy: pulumi.String("IfNotPresent"), // the tag is pinned
						Args:            pulumi.ToStringArray([]string{"edgefs", "operator"}),
						Env:             env,
						Resources:       containerResources(res),
					}},
				},
			},
		},
	}, pulumi.Parent(comp), pulumi.DependsOn(deps))
	if err != nil {
		return nil, wrap("operator deployment", err)
	}
	return dep, nil
}
