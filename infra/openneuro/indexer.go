package openneuro

import (
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// indexerContainer is the chart's literal container name.
const indexerContainer = "openneuro-indexer"

// indexerDeadlineSeconds ends a run after 3 hours, before the next of the default schedule (every
// 4 hours) is due.
const indexerDeadlineSeconds = 3 * 3600

// newIndexer fills the external Elasticsearch from the public GraphQL API (chart section 2.10). It
// needs ELASTICSEARCH_CONNECTION; without it search is off and the job is not created, rather than
// failing every four hours. Jobs read the ConfigMap and Secret when they start, so no checksum.
func newIndexer(k *kit, s *settings) error { return newIndexerJob(k, s, nil) }

// newCurrentIndexer is the current chart's indexer (helm/openneuro/templates/indexer-job.yaml at
// v5.5.1), which sets the Node heap limit its 2048Mi memory allows.
func newCurrentIndexer(k *kit, s *settings) (part, error) {
	return part{}, newIndexerJob(k, s, corev1.EnvVarArray{corev1.EnvVarArgs{
		Name: pulumi.String("NODE_OPTIONS"), Value: pulumi.String("--max_old_space_size=2048"),
	}})
}

// newIndexerJob is the indexer CronJob with env beside the ConfigMap and Secret.
func newIndexerJob(k *kit, s *settings, env corev1.EnvVarArray) error {
	if !k.args.Secrets.Has(stacks.SecretElasticsearchConnection) {
		return nil
	}
	image := k.cfg.Images.Indexer
	set := k.labelSet(compIndexer, image)
	sa, err := k.serviceAccount("indexer", set)
	if err != nil {
		return err
	}
	pod := basePod(sa)
	pod.RestartPolicy = pulumi.String("OnFailure")
	pod.Containers = corev1.ContainerArray{corev1.ContainerArgs{
		Name:            pulumi.String(indexerContainer),
		Image:           pulumi.String(image),
		EnvFrom:         s.envFrom(),
		Env:             env,
		Resources:       resources(k.cfg.Resources.Indexer),
		SecurityContext: containerSecurity(),
	}}
	_, err = batchv1.NewCronJob(k.ctx, k.logical("indexer"), &batchv1.CronJobArgs{
		Metadata: k.workloadMeta(k.objectName(compIndexer), set, nil),
		Spec: &batchv1.CronJobSpecArgs{
			Schedule: pulumi.String(k.cfg.IndexerSchedule),
			// A run that overlaps the next would index the same data twice at once.
			ConcurrencyPolicy: pulumi.String("Forbid"),
			// A run missed by more than 5 minutes (controller down) waits for the next slot.
			StartingDeadlineSeconds:    pulumi.Int(300),
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(3),
			JobTemplate: &batchv1.JobTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: set.Labels()},
				Spec: &batchv1.JobSpecArgs{
					// A hung run would block every later one (concurrency Forbid): stop it.
					ActiveDeadlineSeconds: pulumi.Int(indexerDeadlineSeconds),
					// Keep a finished run a day for its logs, then let the cluster remove it.
					TtlSecondsAfterFinished: pulumi.Int(24 * 3600),
					Template: &corev1.PodTemplateSpecArgs{
						Metadata: &metav1.ObjectMetaArgs{Labels: set.Labels()},
						Spec:     pod,
					},
				},
			},
		},
	}, k.workloadOpts(s.deps()...)...)
	return err
}
