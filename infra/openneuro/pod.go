package openneuro

import (
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	k8score "k8s.io/api/core/v1"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/infra/labels"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Ports, mount paths and volume names (the 2020 chart, OpenNeuroOrg/openneuro
// helm/openneuro/templates/*-deployment.yaml, *-service.yaml, dataset-worker-stateful-set.yaml).
const (
	apiPort     = 8111
	dataladPort = 9877
	webPort     = 80
	flowerPort  = 5555
	redisPort   = 6379
	// httpPortName names the container port every HTTP Service targets.
	httpPortName = "http"

	datasetsVolume    = "datasets"
	datasetsMountPath = "/datalad"
	sshKeyVolume      = "ssh-key"
	// sshKeyMountPath is the IdentityFile of the datalad-service image's /root/.ssh/config.
	sshKeyMountPath = "/datalad-key"
	// sshKeyMode is 0400: ssh refuses a private key others can read.
	sshKeyMode = 0o400

	revisionHistoryLimit = 5

	// Well-known node labels (k8s.io/api/core/v1).
	hostnameLabel = k8score.LabelHostname
	zoneLabel     = k8score.LabelTopologyZone
)

// Pod template annotations that roll a workload when its configuration changes: the pods read
// envFrom and subPath-mounted files only at start.
const (
	configChecksumKey = "checksum/config"
	secretChecksumKey = "checksum/secret"
	sshKeyChecksumKey = "checksum/ssh-key"
)

// basePod is what every pod shares. No pod talks to the Kubernetes API, so none gets a token; the
// Docker-style service links are off because nothing reads them and every per-ordinal worker
// Service would add variables to every pod; seccomp RuntimeDefault is the profile the images run
// under in docker-compose (Docker's default profile), so it breaks none of them.
func basePod(serviceAccount string) corev1.PodSpecArgs {
	return corev1.PodSpecArgs{
		ServiceAccountName:           pulumi.String(serviceAccount),
		AutomountServiceAccountToken: pulumi.Bool(false),
		EnableServiceLinks:           pulumi.Bool(false),
		SecurityContext: &corev1.PodSecurityContextArgs{
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
	}
}

// containerSecurity forbids gaining privileges through setuid binaries (no_new_privs). Safe for
// every image here: they start as root and only ever drop privileges (nginx's workers), and none
// runs a setuid helper (ssh and git-annex in the worker do not). Redis sets its own, stricter one.
func containerSecurity() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{AllowPrivilegeEscalation: pulumi.Bool(false)}
}

// resources turns config requests and limits into the container's.
func resources(r stacks.Resources) *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(r.Requests.CPU), "memory": pulumi.String(r.Requests.Memory)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(r.Limits.CPU), "memory": pulumi.String(r.Limits.Memory)},
	}
}

// workloadOpts are a workload's options. Pods refer to the ConfigMap and Secrets by their fixed
// names (the chart's), so the dependency on them is explicit: they exist before the first pod
// starts and are deleted after the last. When the ingress controller admits the namespace's pods
// (ALB readiness gates), workloads also wait for it.
func (k *kit) workloadOpts(deps ...pulumi.Resource) []pulumi.ResourceOption {
	if e := k.args.Exposure; e.GatesPods && e.Controller != nil {
		deps = append(deps, e.Controller)
	}
	return []pulumi.ResourceOption{k.parent, pulumi.DependsOn(deps)}
}

// serviceOpts: the ingress controller the program installs admits Services and Ingresses, so they
// wait for it (and are deleted before it).
func (k *kit) serviceOpts(deps ...pulumi.Resource) []pulumi.ResourceOption {
	if c := k.args.Exposure.Controller; c != nil {
		deps = append(deps, c)
	}
	return []pulumi.ResourceOption{k.parent, pulumi.DependsOn(deps)}
}

// spread places replicas in different zones, then on different nodes, when it can
// (ScheduleAnyway): a zone or node loss then takes out one replica, not all.
func spread(set labels.Set) corev1.TopologySpreadConstraintArray {
	sel := &metav1.LabelSelectorArgs{MatchLabels: set.Selector()}
	return corev1.TopologySpreadConstraintArray{
		corev1.TopologySpreadConstraintArgs{MaxSkew: pulumi.Int(1), TopologyKey: pulumi.String(zoneLabel),
			WhenUnsatisfiable: pulumi.String("ScheduleAnyway"), LabelSelector: sel},
		corev1.TopologySpreadConstraintArgs{MaxSkew: pulumi.Int(1), TopologyKey: pulumi.String(hostnameLabel),
			WhenUnsatisfiable: pulumi.String("ScheduleAnyway"), LabelSelector: sel},
	}
}

// httpProbe probes path on the named HTTP port.
func httpProbe(path string, initialDelay, period, timeout int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		HttpGet:             &corev1.HTTPGetActionArgs{Path: pulumi.String(path), Port: pulumi.String(httpPortName)},
		InitialDelaySeconds: pulumi.Int(initialDelay),
		PeriodSeconds:       pulumi.Int(period),
		TimeoutSeconds:      pulumi.Int(timeout),
		FailureThreshold:    pulumi.Int(3),
	}
}

// listeningProbe checks that the process accepts connections on the named HTTP port: a liveness
// probe of the process alone. The readiness probe of the same container asks its health endpoint,
// so the two differ (a failing health check takes the pod out of its Service; only a dead or
// wedged listener restarts it).
func listeningProbe(initialDelay, period int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		TcpSocket:           &corev1.TCPSocketActionArgs{Port: pulumi.String(httpPortName)},
		InitialDelaySeconds: pulumi.Int(initialDelay),
		PeriodSeconds:       pulumi.Int(period),
		TimeoutSeconds:      pulumi.Int(5),
		FailureThreshold:    pulumi.Int(3),
	}
}

// shellProbe runs a /bin/sh command.
func shellProbe(script string, initialDelay, period, timeout, failures int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		Exec:                &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"/bin/sh", "-c", script})},
		InitialDelaySeconds: pulumi.Int(initialDelay),
		PeriodSeconds:       pulumi.Int(period),
		TimeoutSeconds:      pulumi.Int(timeout),
		FailureThreshold:    pulumi.Int(failures),
	}
}

// httpPort is the container port every HTTP Service targets by name.
func httpPort(port int) corev1.ContainerPortArray {
	return corev1.ContainerPortArray{corev1.ContainerPortArgs{
		Name: pulumi.String(httpPortName), ContainerPort: pulumi.Int(port), Protocol: pulumi.String("TCP"),
	}}
}

// drainPause keeps a terminating pod serving for a few seconds, until the load balancer and
// kube-proxy have stopped sending it new requests (endpoint removal is asynchronous).
func drainPause() *corev1.LifecycleArgs {
	return &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{
		Exec: &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"sleep", "10"})},
	}}
}

// serviceAccount creates the component's own ServiceAccount (without an API token) and returns
// its name.
func (k *kit) serviceAccount(role string, set labels.Set) (string, error) {
	name := k.objectName(set.Component)
	_, err := corev1.NewServiceAccount(k.ctx, k.logical(role), &corev1.ServiceAccountArgs{
		Metadata:                     k.meta(name, set),
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, k.parent)
	return name, err
}

// disruptionBudget lets a node drain evict one pod of the component at a time. Pods that are not
// ready anyway may always be evicted, so a crash-looping pod never blocks a node group update.
func (k *kit) disruptionBudget(role string, set labels.Set) error {
	_, err := policyv1.NewPodDisruptionBudget(k.ctx, k.logical(role), &policyv1.PodDisruptionBudgetArgs{
		Metadata: k.meta(k.objectName(set.Component), set),
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable:             pulumi.Int(1),
			UnhealthyPodEvictionPolicy: pulumi.String("AlwaysAllow"),
			Selector:                   &metav1.LabelSelectorArgs{MatchLabels: set.Selector()},
		},
	}, k.parent)
	return err
}

// healthCheck is what the ingress controller needs on a backend Service whose health endpoint is
// path (nil for controllers that need nothing).
func (k *kit) healthCheck(path string) pulumi.StringMap {
	if hc := k.args.Exposure.HealthCheck; hc != nil {
		return hc(path)
	}
	return nil
}

// httpService is the ClusterIP Service <release>-<component> of an HTTP component.
func (k *kit) httpService(role string, set labels.Set, port int, annotations pulumi.StringMap) (*corev1.Service, error) {
	meta := k.meta(k.objectName(set.Component), set)
	meta.Annotations = kubeprovider.Annotations(annotations)
	return corev1.NewService(k.ctx, k.logical(role), &corev1.ServiceArgs{
		Metadata: meta,
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: set.Selector(),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String(httpPortName), Port: pulumi.Int(port), TargetPort: pulumi.String(httpPortName), Protocol: pulumi.String("TCP"),
			}},
		},
	}, k.serviceOpts()...)
}

// surgeRollout replaces pods one at a time and removes an old pod only when its replacement is
// ready, so a rollout never lowers the serving capacity.
func surgeRollout() *appsv1.DeploymentStrategyArgs {
	return &appsv1.DeploymentStrategyArgs{
		Type:          pulumi.String("RollingUpdate"),
		RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{MaxSurge: pulumi.Int(1), MaxUnavailable: pulumi.Int(0)},
	}
}

// singletonDeployment is the Deployment <release>-<component> of exactly one pod, replaced by
// stopping the old pod before the new one starts (Recreate): the schedulers of both generations,
// which have no leader election, so two would queue every periodic task twice.
func (k *kit) singletonDeployment(role string, set labels.Set, s *settings, pod corev1.PodSpecArgs) error {
	_, err := appsv1.NewDeployment(k.ctx, k.logical(role), &appsv1.DeploymentArgs{
		Metadata: k.workloadMeta(k.objectName(set.Component), set, nil),
		Spec:     deploymentSpec(1, set, &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")}, s.checksums(), pod),
	}, k.workloadOpts(s.deps()...)...)
	return err
}

// deploymentSpec is the spec every Deployment here shares: the selector (immutable after the first
// deploy) from set's stable subset, the pod template labelled with set, and the revision history
// limit. A nil strategy keeps the API's default (RollingUpdate, maxSurge and maxUnavailable 25%);
// nil annotations leave the pod template without any.
func deploymentSpec(replicas int, set labels.Set, strategy *appsv1.DeploymentStrategyArgs, annotations pulumi.StringMap, pod corev1.PodSpecArgs) *appsv1.DeploymentSpecArgs {
	// Strategy and Annotations stay unset, not a typed nil inside the input interface, when not given.
	template := &metav1.ObjectMetaArgs{Labels: set.Labels()}
	if annotations != nil {
		template.Annotations = annotations
	}
	spec := &appsv1.DeploymentSpecArgs{
		Replicas:             pulumi.Int(replicas),
		Selector:             &metav1.LabelSelectorArgs{MatchLabels: set.Selector()},
		RevisionHistoryLimit: pulumi.Int(revisionHistoryLimit),
		Template:             &corev1.PodTemplateSpecArgs{Metadata: template, Spec: pod},
	}
	if strategy != nil {
		spec.Strategy = strategy
	}
	return spec
}

// perPodRolloutSeconds is how long one replica of a Deployment behind the ALB may take to roll: image
// pull, readiness, and (with the namespace's readiness gates) the ALB's health checks.
const perPodRolloutSeconds = 120

// CreateTimeout is how long an up waits for a workload with a rollout-sized timeout (rolledMeta,
// the dataset workers) to become ready when it creates it: its pods start together, so a first up
// with one that cannot start (a claim that never binds, a failing mount, an image it cannot pull)
// fails after this rather than after the hour a rollout of every worker may take. The engine's
// per-operation timeout wins over the pulumi.com/timeoutSeconds annotation in the provider
// (metadata.TimeoutDuration), which still bounds updates.
const CreateTimeout = "15m"

// createTimeout is CreateTimeout as a resource option.
var createTimeout = pulumi.Timeouts(&pulumi.CustomTimeouts{Create: CreateTimeout})

// rolledMeta is the metadata of a Deployment rolled one pod at a time: Pulumi waits for the whole
// rollout (5 API replicas behind ALB readiness gates exceed its default 10 minutes) instead of
// failing the update half-way. Its options take createTimeout.
func (k *kit) rolledMeta(name string, set labels.Set, replicas int, annotations pulumi.StringMap) *metav1.ObjectMetaArgs {
	all := pulumi.StringMap{timeoutAnnotation: pulumi.String(strconv.Itoa(300 + replicas*perPodRolloutSeconds))}
	for key, v := range annotations {
		all[key] = v
	}
	return k.workloadMeta(name, set, all)
}
