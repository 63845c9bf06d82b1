package openneuro

import (
	"fmt"
	"slices"
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/exposure"
	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/infra/labels"
)

const (
	// workerPort is the DataLad service's port inside the worker pod (uvicorn --port 80).
	workerPort = 80
	// workerDatasetsPath is DATALAD_DATASET_PATH, where each worker's own disk is mounted.
	workerDatasetsPath = "/datasets"
	// taskiqContainerSuffix names the taskiq container: <release>-dataset-taskiq-worker.
	taskiqContainerSuffix = "dataset-taskiq-worker"
	// workerKeepAliveSeconds is uvicorn's keep-alive. The chart's 30 s suits GKE; behind an ALB,
	// whose idle timeout is 60 s, a backend must keep connections open longer than the ALB, or the
	// ALB sends a request on a connection the backend is closing and answers 502 (ALB docs,
	// "Connection idle timeout").
	workerKeepAliveSeconds = 75
)

// Commands of the two worker containers (helm/openneuro/templates/dataset-worker-stateful-set.yaml
// at v5.5.1). The taskiq worker consumes the queue worker-<ordinal> of redis DB 8: the broker takes
// the ordinal from the pod's hostname (datalad_service/broker/get_docker_scale.py) and the redis
// address from REDIS_HOST and REDIS_PORT, so nothing but the pod name and the ConfigMap selects it.
var (
	workerCommand = []string{"uvicorn", "--host", "0.0.0.0", "--port", strconv.Itoa(workerPort),
		"--factory", "datalad_service.app:create_app", "--workers", "12", "--timeout-keep-alive", strconv.Itoa(workerKeepAliveSeconds)}
	taskiqWorkerCommand = []string{"/srv/.venv/bin/taskiq", "worker", "datalad_service.broker:broker",
		"--tasks-pattern", "datalad_service/tasks/*.py", "--fs-discover", "--max-async-tasks", "2", "--use-process-pool"}
)

// brokerReadiness checks that the taskiq scheduler's broker, redis DB 8, answers, with the redis
// client the image's taskiq-redis uses: a taskiq process serves no port, and without its broker it
// can neither take nor queue a task. Not on the worker's taskiq container: a pod is ready only when
// all its containers are, so it would take the shard's DataLad HTTP service (which reads without
// redis) out of its Service and the ALB whenever redis is away.
func brokerReadiness() *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		Exec: &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"/srv/.venv/bin/python", "-c",
			`import os, redis; redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), db=8, socket_timeout=5).ping()`})},
		InitialDelaySeconds: pulumi.Int(10),
		PeriodSeconds:       pulumi.Int(30),
		TimeoutSeconds:      pulumi.Int(10),
		FailureThreshold:    pulumi.Int(3),
	}
}

// newDatasetWorkers are the dataset workers of the current generation: one StatefulSet pod per
// shard with the DataLad service (uvicorn) and a taskiq worker, both on the pod's own disk, and a
// ClusterIP Service <release>-dataset-worker-<n> per pod that the API and the Ingress paths
// /uploads/<n> and /git/<n> address. The count is app.workers, as is DATALAD_WORKERS.
func newDatasetWorkers(k *kit, s *settings) (part, error) {
	image := k.cfg.Images.DataladService
	set := k.labelSet(compWorker, image)
	workers := k.cfg.Workers
	sa, err := k.serviceAccount("dataset-worker", set)
	if err != nil {
		return part{}, err
	}
	governing, err := k.governingService(set)
	if err != nil {
		return part{}, err
	}
	p := part{}
	var uploads, git []exposure.Route
	for i := 0; i < workers; i++ {
		svc, err := k.workerService(set, i)
		if err != nil {
			return part{}, fmt.Errorf("worker %d: %w", i, err)
		}
		p.services = append(p.services, svc)
		name := workerServiceName(k, i)
		uploads = append(uploads, exposure.Route{Path: "/uploads/" + strconv.Itoa(i), Prefix: true, Service: name, Port: workerPort})
		git = append(git, exposure.Route{Path: "/git/" + strconv.Itoa(i), Prefix: true, Service: name, Port: workerPort})
	}
	// The chart's order: every /uploads/<n>, then every /git/<n>.
	p.routes = slices.Concat(uploads, git)

	pod := basePod(sa)
	// A rollout or a drain lets the running task finish (a git-annex operation cut half-way leaves a
	// dataset to repair).
	pod.TerminationGracePeriodSeconds = pulumi.Int(k.cfg.WorkerTerminationGracePeriodSeconds)
	selector := pulumi.StringMap{}
	for key, v := range k.args.StoragePool.NodeSelector() {
		selector[key] = v
	}
	// EBS volumes are zonal: every worker and its disk stay in app.workerZone.
	if k.cfg.WorkerZone != "" {
		selector[zoneLabel] = pulumi.String(k.cfg.WorkerZone)
	}
	if len(selector) > 0 {
		pod.NodeSelector = selector
	}
	pod.Tolerations = k.args.StoragePool.Tolerations()
	pod.TopologySpreadConstraints = corev1.TopologySpreadConstraintArray{spread(set)[1]}
	pod.Volumes = corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String(sshKeyVolume), Secret: &corev1.SecretVolumeSourceArgs{
		SecretName:  pulumi.String(s.sshKeyName),
		DefaultMode: pulumi.Int(sshKeyMode),
		Items: corev1.KeyToPathArray{corev1.KeyToPathArgs{
			Key: pulumi.String(sshKeySecretKey), Path: pulumi.String(sshKeySecretKey), Mode: pulumi.Int(sshKeyMode),
		}},
	}}}
	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String(datasetsVolume), MountPath: pulumi.String(workerDatasetsPath)},
		// A file at /datalad-key, the IdentityFile of the image's ssh config (subPath, so the key
		// does not hide a directory).
		corev1.VolumeMountArgs{Name: pulumi.String(sshKeyVolume), MountPath: pulumi.String(sshKeyMountPath),
			SubPath: pulumi.String(sshKeySecretKey), ReadOnly: pulumi.Bool(true)},
	}
	pod.Containers = corev1.ContainerArray{
		corev1.ContainerArgs{
			Name:           pulumi.String(k.objectName(compWorker)),
			Image:          pulumi.String(image),
			Command:        pulumi.ToStringArray(workerCommand),
			Ports:          httpPort(workerPort),
			EnvFrom:        s.envFrom(),
			VolumeMounts:   mounts,
			ReadinessProbe: httpProbe(dataladHealthPath, 15, 5, 1),
			// The chart's liveness probe is its readiness request; the listener alone decides a
			// restart here, so a slow /heartbeat only takes the worker out of its Service.
			LivenessProbe: listeningProbe(0, 60),
			Resources:     resources(k.cfg.Resources.Worker),
			// Like the 2020 images, this one runs as root and drops nothing it needs.
			SecurityContext: containerSecurity(),
		},
		corev1.ContainerArgs{
			Name:            pulumi.String(k.objectName(taskiqContainerSuffix)),
			Image:           pulumi.String(image),
			Command:         pulumi.ToStringArray(taskiqWorkerCommand),
			EnvFrom:         s.envFrom(),
			VolumeMounts:    mounts,
			Resources:       resources(k.cfg.Resources.TaskiqWorker),
			SecurityContext: containerSecurity(),
		},
	}

	// Each worker's disk is a data claim of its own (newDataClaim), named as the StatefulSet's
	// claim template names it, so that the pod mounts it: app.workerDiskSize grows it in place,
	// lowering app.workers keeps the disks of the shards it stops, and raising it again takes them
	// back. The template only gives the pods the volume's name: the StatefulSet controller uses a
	// claim of the template's name that exists and creates none, and Pulumi ignores the template
	// after creation, since a change of it would replace the StatefulSet (pulumi-kubernetes diff.go
	// lists spec.volumeClaimTemplates as replace-on-change). Neither a deleted StatefulSet nor a
	// lower count deletes a claim (retention policy Retain; KEP-1847 StatefulSetAutoDeletePVC, stable
	// since Kubernetes 1.32, the program supports 1.33 and later).
	diskSet := k.labelSet(compDatasets, "")
	var disks []pulumi.Resource
	for i := 0; i < workers; i++ {
		disk, err := k.newDataClaim(dataClaim{
			role: compWorker + "-disk-" + strconv.Itoa(i), name: WorkerClaimName(k.cfg.Release, i), set: diskSet,
			accessMode: "ReadWriteOnce", size: k.cfg.WorkerDiskSize, storageClass: k.args.WorkerStorageClass,
			deps: k.args.StorageDrivers,
		})
		if err != nil {
			return part{}, fmt.Errorf("worker %d's disk: %w", i, err)
		}
		disks = append(disks, disk)
	}
	template := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.ToStringArray([]string{"ReadWriteOnce"}),
		Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(k.cfg.WorkerDiskSize)}},
	}
	if k.args.WorkerStorageClass != "" {
		template.StorageClassName = pulumi.String(k.args.WorkerStorageClass)
	}
	deps := append(append(s.deps(), s.sshKey), append(k.args.StorageDrivers, disks...)...)
	withDisks := func(spec *appsv1.StatefulSetSpecArgs) []pulumi.ResourceOption {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
			WhenDeleted: pulumi.String("Retain"),
			WhenScaled:  pulumi.String("Retain"),
		}
		spec.VolumeClaimTemplates = corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(datasetsVolume), Labels: diskSet.Common()},
			Spec:     template,
		}}
		return []pulumi.ResourceOption{pulumi.IgnoreChanges([]string{"spec.volumeClaimTemplates"})}
	}
	err = k.workerStatefulSet(set, s, governing, pod, withDisks, deps...)
	if err != nil {
		return part{}, err
	}
	if err := k.disruptionBudget("dataset-worker", set); err != nil {
		return part{}, err
	}
	return p, nil
}

// WorkerClaimName is the claim of worker n's disk, <template>-<statefulset>-<n>: the name the
// StatefulSet's claim template gives it, which the program creates (the data migration copies into
// it).
func WorkerClaimName(release string, n int) string {
	return fmt.Sprintf("%s-%s-%s-%d", datasetsVolume, release, compWorker, n)
}

// workerServiceName is worker n's Service, <release>-dataset-worker-<n>: the server calls
// <DATALAD_SERVICE_URI>-<n> (packages/openneuro-server/src/libs/datalad-service.ts).
func workerServiceName(k *kit, n int) string { return k.objectName(compWorker) + "-" + strconv.Itoa(n) }

// workerService is worker n's ClusterIP Service, selecting that one pod by the name the
// StatefulSet controller labels it with, and checked by the ALB on the worker's /heartbeat.
func (k *kit) workerService(set labels.Set, n int) (*corev1.Service, error) {
	sel := set.Selector()
	sel[podNameLabel] = pulumi.String(workerServiceName(k, n))
	meta := k.meta(workerServiceName(k, n), set)
	meta.Annotations = kubeprovider.Annotations(k.healthCheck(dataladHealthPath))
	// Keyed by ordinal: the ordinal is the shard's identity (its queue and its disk).
	return corev1.NewService(k.ctx, k.logical(compWorker+"-"+strconv.Itoa(n)), &corev1.ServiceArgs{
		Metadata: meta,
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: sel,
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String(httpPortName), Port: pulumi.Int(workerPort), TargetPort: pulumi.String(httpPortName), Protocol: pulumi.String("TCP"),
			}},
		},
	}, k.serviceOpts()...)
}
