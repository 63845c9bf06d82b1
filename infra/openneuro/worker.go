package openneuro

import (
	"fmt"
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	k8sapps "k8s.io/api/apps/v1"

	"github.com/openneuro/openneuro-infra/infra/labels"
)

const (
	// podNameLabel is set by the StatefulSet controller on each pod: it selects one shard.
	podNameLabel = k8sapps.StatefulSetPodNameLabel
	// timeoutAnnotation overrides how long Pulumi waits for a rollout (default 10 minutes).
	timeoutAnnotation = "pulumi.com/timeoutSeconds"
	// ReplicasAnnotation records, on each workload that writes datasets, the count it runs with
	// when it runs: scripts/dataset-writers.sh scales it back to that count after a runbook
	// stopped it, whatever the stack's config leaves at its default.
	ReplicasAnnotation = "openneuro.org/replicas"
	// celeryApp is the Celery application of the datalad-service image.
	celeryApp = "datalad_service.worker"
)

// workerScript is the image's /dataset-worker script (`WORKER_ID=$(python get_docker_scale.py)`,
// then celery on queue dataset-worker-<WORKER_ID>, the StatefulSet ordinal), with exec added:
// the script starts celery as a child of bash, and bash as PID 1 ignores SIGTERM, so celery never
// got the signal to finish its task and was killed when the grace period ran out.
const workerScript = `exec celery -A ` + celeryApp + ` worker -Q "dataset-worker-$(python get_docker_scale.py)" -l info`

// The worker's readiness is brokerProbe: its broker answers, the one thing a worker that serves no
// port needs to consume; celery runs as PID 1 (exec), so a dead worker already restarts the
// container. `celery inspect ping` (the chart's kind of check) imported the whole DataLad stack in
// a second process every 30 s, on 2-vCPU storage nodes beside the EdgeFS target, and flapped under
// load. There is no liveness probe: the chart's (`celery status`, a broadcast through redis)
// restarted every worker at once whenever redis was away for a few minutes, which brings nothing
// back.

// newCeleryWorkers are the Celery dataset workers (chart section 2.7): one StatefulSet pod per shard, pod N
// consuming queue dataset-worker-N, all sharing the datasets volume. The v3.14.2 worker serves no
// port (the DataLad HTTP API is the datalad-service Deployment), so every worker Service is
// headless without ports: the governing Service gives the pods stable DNS names, and the Service
// per ordinal, <release>-dataset-worker-<i>, is the stable address of shard i (a DNS name that
// resolves to that one pod) that later releases route to.
func newCeleryWorkers(k *kit, s *settings, d *datasets) error {
	image := k.cfg.Images.DataladService
	set := k.labelSet(compWorker, image)
	workers := k.cfg.Workers
	sa, err := k.serviceAccount("dataset-worker", set)
	if err != nil {
		return err
	}
	governing, err := k.governingService(set)
	if err != nil {
		return err
	}
	for i := 0; i < workers; i++ {
		shard := k.objectName(compWorker) + "-" + strconv.Itoa(i)
		sel := set.Selector()
		sel[podNameLabel] = pulumi.String(shard)
		// Keyed by ordinal: the ordinal is the shard's identity (queue dataset-worker-<i>).
		if _, err := corev1.NewService(k.ctx, k.logical(compWorker+"-"+strconv.Itoa(i)), &corev1.ServiceArgs{
			Metadata: k.meta(shard, set),
			Spec:     &corev1.ServiceSpecArgs{ClusterIP: pulumi.String("None"), Selector: sel},
		}, k.serviceOpts()...); err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
	}

	pod := basePod(sa)
	// Celery finishes the running task on SIGTERM (warm shutdown); a git-annex operation killed
	// half-way leaves a dataset to repair.
	pod.TerminationGracePeriodSeconds = pulumi.Int(k.cfg.WorkerTerminationGracePeriodSeconds)
	pod.NodeSelector = k.args.StoragePool.NodeSelector()
	pod.Tolerations = k.args.StoragePool.Tolerations()
	pod.TopologySpreadConstraints = spread(set)
	pod.Volumes = corev1.VolumeArray{
		d.volume(),
		corev1.VolumeArgs{Name: pulumi.String(sshKeyVolume), Secret: &corev1.SecretVolumeSourceArgs{
			SecretName:  pulumi.String(k.objectName("ssh-key")),
			DefaultMode: pulumi.Int(sshKeyMode),
			Items: corev1.KeyToPathArray{corev1.KeyToPathArgs{
				Key: pulumi.String(sshKeySecretKey), Path: pulumi.String(sshKeySecretKey), Mode: pulumi.Int(sshKeyMode),
			}},
		}},
	}
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:    pulumi.String(k.objectName(compWorker)),
		Image:   pulumi.String(image),
		Command: pulumi.ToStringArray([]string{"/bin/sh", "-c", workerScript}),
		EnvFrom: s.envFrom(),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String(datasetsVolume), MountPath: pulumi.String(datasetsMountPath)},
			// A file at /datalad-key, where the image's ssh config looks (subPath, so the key
			// does not hide a directory).
			corev1.VolumeMountArgs{Name: pulumi.String(sshKeyVolume), MountPath: pulumi.String(sshKeyMountPath),
				SubPath: pulumi.String(sshKeySecretKey), ReadOnly: pulumi.Bool(true)},
		},
		ReadinessProbe:  brokerProbe(),
		Resources:       resources(k.cfg.Resources.Worker),
		SecurityContext: containerSecurity(),
	}}

	if err := k.workerStatefulSet(set, s, governing, pod, nil, append(s.deps(), s.sshKey)...); err != nil {
		return err
	}
	return k.disruptionBudget("dataset-worker", set)
}

// writerAnnotations are the annotations of a workload that writes datasets and runs replicas pods.
func writerAnnotations(replicas int) pulumi.StringMap {
	return pulumi.StringMap{ReplicasAnnotation: pulumi.String(strconv.Itoa(replicas))}
}

// governingService is the headless Service <release>-dataset-worker that gives the worker pods
// their DNS names (both charts' serviceName named a Service they never created).
func (k *kit) governingService(set labels.Set) (*corev1.Service, error) {
	return corev1.NewService(k.ctx, k.logical("dataset-worker"), &corev1.ServiceArgs{
		Metadata: k.meta(k.objectName(compWorker), set),
		Spec:     &corev1.ServiceSpecArgs{ClusterIP: pulumi.String("None"), Selector: set.Selector()},
	}, k.serviceOpts()...)
}

// workerStatefulSet is the StatefulSet <release>-dataset-worker of both generations: app.workers
// shards (the count DATALAD_WORKERS and the worker Services come from too), started together,
// rolled one at a time within the workers' grace period, and restarted on a change of the ConfigMap,
// the Secret or the SSH key (a subPath mount never sees a Secret update). withStorage adds what a
// generation keeps per pod (the current one's disks) and returns the options that go with it; nil
// for nothing. deps are what the pods read.
func (k *kit) workerStatefulSet(set labels.Set, s *settings, governing *corev1.Service, pod corev1.PodSpecArgs,
	withStorage func(*appsv1.StatefulSetSpecArgs) []pulumi.ResourceOption, deps ...pulumi.Resource) error {
	workers := k.cfg.Workers
	annotations := s.checksums()
	annotations[sshKeyChecksumKey] = s.sshKeySum
	// A rollout replaces the workers one at a time and each may take the whole grace period to
	// finish its task: wait for that instead of Pulumi's default 10 minutes.
	metaAnnotations := writerAnnotations(workers)
	metaAnnotations[timeoutAnnotation] = pulumi.String(strconv.Itoa(workers * (k.cfg.WorkerTerminationGracePeriodSeconds + 300)))
	meta := k.workloadMeta(k.objectName(compWorker), set, metaAnnotations)
	spec := &appsv1.StatefulSetSpecArgs{
		Replicas:    pulumi.Int(workers),
		ServiceName: governing.Metadata.Name().Elem(),
		Selector:    &metav1.LabelSelectorArgs{MatchLabels: set.Selector()},
		// Shards are independent: start them together rather than one after another.
		PodManagementPolicy:  pulumi.String("Parallel"),
		UpdateStrategy:       &appsv1.StatefulSetUpdateStrategyArgs{Type: pulumi.String("RollingUpdate")},
		RevisionHistoryLimit: pulumi.Int(revisionHistoryLimit),
		Template: &corev1.PodTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: set.Labels(), Annotations: annotations},
			Spec:     pod,
		},
	}
	opts := append(k.workloadOpts(deps...), createTimeout)
	if withStorage != nil {
		opts = append(opts, withStorage(spec)...)
	}
	_, err := appsv1.NewStatefulSet(k.ctx, k.logical("dataset-worker"), &appsv1.StatefulSetArgs{Metadata: meta, Spec: spec}, opts...)
	return err
}
