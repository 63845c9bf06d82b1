package edgefs

import (
	"strconv"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

const (
	// discoverDaemonSet is the DaemonSet the operator starts in its namespace to report each storage
	// node's disks (rook v1.5.12 pkg/operator/discover/discover.go, discoverDaemonsetName).
	discoverDaemonSet = "rook-discover"
	// discoveryJob holds the Cluster back until that DaemonSet runs on every node it targets.
	discoveryJob = "rook-edgefs-discovery"
	// discoveryWaitSeconds bounds each wait: the operator creates the DaemonSet seconds after it
	// starts; its pods first pull the large rook/edgefs image on every storage node.
	discoveryWaitSeconds = 1800
)

// newDiscoveryGate creates the Job the Cluster waits for, and returns it. The operator gives the
// rook-discover reports at most 150 s once a Cluster exists, stops at the first non-empty list, and
// fails for good with fewer nodes than sysRepCount; after a restart it even marks such a Cluster
// Created with nothing deployed (rook v1.5.12 cluster/controller.go onAdd, discover.ListDevices).
// So the Cluster is created only once rook-discover runs on every node it targets: the Job waits
// for the DaemonSet to exist, then for its rollout (every scheduled pod available). Pulumi waits for
// the Job to complete. The image has kubectl and no shell, so each step is one container.
func newDiscoveryGate(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args, h *home, deps []pulumi.Resource) (*batchv1.Job, error) {
	image := args.Config.DiscoveryImage
	set := labelSet("discovery", image)
	meta := func(n string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: h.operatorNS.Metadata.Name(), Labels: set.Labels(), Annotations: kubeprovider.Annotations(nil)}
	}
	opts := []pulumi.ResourceOption{pulumi.Parent(comp), pulumi.DependsOn(deps)}
	account, err := corev1.NewServiceAccount(ctx, name+"-discovery-account", &corev1.ServiceAccountArgs{
		Metadata: meta(discoveryJob),
	}, opts...)
	if err != nil {
		return nil, wrap("discovery service account", err)
	}
	// Reading the DaemonSet is all it does.
	role, err := rbacv1.NewRole(ctx, name+"-discovery-role", &rbacv1.RoleArgs{
		Metadata: meta(discoveryJob),
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{"apps"}),
			Resources: pulumi.ToStringArray([]string{"daemonsets"}),
			Verbs:     pulumi.ToStringArray([]string{"get", "list", "watch"}),
		}},
	}, opts...)
	if err != nil {
		return nil, wrap("discovery role", err)
	}
	binding, err := rbacv1.NewRoleBinding(ctx, name+"-discovery-binding", &rbacv1.RoleBindingArgs{
		Metadata: meta(discoveryJob),
		RoleRef: rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem(),
		},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{
			Kind: pulumi.String("ServiceAccount"), Name: account.Metadata.Name().Elem(), Namespace: h.operatorNS.Metadata.Name().Elem(),
		}},
	}, opts...)
	if err != nil {
		return nil, wrap("discovery role binding", err)
	}

	timeout := strconv.Itoa(discoveryWaitSeconds) + "s"
	ns := OperatorNamespace
	step := func(stepName string, kubectl ...string) corev1.ContainerArgs {
		return corev1.ContainerArgs{
			Name:  pulumi.String(stepName),
			Image: pulumi.String(image),
			Args:  pulumi.ToStringArray(kubectl),
			// kubectl keeps its discovery cache under $HOME.
			Env: corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("HOME"), Value: pulumi.String("/tmp")}},
			VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
				Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp"),
			}},
			Resources: &corev1.ResourceRequirementsArgs{
				Requests: pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("32Mi")},
				Limits:   pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("128Mi")},
			},
			SecurityContext: &corev1.SecurityContextArgs{
				AllowPrivilegeEscalation: pulumi.Bool(false),
				ReadOnlyRootFilesystem:   pulumi.Bool(true),
				Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
			},
		}
	}
	// 65532 is the nonroot user of the distroless base the kubectl image is built on.
	const nonRoot = 65532
	pod := corev1.PodSpecArgs{
		ServiceAccountName: account.Metadata.Name().Elem(),
		RestartPolicy:      pulumi.String("OnFailure"),
		SecurityContext: &corev1.PodSecurityContextArgs{
			RunAsNonRoot:   pulumi.Bool(true),
			RunAsUser:      pulumi.Int(nonRoot),
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		InitContainers: corev1.ContainerArray{
			step("created", "wait", "--for=create", "-n", ns, "daemonset/"+discoverDaemonSet, "--timeout="+timeout),
		},
		Containers: corev1.ContainerArray{
			step("rolled-out", "rollout", "status", "-n", ns, "daemonset/"+discoverDaemonSet, "--timeout="+timeout),
		},
		Volumes: corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}}},
	}
	jobMeta := &metav1.ObjectMetaArgs{
		Name: pulumi.String(discoveryJob), Namespace: h.operatorNS.Metadata.Name(), Labels: set.Labels(),
		// Pulumi waits for the Job to complete: both waits, plus the image pull.
		Annotations: kubeprovider.Annotations(pulumi.StringMap{"pulumi.com/timeoutSeconds": pulumi.String(strconv.Itoa(2*discoveryWaitSeconds + 300))}),
	}
	return batchv1.NewJob(ctx, name+"-discovery", &batchv1.JobArgs{
		Metadata: jobMeta,
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(3),
			ActiveDeadlineSeconds: pulumi.Int(2*discoveryWaitSeconds + 300),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: set.Labels()},
				Spec:     pod,
			},
		},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{binding}))...)
}

// targetApp is the app label of the EdgeFS target pods the operator runs on each storage node
// (rook v1.5.12 pkg/operator/edgefs/cluster/target/target.go).
const targetApp = "rook-edgefs-target"

// newTargetBudget lets no EdgeFS target be evicted. Each target holds a copy of the data on its
// node's instance store, the operator cannot adopt a replacement node, and a drain does not wait for
// EdgeFS to re-replicate: a node-group update that drained node after node would lose one copy per
// node. With this budget a drain of a storage node fails (an EKS node-group update stops after its
// drain timeout) instead; the README's node-by-node procedure replaces storage nodes on purpose.
func newTargetBudget(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args, h *home) error {
	set := labelSet("target", args.Config.Image)
	_, err := policyv1.NewPodDisruptionBudget(ctx, name+"-target-budget", &policyv1.PodDisruptionBudgetArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(targetApp), Namespace: h.clusterNS.Metadata.Name(), Labels: set.Labels(), Annotations: kubeprovider.Annotations(nil),
		},
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(0),
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app": pulumi.String(targetApp)}},
		},
	}, pulumi.Parent(comp), pulumi.DependsOn(args.DependsOn))
	if err != nil {
		return wrap("target disruption budget", err)
	}
	return nil
}
