package openneuro

import (
	"fmt"
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/openneuro/openneuro-infra/stacks"
)

const (
	// redisMasterSuffix names the broker's Service (REDIS_HOST of the ConfigMap), the name the
	// chart's redis subchart gave it, and its StatefulSet.
	redisMasterSuffix = "redis-master"
	// redisHeadlessSuffix names the broker StatefulSet's governing Service.
	redisHeadlessSuffix = "redis-headless"
	// redisCacheSuffix names the API cache's Service and Deployment.
	redisCacheSuffix = "redis-cache"
	redisPortName    = "redis"
	redisDataVolume  = "data"
	redisDataPath    = "/data"
	// redisUID is the redis user of the official image (docker-library/redis creates it with uid
	// and gid 999 "to make sure their IDs get assigned consistently").
	redisUID = 999
	// redisMemoryShare is how much of its container's memory limit redis may fill (maxmemory): the
	// rest is for redis itself, client buffers and the fork of an append-only-file rewrite, so
	// that a full redis answers "OOM command not allowed" instead of being killed.
	redisMemoryShare = 0.75
)

// redis is where the application keeps two kinds of data that must not share one memory limit
// (v3.14.2: datalad_service/common/celery.py, openneuro-server src/libs/redis.js):
//   - the broker (REDIS_HOST): Celery's task queues and results, for the DataLad service, the
//     workers, beat and flower. Nothing may be evicted from it, so it refuses writes when full
//     (noeviction), and it persists on a volume (append-only file) so queued tasks survive a
//     restart;
//   - the cache: the API's cache (most keys never expire), its GraphQL subscriptions and locks.
//     It evicts least-recently-used keys when full (allkeys-lru) and keeps nothing on disk: a
//     restart only empties the cache.
//
// With one redis, as the chart had, the cache grew until the container was killed, and the task
// queues went down with it.
type redis struct {
	// brokerHost and cacheHost are the two Services.
	brokerHost, cacheHost string
}

// newRedis creates the broker and the cache. Both run the official image as its redis user,
// master only, no password and every command allowed, as the chart configured its subchart
// (usePassword false, disableCommands []); the network policies limit who reaches them.
func newRedis(k *kit) (*redis, error) {
	r := &redis{brokerHost: k.objectName(redisMasterSuffix), cacheHost: k.objectName(redisCacheSuffix)}
	if err := newRedisBroker(k); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := newRedisCache(k); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return r, nil
}

func newRedisBroker(k *kit) error {
	image := k.cfg.Images.Redis
	set := k.labelSet(compRedis, image)
	sa, err := k.serviceAccount("redis", set)
	if err != nil {
		return err
	}
	headless, err := corev1.NewService(k.ctx, k.logical("redis-headless"), &corev1.ServiceArgs{
		Metadata: k.meta(k.objectName(redisHeadlessSuffix), set),
		Spec:     &corev1.ServiceSpecArgs{ClusterIP: pulumi.String("None"), Selector: set.Selector(), Ports: redisServicePort()},
	}, k.serviceOpts()...)
	if err != nil {
		return err
	}
	if _, err := corev1.NewService(k.ctx, k.logical("redis-master"), &corev1.ServiceArgs{
		Metadata: k.meta(k.objectName(redisMasterSuffix), set),
		Spec:     &corev1.ServiceSpecArgs{Type: pulumi.String("ClusterIP"), Selector: set.Selector(), Ports: redisServicePort()},
	}, k.serviceOpts()...); err != nil {
		return err
	}
	maxmemory, err := redisMaxMemory(k.cfg.Resources.Redis)
	if err != nil {
		return err
	}
	pod := redisPod(sa)
	// Append-only file on and RDB snapshots off: every queued task is logged, and a shutdown does
	// not start a blocking snapshot that outlasts the grace period.
	pod.Containers = corev1.ContainerArray{redisContainer(compRedis, image, k.cfg.Resources.Redis,
		"--appendonly", "yes", "--save", "", "--maxmemory", maxmemory, "--maxmemory-policy", "noeviction")}

	var deps []pulumi.Resource
	if *k.cfg.Redis.Persistence {
		claim, err := newRedisClaim(k)
		if err != nil {
			return err
		}
		deps = append(deps, claim)
		pod.Volumes = corev1.VolumeArray{corev1.VolumeArgs{
			Name:                  pulumi.String(redisDataVolume),
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: claim.Metadata.Name().Elem()},
		}}
	} else {
		pod.Volumes = corev1.VolumeArray{corev1.VolumeArgs{
			Name: pulumi.String(redisDataVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{},
		}}
	}
	_, err = appsv1.NewStatefulSet(k.ctx, k.logical("redis"), &appsv1.StatefulSetArgs{
		Metadata: k.workloadMeta(k.objectName(redisMasterSuffix), set, nil),
		Spec: &appsv1.StatefulSetSpecArgs{
			Replicas:             pulumi.Int(1),
			ServiceName:          headless.Metadata.Name().Elem(),
			Selector:             &metav1.LabelSelectorArgs{MatchLabels: set.Selector()},
			RevisionHistoryLimit: pulumi.Int(revisionHistoryLimit),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: set.Labels()},
				Spec:     pod,
			},
		},
	}, k.workloadOpts(deps...)...)
	return err
}

// RedisClaimName is the name of the broker's data claim (the backup plan leaves its volume out).
func RedisClaimName(release string) string { return release + "-redis-data" }

// newRedisClaim is the broker's data volume <release>-redis-data: a data claim of its own rather
// than a StatefulSet claim template, so that app.redis.size grows it in place (templates cannot
// change, and never resize the claims they made).
func newRedisClaim(k *kit) (*corev1.PersistentVolumeClaimPatch, error) {
	return k.newDataClaim(dataClaim{
		role: "redis-data", name: RedisClaimName(k.cfg.Release), set: k.labelSet(compRedis, ""),
		accessMode: "ReadWriteOnce", size: k.cfg.Redis.Size, storageClass: k.args.RedisStorageClass,
		wasClaim: true, deps: k.args.StorageDrivers,
	})
}

// newRedisCache is the API's cache: a Deployment (it keeps nothing) and its Service.
func newRedisCache(k *kit) error {
	image := k.cfg.Images.Redis
	set := k.labelSet(redisCacheSuffix, image)
	sa, err := k.serviceAccount("redis-cache", set)
	if err != nil {
		return err
	}
	if _, err := corev1.NewService(k.ctx, k.logical("redis-cache"), &corev1.ServiceArgs{
		Metadata: k.meta(k.objectName(redisCacheSuffix), set),
		Spec:     &corev1.ServiceSpecArgs{Type: pulumi.String("ClusterIP"), Selector: set.Selector(), Ports: redisServicePort()},
	}, k.serviceOpts()...); err != nil {
		return err
	}
	maxmemory, err := redisMaxMemory(k.cfg.Resources.RedisCache)
	if err != nil {
		return err
	}
	pod := redisPod(sa)
	pod.Volumes = corev1.VolumeArray{corev1.VolumeArgs{
		Name: pulumi.String(redisDataVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{},
	}}
	pod.Containers = corev1.ContainerArray{redisContainer(redisCacheSuffix, image, k.cfg.Resources.RedisCache,
		"--appendonly", "no", "--save", "", "--maxmemory", maxmemory, "--maxmemory-policy", "allkeys-lru")}
	_, err = appsv1.NewDeployment(k.ctx, k.logical("redis-cache"), &appsv1.DeploymentArgs{
		Metadata: k.workloadMeta(k.objectName(redisCacheSuffix), set, nil),
		// One cache; a rollout replaces it (an empty cache fills again from MongoDB and DataLad).
		Spec: deploymentSpec(1, set, &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")}, nil, pod),
	}, k.workloadOpts()...)
	return err
}

func redisServicePort() corev1.ServicePortArray {
	return corev1.ServicePortArray{corev1.ServicePortArgs{
		Name: pulumi.String(redisPortName), Port: pulumi.Int(redisPort), TargetPort: pulumi.String(redisPortName), Protocol: pulumi.String("TCP"),
	}}
}

// redisPod runs as the image's redis user, so the pod meets Pod Security "restricted". The official
// image runs redis-server as uid 999 itself when started as that user (it only chowns /data and
// drops to it via gosu when started as root). fsGroup makes the data volume writable for it;
// OnRootMismatch skips a recursive chown of a large volume on every start.
func redisPod(serviceAccount string) corev1.PodSpecArgs {
	pod := basePod(serviceAccount)
	pod.SecurityContext = &corev1.PodSecurityContextArgs{
		RunAsNonRoot:        pulumi.Bool(true),
		RunAsUser:           pulumi.Int(redisUID),
		RunAsGroup:          pulumi.Int(redisUID),
		FsGroup:             pulumi.Int(redisUID),
		FsGroupChangePolicy: pulumi.String("OnRootMismatch"),
		SeccompProfile:      &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
	return pod
}

// redisContainer runs redis-server with flags. Protected mode off explicitly: it would refuse the
// other pods' connections without a password. Ready when it answers PONG; alive while it answers
// at all, LOADING included (replaying a large append-only file takes a while): the two probes
// differ, so a slow start is not killed.
func redisContainer(name, image string, r stacks.Resources, flags ...string) corev1.ContainerArgs {
	ping := fmt.Sprintf("redis-cli -p %d ping", redisPort)
	args := append([]string{"redis-server", "--protected-mode", "no", "--dir", redisDataPath}, flags...)
	return corev1.ContainerArgs{
		Name:  pulumi.String(name),
		Image: pulumi.String(image),
		Args:  pulumi.ToStringArray(args),
		Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{
			Name: pulumi.String(redisPortName), ContainerPort: pulumi.Int(redisPort), Protocol: pulumi.String("TCP"),
		}},
		ReadinessProbe: shellProbe(fmt.Sprintf(`test "$(%s)" = PONG`, ping), 5, 10, 5, 3),
		LivenessProbe:  shellProbe(fmt.Sprintf(`case "$(%s)" in PONG|LOADING*) exit 0;; *) exit 1;; esac`, ping), 30, 15, 10, 6),
		Resources:      resources(r),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String(redisDataVolume), MountPath: pulumi.String(redisDataPath),
		}},
		SecurityContext: &corev1.SecurityContextArgs{
			AllowPrivilegeEscalation: pulumi.Bool(false),
			Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
		},
	}
}

// redisMaxMemory is redisMemoryShare of the container's memory limit, in bytes.
func redisMaxMemory(r stacks.Resources) (string, error) {
	limit, err := resource.ParseQuantity(r.Limits.Memory)
	if err != nil {
		return "", fmt.Errorf("memory limit %q: %w", r.Limits.Memory, err)
	}
	return strconv.FormatInt(int64(float64(limit.Value())*redisMemoryShare), 10), nil
}
