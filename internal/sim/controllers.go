package sim

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// The annotations of the volume lifecycle (k8s.io/component-helpers/storage/volume): the node the
// scheduler picked for a WaitForFirstConsumer claim, and the provisioner that made a volume.
const (
	annSelectedNode  = "volume.kubernetes.io/selected-node"
	annProvisionedBy = "pv.kubernetes.io/provisioned-by"
)

// IngressHostname is what the Ingress status writer publishes, as ingress-nginx does on kind
// (--publish-status-address=localhost).
const IngressHostname = "localhost"

// hostPathRoot is where the provisioner's volumes would live on a node.
const hostPathRoot = "/var/lib/openneuro-sim/volumes"

// RunControllers runs the provisioner and the Ingress status writer until ctx ends.
func RunControllers(ctx context.Context, cfg *rest.Config, log logr.Logger) error {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	ctrl.SetLogger(log)
	// One process may run the controllers of several clusters (tier 4 runs two): controller names
	// need only be unique within a manager here, not within the process.
	skipNameValidation := true
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                server.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Logger:                 log,
		Controller:             config.Controller{SkipNameValidation: &skipNameValidation},
	})
	if err != nil {
		return fmt.Errorf("sim: controllers: %w", err)
	}
	c := mgr.GetClient()
	if err := ctrl.NewControllerManagedBy(mgr).Named("provisioner").For(&corev1.PersistentVolumeClaim{}).
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			return reconcile.Result{}, provision(ctx, c, req.NamespacedName)
		})); err != nil {
		return err
	}
	if err := ctrl.NewControllerManagedBy(mgr).Named("reclaimer").For(&corev1.PersistentVolume{}).
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			return reconcile.Result{}, reclaim(ctx, c, req.Name)
		})); err != nil {
		return err
	}
	if err := ctrl.NewControllerManagedBy(mgr).Named("ingress-status").For(&networkingv1.Ingress{}).
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			return reconcile.Result{}, publishIngress(ctx, c, req.NamespacedName)
		})); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// provision does for a claim of a class of ours what an external provisioner does: once the claim
// has a node (WaitForFirstConsumer) or at once (Immediate), it creates a hostPath volume on that
// node, pre-bound to the claim; the PersistentVolume controller then binds the two. A bound claim
// whose request grew is resized (the external resizer's job).
func provision(ctx context.Context, c client.Client, key types.NamespacedName) error {
	var pvc corev1.PersistentVolumeClaim
	if err := c.Get(ctx, key, &pvc); err != nil {
		return client.IgnoreNotFound(err)
	}
	if pvc.DeletionTimestamp != nil || pvc.Spec.StorageClassName == nil {
		return nil
	}
	var sc storagev1.StorageClass
	if err := c.Get(ctx, types.NamespacedName{Name: *pvc.Spec.StorageClassName}, &sc); err != nil {
		return client.IgnoreNotFound(err)
	}
	if sc.Provisioner != Provisioner {
		return nil
	}
	if pvc.Spec.VolumeName != "" {
		return resize(ctx, c, &pvc, &sc)
	}
	node := pvc.Annotations[annSelectedNode]
	if node == "" && sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
		return nil // the scheduler has not picked a node yet
	}
	reclaimPolicy := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		reclaimPolicy = *sc.ReclaimPolicy
	}
	hostPathType := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "pvc-" + string(pvc.UID),
			Annotations: map[string]string{annProvisionedBy: Provisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   pvc.Spec.AccessModes,
			VolumeMode:                    pvc.Spec.VolumeMode,
			StorageClassName:              sc.Name,
			PersistentVolumeReclaimPolicy: reclaimPolicy,
			MountOptions:                  sc.MountOptions,
			ClaimRef: &corev1.ObjectReference{
				APIVersion: "v1", Kind: "PersistentVolumeClaim",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: path.Join(hostPathRoot, pvc.Namespace, pvc.Name+"-"+string(pvc.UID)), Type: &hostPathType,
			}},
		},
	}
	// A ReadWriteOnce volume lives on the node the scheduler picked, as a local or attached disk
	// does; a ReadWriteMany one is reachable from every node, as a network file system is.
	if node != "" && !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
			}}}},
		}}
	}
	if err := c.Create(ctx, pv); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("provision %s: %w", key, err)
	}
	return nil
}

// resize grows a bound volume to its claim's request, when the class allows expansion.
func resize(ctx context.Context, c client.Client, pvc *corev1.PersistentVolumeClaim, sc *storagev1.StorageClass) error {
	if sc.AllowVolumeExpansion == nil || !*sc.AllowVolumeExpansion {
		return nil
	}
	want := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	var pv corev1.PersistentVolume
	if err := c.Get(ctx, types.NamespacedName{Name: pvc.Spec.VolumeName}, &pv); err != nil {
		return client.IgnoreNotFound(err)
	}
	if pv.Annotations[annProvisionedBy] != Provisioner {
		return nil
	}
	if have := pv.Spec.Capacity[corev1.ResourceStorage]; have.Cmp(want) < 0 {
		pv.Spec.Capacity[corev1.ResourceStorage] = want
		if err := c.Update(ctx, &pv); err != nil {
			return fmt.Errorf("resize volume %s: %w", pv.Name, err)
		}
	}
	if have := pvc.Status.Capacity[corev1.ResourceStorage]; have.Cmp(want) < 0 {
		if pvc.Status.Capacity == nil {
			pvc.Status.Capacity = corev1.ResourceList{}
		}
		pvc.Status.Capacity[corev1.ResourceStorage] = want
		pvc.Status.AllocatedResources = corev1.ResourceList{corev1.ResourceStorage: want}
		pvc.Status.Conditions = nil
		if err := c.Status().Update(ctx, pvc); err != nil {
			return fmt.Errorf("resize claim %s/%s: %w", pvc.Namespace, pvc.Name, err)
		}
	}
	return nil
}

// reclaim deletes a released volume of ours whose policy is Delete (Retain keeps it, as on EBS).
func reclaim(ctx context.Context, c client.Client, name string) error {
	var pv corev1.PersistentVolume
	if err := c.Get(ctx, types.NamespacedName{Name: name}, &pv); err != nil {
		return client.IgnoreNotFound(err)
	}
	if pv.Annotations[annProvisionedBy] != Provisioner || pv.DeletionTimestamp != nil ||
		pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		return nil
	}
	if err := c.Delete(ctx, &pv); err != nil {
		return client.IgnoreNotFound(err)
	}
	return nil
}

// publishIngress sets an Ingress's load balancer status, as an ingress controller does once it
// serves it.
func publishIngress(ctx context.Context, c client.Client, key types.NamespacedName) error {
	var ing networkingv1.Ingress
	if err := c.Get(ctx, key, &ing); err != nil {
		return client.IgnoreNotFound(err)
	}
	if ing.DeletionTimestamp != nil || len(ing.Status.LoadBalancer.Ingress) > 0 {
		return nil
	}
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{Hostname: IngressHostname}}
	return c.Status().Update(ctx, &ing)
}

// startControllers runs the controllers inside this process (attached) or as their own detached
// process (make sim), unless that process runs already.
func (c *Cluster) startControllers(ctx context.Context, opts Options) error {
	if opts.Detach {
		p := process{"controllers", c.Dir}
		if p.running() {
			return nil
		}
		if len(opts.ControllersCommand) == 0 {
			return fmt.Errorf("sim: Detach needs a ControllersCommand")
		}
		return p.start(append(append([]string(nil), opts.ControllersCommand...), c.Kubeconfig), true)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.stopControllers = cancel
	c.controllersDone = make(chan struct{})
	logPath := process{"controllers", c.Dir}.logFile()
	if err := os.MkdirAll(path.Dir(logPath), 0o755); err != nil {
		cancel()
		return err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		cancel()
		return err
	}
	go func() {
		defer close(c.controllersDone)
		defer func() { _ = logFile.Close() }()
		if err := RunControllers(runCtx, c.Config, fileLogger(logFile)); err != nil {
			// The log file is the only place left to report to.
			_, _ = fmt.Fprintf(logFile, "%s controllers stopped: %v\n", time.Now().Format(time.RFC3339), err)
		}
	}()
	return nil
}

// fileLogger writes the controllers' log lines to f.
func fileLogger(f *os.File) logr.Logger {
	return funcr.New(func(prefix, args string) {
		_, _ = fmt.Fprintln(f, time.Now().Format(time.RFC3339), prefix, args) // a logger has no caller to fail
	}, funcr.Options{})
}
