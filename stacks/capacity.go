package stacks

import (
	"fmt"
	"sort"
	"strings"
)

// instanceSizes are the vCPUs and memory (GiB) of the instance-store types the storage pool is made
// of, and of the default pool's m5a.large (EC2 instance type specifications). Other types are not
// checked.
var instanceSizes = map[string]instanceSize{
	"m5a.large": {2, 8}, "m5a.xlarge": {4, 16}, "m5a.2xlarge": {8, 32},
	// Memory-optimised sizes that hold a current-generation dataset worker pod (4 vCPU, 20Gi).
	"r5.xlarge": {4, 32}, "r5.2xlarge": {8, 64}, "r5a.xlarge": {4, 32}, "r5a.2xlarge": {8, 64},
	"i3en.large": {2, 16}, "i3en.xlarge": {4, 32}, "i3en.2xlarge": {8, 64}, "i3en.3xlarge": {12, 96},
	"i3en.6xlarge": {24, 192}, "i3en.12xlarge": {48, 384}, "i3en.24xlarge": {96, 768},
	"i4i.large": {2, 16}, "i4i.xlarge": {4, 32}, "i4i.2xlarge": {8, 64}, "i4i.4xlarge": {16, 128},
	"i3.large": {2, 15}, "i3.xlarge": {4, 30}, "i3.2xlarge": {8, 61}, "i3.4xlarge": {16, 122},
}

// Per-node overheads on EKS: the kubelet's CPU reservation (6% of the first core, 1% of the second,
// 0.5% of the next two, 0.25% beyond), memory for the kubelet and eviction (about 1Gi on these
// sizes), and the DaemonSets every node runs (aws-node, kube-proxy, EFS and EBS CSI node plugins).
const (
	daemonSetMilliCPU = 150
	daemonSetMemMi    = 300
	systemMemMi       = 1024
)

func reservedMilliCPU(vcpu int) int {
	r := 60
	if vcpu >= 2 {
		r += 10
	}
	if vcpu > 2 {
		r += 5 * (min(vcpu, 4) - 2)
	}
	if vcpu > 4 {
		r += (vcpu - 4) * 25 / 10
	}
	return r
}

type instanceSize struct{ vcpu, memGiB int }

// podMilliCPU and podMemMi are what one node of this size leaves for the program's pods.
func (s instanceSize) podMilliCPU() int64 {
	return int64(s.vcpu*1000 - reservedMilliCPU(s.vcpu) - daemonSetMilliCPU)
}
func (s instanceSize) podMemMi() int64 { return int64(s.memGiB*1024 - systemMemMi - daemonSetMemMi) }

// PodCapacity returns the CPU (millicores) and memory (MiB) that one EKS node of instanceType leaves
// for the program's pods, after the kubelet's reservation and the EKS DaemonSets; ok is false for
// a type the table does not know. The simulated cluster's nodes have exactly this allocatable, so
// its scheduler checks the same arithmetic as this validation.
func PodCapacity(instanceType string) (milliCPU, memMi int64, ok bool) {
	s, ok := instanceSizes[instanceType]
	if !ok {
		return 0, 0, false
	}
	return s.podMilliCPU(), s.podMemMi(), true
}

// Container Insights (amazon-cloudwatch-observability) runs two DaemonSets on every node, the storage
// nodes included (they tolerate every taint, and at priority system-node-critical they preempt the
// workers): the CloudWatch agent requests 250m CPU and 128Mi, Fluent Bit 50m and 25Mi
// (aws-observability/helm-charts, charts/amazon-cloudwatch-observability/values.yaml at tag
// amazon-cloudwatch-observability-4.10.0: agent.resources.requests and
// containerLogs.fluentBit.resources.requests; the add-on's default v4.10.0-eksbuild.1 is that chart).
// Its GPU and Neuron exporters only run on GPU and Neuron instance types.
const (
	containerInsightsMilliCPU = 250 + 50
	containerInsightsMemMi    = 128 + 25
)

// podNeed is what must be scheduled on the storage pool.
type podNeed struct {
	what        string
	milliCPU    int64
	memMi       int64
	pinnedToAll bool // one per node (the EdgeFS target StatefulSet)
}

// validateWorkerNodes checks that one dataset worker pod of the current generation (its DataLad
// service and taskiq containers) fits on a node of the default node group, where it runs in eks
// mode; otherwise every worker stays Pending and the first pulumi up waits for them until it fails.
func validateWorkerNodes(v *validator, c Cluster, o OpenNeuro) {
	if c.Mode != ModeEKS || o.Generation != GenCurrent {
		return
	}
	size, known := instanceSizes[c.DefaultNodeGroup.InstanceType]
	if !known {
		return
	}
	var cpu, mem int64
	for _, r := range []Resources{o.Resources.Worker, o.Resources.TaskiqWorker} {
		qc, errC := parseQuantity(r.Requests.CPU)
		qm, errM := parseQuantity(r.Requests.Memory)
		if errC != nil || errM != nil {
			return // reported by the resources' own validation
		}
		cpu += qc.MilliValue()
		mem += qm.Value() >> 20
	}
	if cpu > size.podMilliCPU() || mem > size.podMemMi() {
		v.addf("cluster.defaultNodeGroup.instanceType", "a %s node leaves %dm CPU and %dMi for pods, but one dataset worker pod requests %dm and %dMi (app.resources.worker + taskiqWorker); use a larger type such as r5.2xlarge, or lower those requests",
			c.DefaultNodeGroup.InstanceType, size.podMilliCPU(), size.podMemMi(), cpu, mem)
		return
	}
	// Every worker runs in app.workerZone (its disk is a zonal EBS volume). The group spreads its
	// nodes evenly over the ZoneCount zones, so minSize/ZoneCount of them are surely in that zone;
	// the Cluster Autoscaler cannot be relied on to add a node in one given zone of a multi-zone
	// group (it models the group as one kind of node).
	perNode := min(size.podMilliCPU()/cpu, size.podMemMi()/mem)
	inZone := int64(c.DefaultNodeGroup.MinSize / ZoneCount)
	if inZone*perNode < int64(o.Workers) {
		need := (int64(o.Workers) + perNode - 1) / perNode * ZoneCount
		v.addf("cluster.defaultNodeGroup.minSize", "the %d dataset workers all run in app.workerZone, where %d of the group's %d nodes are sure to be (minSize over %d zones), and a %s node holds %d worker pod(s); set minSize (and desiredSize) to at least %d, use a larger instance type, or lower app.workers",
			o.Workers, inZone, c.DefaultNodeGroup.MinSize, ZoneCount, c.DefaultNodeGroup.InstanceType, perNode, need)
	}
}

// validateStoragePool checks that everything pinned to the edgefs-target nodes fits on them: one
// EdgeFS target per node, the dataset workers, and the NFS/S3 gateways, next to the Container
// Insights DaemonSets when they run. Otherwise the first pulumi up waits an hour for a worker that
// stays Pending, or EdgeFS runs below its replica count.
func validateStoragePool(v *validator, c Cluster, e EdgeFS, o OpenNeuro, ops Operations) {
	if c.Mode != ModeEKS || !c.HasStoragePool() {
		return // an existing cluster's node sizes are not known here
	}
	size, known := instanceSizes[c.EdgeFSNodeGroup.InstanceType]
	if !known {
		return
	}
	var needs []podNeed
	add := func(what string, n int, r Resources, perNode bool) {
		cpu, errC := parseQuantity(r.Requests.CPU)
		mem, errM := parseQuantity(r.Requests.Memory)
		if errC != nil || errM != nil {
			return // reported by the resources' own validation
		}
		for i := 0; i < n; i++ {
			needs = append(needs, podNeed{what, cpu.MilliValue(), mem.Value() >> 20, perNode})
		}
	}
	if ops.ContainerInsightsEnabled() {
		needs = append(needs, podNeed{"Container Insights agent", containerInsightsMilliCPU, containerInsightsMemMi, true})
	}
	if e.IsEnabled() {
		add("EdgeFS target", 1, e.Resources, true)
		add("NFS gateway", e.NFS.Instances, e.NFS.Resources, false)
		if e.S3.Enabled {
			add("S3 gateway", e.S3.Instances, e.S3.Resources, false)
		}
	}
	add("dataset worker", o.Workers, o.Resources.Worker, false)

	nodes := c.EdgeFSNodeGroup.DesiredSize
	freeCPU := make([]int64, nodes)
	freeMem := make([]int64, nodes)
	for i := range freeCPU {
		freeCPU[i], freeMem[i] = size.podMilliCPU(), size.podMemMi()
	}
	// Targets first (one per node), then the rest largest first: first-fit decreasing.
	sort.SliceStable(needs, func(i, j int) bool {
		if needs[i].pinnedToAll != needs[j].pinnedToAll {
			return needs[i].pinnedToAll
		}
		return needs[i].milliCPU > needs[j].milliCPU
	})
	var unplaced []string
	for _, n := range needs {
		if n.pinnedToAll {
			for i := range freeCPU {
				freeCPU[i] -= n.milliCPU
				freeMem[i] -= n.memMi
			}
			continue
		}
		placed := false
		for i := range freeCPU {
			if freeCPU[i] >= n.milliCPU && freeMem[i] >= n.memMi {
				freeCPU[i] -= n.milliCPU
				freeMem[i] -= n.memMi
				placed = true
				break
			}
		}
		if !placed {
			unplaced = append(unplaced, n.what)
		}
	}
	for i := range freeCPU {
		if freeCPU[i] < 0 || freeMem[i] < 0 {
			unplaced = append(unplaced, "EdgeFS target")
			break
		}
	}
	if len(unplaced) > 0 {
		daemons := ""
		if ops.ContainerInsightsEnabled() {
			daemons = ", the Container Insights agent and Fluent Bit on every node"
		}
		v.addf("cluster.edgefsNodeGroup", "%d x %s cannot hold what must run there (one EdgeFS target per node, %d dataset workers, the NFS/S3 gateways%s): no room for %s; use a larger instance type or more nodes, or lower app.workers or the requests in edgefs.resources / app.resources.worker",
			nodes, c.EdgeFSNodeGroup.InstanceType, o.Workers, daemons, strings.Join(dedupe(unplaced), ", "))
	}
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]int{}
	for _, x := range s {
		seen[x]++
		if seen[x] == 1 {
			out = append(out, x)
		}
	}
	for i, x := range out {
		if seen[x] > 1 {
			out[i] = fmt.Sprintf("%d %ss", seen[x], x)
		}
	}
	return out
}
