package openneuro

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// redisMasterSuffix names the Service the application reaches redis at (REDIS_HOST), the name
	// the chart's redis subchart gave it, and the StatefulSet.
	redisMasterSuffix = "redis-master"
	// redisHeadlessSuffix names the StatefulSet's governing Service.
	redisHeadlessSuffix = "redis-headless"
	redisPortName       = "redis"
	redisDataVolume     = "data"
	redisDataPath       = "/data"
	// redisUID is the redis user of the official image (docker-library/redis creates it with uid
	// and gid 999 "to make sure their IDs get assigned consistently").
	redisUID = 999
)

// redis is the Celery broker and result backend and the API's cache: the official image, master
// only, no password and every command allowed, as the chart configured its subchart
// (usePassword false, disableCommands []). Only pods in the namespace reach it.
func newRedis(k *kit) error {
	image := k.cfg.Images.Redis
	set := k.labelSet(compRedis, image)
	sa, err := k.serviceAccount("redis", set)
	if err != nil {
		return err
	}
	port := corev1.ServicePortArray{corev1.ServicePortArgs{
		Name: pulumi.String(redisPortName), Port: pulumi.Int(redisPort), TargetPort: pulumi.String(redisPortName), Protocol: pulumi.String("TCP"),
	}}
	headless, err := corev1.NewService(k.ctx, k.logical("redis-headless"), &corev1.ServiceArgs{
		Metadata: k.meta(k.objectName(redisHeadlessSuffix), set),
		Spec:     &corev1.ServiceSpecArgs{ClusterIP: pulumi.String("None"), Selector: set.Selector(), Ports: port},
	}, k.serviceOpts()...)
	if err != nil {
		return err
	}
	if _, err := corev1.NewService(k.ctx, k.logical("redis-master"), &corev1.ServiceArgs{
		Metadata: k.meta(k.objectName(redisMasterSuffix), set),
		Spec:     &corev1.ServiceSpecArgs{Type: pulumi.String("ClusterIP"), Selector: set.Selector(), Ports: port},
	}, k.serviceOpts()...); err != nil {
		return err
	}

	pod := basePod(sa)
	// The official image runs redis-server as uid 999 itself when started as that user (it only
	// chowns /data and drops to it via gosu when started as root), so the pod meets "restricted".
	// fsGroup makes the data volume writable for it; OnRootMismatch skips a recursive chown of a
	// large volume on every start.
	pod.SecurityContext = &corev1.PodSecurityContextArgs{
		RunAsNonRoot:        pulumi.Bool(true),
		RunAsUser:           pulumi.Int(redisUID),
		RunAsGroup:          pulumi.Int(redisUID),
		FsGroup:             pulumi.Int(redisUID),
		FsGroupChangePolicy: pulumi.String("OnRootMismatch"),
		SeccompProfile:      &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
	ping := fmt.Sprintf("redis-cli -p %d ping", redisPort)
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:  pulumi.String(compRedis),
		Image: pulumi.String(image),
		// Append-only file on: Celery's queued tasks survive a restart. Protected mode off
		// explicitly: it would refuse the other pods' connections without a password.
		Args: pulumi.ToStringArray([]string{"redis-server", "--appendonly", "yes", "--protected-mode", "no", "--dir", redisDataPath}),
		Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{
			Name: pulumi.String(redisPortName), ContainerPort: pulumi.Int(redisPort), Protocol: pulumi.String("TCP"),
		}},
		ReadinessProbe: shellProbe(fmt.Sprintf(`test "$(%s)" = PONG`, ping), 5, 10, 5, 3),
		// LOADING is alive: replaying a large append-only file takes a while.
		LivenessProbe: shellProbe(fmt.Sprintf(`case "$(%s)" in PONG|LOADING*) exit 0;; *) exit 1;; esac`, ping), 30, 15, 10, 6),
		Resources:     resources(k.cfg.Resources.Redis),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String(redisDataVolume), MountPath: pulumi.String(redisDataPath),
		}},
		SecurityContext: &corev1.SecurityContextArgs{
			AllowPrivilegeEscalation: pulumi.Bool(false),
			Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
		},
	}}

	persistent := boolOr(k.cfg.Redis.Persistence, true)
	if !persistent {
		pod.Volumes = corev1.VolumeArray{corev1.VolumeArgs{
			Name: pulumi.String(redisDataVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{},
		}}
	}
	spec := &appsv1.StatefulSetSpecArgs{
		Replicas:             pulumi.Int(1),
		ServiceName:          headless.Metadata.Name().Elem(),
		Selector:             &metav1.LabelSelectorArgs{MatchLabels: set.Selector()},
		RevisionHistoryLimit: pulumi.Int(revisionHistoryLimit),
		Template: &corev1.PodTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: set.Labels()},
			Spec:     pod,
		},
	}
	var deps []pulumi.Resource
	if persistent {
		claim := &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes: pulumi.ToStringArray([]string{"ReadWriteOnce"}),
			Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(k.cfg.Redis.Size)}},
		}
		if k.args.RedisStorageClass != "" {
			claim.StorageClassName = pulumi.String(k.args.RedisStorageClass)
		}
		spec.VolumeClaimTemplates = corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
			// Only the stable selector labels: claim templates cannot change after creation, so
			// the version label here would force a StatefulSet replacement on every redis upgrade.
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(redisDataVolume), Labels: set.Selector()},
			Spec:     claim,
		}}
		// The claim outlives the StatefulSet (a replacement, e.g. after a size change, adopts it
		// again), except in stacks whose data is disposable, where it would outlive the cluster
		// and leak its EBS volume.
		whenDeleted := "Delete"
		if k.args.Protect {
			whenDeleted = "Retain"
		}
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
			WhenDeleted: pulumi.String(whenDeleted),
			WhenScaled:  pulumi.String("Retain"),
		}
		deps = append(deps, k.args.StorageDrivers...)
	}
	_, err = appsv1.NewStatefulSet(k.ctx, k.logical("redis"), &appsv1.StatefulSetArgs{
		Metadata: k.meta(k.objectName(redisMasterSuffix), set),
		Spec:     spec,
	}, k.workloadOpts(deps...)...)
	return err
}
