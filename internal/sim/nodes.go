package sim

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/stacks"
)

// kwokNodeAnnotation marks the nodes kwok manages (its --manage-nodes-with-annotation-selector).
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// Zones are the simulated availability zones, one node of each pool in each.
var Zones = []string{"zone-a", "zone-b", "zone-c"}

// DefaultStorageClass is the cluster's default StorageClass, served by the provisioner of
// controllers.go, as kind's "standard" class is served by its local-path provisioner.
const DefaultStorageClass = "standard"

// Provisioner is the provisioner name of DefaultStorageClass.
const Provisioner = "sim.openneuro.org/hostpath"

// maxPods is the pod limit of both instance types with the VPC CNI (EKS eni-max-pods: 29 for
// m5a.large and i3en.large).
const maxPods = 29

// nodePool is one simulated node group.
type nodePool struct {
	name         string
	instanceType string
	size         int
	labels       map[string]string
	taints       []corev1.Taint
}

// nodePools are the two node groups of an EKS stack, with the program's own label and taint on the
// storage pool.
func nodePools() []nodePool {
	storage := placement.StoragePool()
	return []nodePool{
		{name: "default", instanceType: stacks.DefaultPoolInstanceType, size: stacks.DefaultPoolSize},
		{
			name: storage.Value, instanceType: stacks.StoragePoolInstanceType, size: stacks.StoragePoolSize,
			labels: storage.NodeLabels(),
			taints: []corev1.Taint{{Key: storage.Key, Value: storage.Value, Effect: corev1.TaintEffectNoSchedule}},
		},
	}
}

// Nodes returns the simulated nodes: per pool, one node in each zone in turn.
func Nodes() []*corev1.Node {
	var nodes []*corev1.Node
	for _, pool := range nodePools() {
		milliCPU, memMi, ok := stacks.PodCapacity(pool.instanceType)
		if !ok {
			panic("sim: no capacity for " + pool.instanceType)
		}
		allocatable := corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewMilliQuantity(milliCPU, resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(memMi<<20, resource.BinarySI),
			corev1.ResourcePods:   *resource.NewQuantity(maxPods, resource.DecimalSI),
		}
		for i := 0; i < pool.size; i++ {
			zone := Zones[i%len(Zones)]
			name := fmt.Sprintf("%s-%d", pool.name, i+1)
			labels := map[string]string{
				corev1.LabelHostname:           name,
				corev1.LabelOSStable:           "linux",
				corev1.LabelArchStable:         "amd64",
				corev1.LabelInstanceTypeStable: pool.instanceType,
				corev1.LabelTopologyZone:       zone,
				corev1.LabelTopologyRegion:     "sim",
				"type":                         "kwok",
			}
			for k, v := range pool.labels {
				labels[k] = v
			}
			nodes = append(nodes, &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{
					Name:        name,
					Labels:      labels,
					Annotations: map[string]string{kwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
				},
				Spec: corev1.NodeSpec{Taints: pool.taints},
				Status: corev1.NodeStatus{
					Capacity: allocatable, Allocatable: allocatable,
					NodeInfo: corev1.NodeSystemInfo{OperatingSystem: "linux", Architecture: "amd64"},
				},
			})
		}
	}
	return nodes
}

// ensureClusterObjects creates what a fresh kind cluster has before anyone deploys: the nodes and
// the default StorageClass. Existing objects are left as they are.
func ensureClusterObjects(ctx context.Context, client kubernetes.Interface) error {
	for _, n := range Nodes() {
		if _, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("sim: node %s: %w", n.Name, err)
		}
	}
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	reclaim := corev1.PersistentVolumeReclaimDelete
	expand := true
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        DefaultStorageClass,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:          Provisioner,
		VolumeBindingMode:    &wait,
		ReclaimPolicy:        &reclaim,
		AllowVolumeExpansion: &expand,
	}
	if _, err := client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("sim: storage class: %w", err)
	}
	return nil
}

func waitNodesReady(ctx context.Context, client kubernetes.Interface, timeout time.Duration) error {
	want := Nodes()
	return waitFor(ctx, timeout, func() error {
		var notReady []string
		for _, n := range want {
			got, err := client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !nodeReady(got) {
				notReady = append(notReady, n.Name)
			}
		}
		if len(notReady) > 0 {
			return fmt.Errorf("nodes not Ready: %s", strings.Join(notReady, ", "))
		}
		return nil
	})
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
