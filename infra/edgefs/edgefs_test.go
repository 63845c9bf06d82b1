package edgefs_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/infra/edgefs"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/stacks"
)

const (
	crdType        = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
	clusterType    = "kubernetes:edgefs.rook.io/v1:Cluster"
	nfsType        = "kubernetes:edgefs.rook.io/v1:NFS"
	s3Type         = "kubernetes:edgefs.rook.io/v1:S3"
	deploymentType = "kubernetes:apps/v1:Deployment"
	serviceType    = "kubernetes:core/v1:Service"
	namespaceType  = "kubernetes:core/v1:Namespace"
)

func TestRBAC(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "staging", false)
	all := "get,list,watch,patch,create,update,delete"
	noPatch := "get,list,watch,create,update,delete"
	// kind namespace/name -> rules as "apiGroups | resources | verbs".
	want := map[string][]string{
		"ClusterRole rook-edgefs-cluster-mgmt": {
			" | secrets,pods,services,configmaps,endpoints | " + all,
			"apps | statefulsets,statefulsets/scale | create,delete,deletecollection,patch,update",
			"apps | deployments,daemonsets,replicasets,statefulsets | " + noPatch,
		},
		"Role rook-edgefs-system/rook-edgefs-system": {
			" | pods,configmaps | " + all,
			"apps | daemonsets | " + noPatch,
		},
		"ClusterRole rook-edgefs-global": {
			" | pods,nodes,nodes/proxy | get,list,watch,update,patch",
			" | events,persistentvolumes,persistentvolumeclaims | " + all,
			"storage.k8s.io | storageclasses | get,list,watch",
			"batch | jobs | " + noPatch,
			"edgefs.rook.io | * | *",
		},
		"Role rook-edgefs/rook-edgefs-cluster": {
			" | configmaps,endpoints | " + noPatch,
			"edgefs.rook.io | * | *",
			" | pods | get,list",
			"apps | deployments/scale | get,update", // upstream: extensions, gone since 1.16
		},
		// The discovery gate reads the rook-discover DaemonSet, nothing else.
		"Role rook-edgefs-system/rook-edgefs-discovery": {"apps | daemonsets | get,list,watch"},
	}
	// kind namespace/name -> "roleRef kind/name -> subject namespace/name".
	wantBindings := map[string]string{
		"RoleBinding rook-edgefs-system/rook-edgefs-system":    "Role/rook-edgefs-system -> rook-edgefs-system/rook-edgefs-system",
		"ClusterRoleBinding rook-edgefs-global":                "ClusterRole/rook-edgefs-global -> rook-edgefs-system/rook-edgefs-system",
		"RoleBinding rook-edgefs/rook-edgefs-cluster-mgmt":     "ClusterRole/rook-edgefs-cluster-mgmt -> rook-edgefs-system/rook-edgefs-system",
		"RoleBinding rook-edgefs/rook-edgefs-cluster":          "Role/rook-edgefs-cluster -> rook-edgefs/rook-edgefs-cluster",
		"RoleBinding rook-edgefs-system/rook-edgefs-discovery": "Role/rook-edgefs-discovery -> rook-edgefs-system/rook-edgefs-discovery",
	}
	gotRoles, gotBindings := map[string][]string{}, map[string]string{}
	for _, m := range l.manifests() {
		id := m["kind"].(string) + " " + nsName(m)
		switch m["kind"] {
		case "ClusterRole", "Role":
			for _, r := range asSlice(m["rules"]) {
				gotRoles[id] = append(gotRoles[id], strings.Join([]string{
					strings.Join(anyStrings(get(r, "apiGroups")), ","),
					strings.Join(anyStrings(get(r, "resources")), ","),
					strings.Join(anyStrings(get(r, "verbs")), ","),
				}, " | "))
			}
		case "ClusterRoleBinding", "RoleBinding":
			subjects := asSlice(m["subjects"])
			if len(subjects) != 1 || get(subjects[0], "kind") != "ServiceAccount" || get(m, "roleRef", "apiGroup") != "rbac.authorization.k8s.io" {
				t.Errorf("%s: subjects %v, roleRef %v", id, subjects, m["roleRef"])
				continue
			}
			gotBindings[id] = get(m, "roleRef", "kind").(string) + "/" + get(m, "roleRef", "name").(string) + " -> " +
				get(subjects[0], "namespace").(string) + "/" + get(subjects[0], "name").(string)
		}
		if strings.HasPrefix(m["apiVersion"].(string), "rbac.") && m["apiVersion"] != "rbac.authorization.k8s.io/v1" {
			t.Errorf("%s is %s", id, m["apiVersion"])
		}
		if m["kind"] == "PodSecurityPolicy" {
			t.Errorf("%s: PodSecurityPolicies were removed in Kubernetes 1.25", id)
		}
	}
	if !reflect.DeepEqual(gotRoles, want) {
		t.Errorf("roles:\n%s\nwant:\n%s", jsonOf(t, gotRoles), jsonOf(t, want))
	}
	if !reflect.DeepEqual(gotBindings, wantBindings) {
		t.Errorf("bindings:\n%s\nwant:\n%s", jsonOf(t, gotBindings), jsonOf(t, wantBindings))
	}
}

func nsName(m map[string]any) string {
	if ns, _ := get(m, "metadata", "namespace").(string); ns != "" {
		return ns + "/" + get(m, "metadata", "name").(string)
	}
	return get(m, "metadata", "name").(string)
}

func TestOperatorDeployment(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "staging", false, infratest.WithValue("edgefs.operatorResources.limits.memory", "768Mi"))
	d := l.manifest(t, "Deployment", "rook-edgefs-operator")
	pod := get(d, "spec", "template", "spec").(map[string]any)
	containers := asSlice(pod["containers"])
	if len(containers) != 1 {
		t.Fatalf("%d containers", len(containers))
	}
	c := containers[0].(map[string]any)
	for _, tc := range []struct {
		what      string
		got, want any
	}{
		{"namespace", get(d, "metadata", "namespace"), "rook-edgefs-system"},
		{"replicas", get(d, "spec", "replicas"), int64(1)},
		{"strategy (no leader election)", get(d, "spec", "strategy", "type"), "Recreate"},
		// The operator finds its own image by this container name to run rook-discover with it.
		{"container name", c["name"], "rook-edgefs-operator"},
		{"image", c["image"], "rook/edgefs:v1.5.12"},
		{"pull policy", c["imagePullPolicy"], "IfNotPresent"},
		{"args", c["args"], []any{"edgefs", "operator"}},
		{"resources", c["resources"], map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
			"limits":   map[string]any{"cpu": "500m", "memory": "768Mi"},
		}},
		{"service account", pod["serviceAccountName"], "rook-edgefs-system"},
		// Default nodes: nothing pins it or lets it onto the storage pool.
		{"tolerations", pod["tolerations"], nil},
		{"nodeSelector", pod["nodeSelector"], nil},
		{"affinity", pod["affinity"], nil},
		// The image has no health endpoint; kubecheck lists it as a documented exception.
		{"readinessProbe", c["readinessProbe"], nil},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	for k, v := range get(d, "spec", "selector", "matchLabels").(map[string]any) {
		if get(d, "spec", "template", "metadata", "labels", k) != v {
			t.Errorf("selector %s=%v does not match the pod labels", k, v)
		}
	}

	env := map[string]any{}
	var names []string
	for _, e := range asSlice(c["env"]) {
		names = append(names, get(e, "name").(string))
		if v, ok := get(e, "value").(string); ok {
			env[get(e, "name").(string)] = v
		} else {
			env[get(e, "name").(string)] = get(e, "valueFrom", "fieldRef", "fieldPath")
		}
	}
	wantNames := []string{"ROOK_LOG_LEVEL", "POD_NAME", "POD_NAMESPACE", "DISCOVER_TOLERATIONS", "DISCOVER_AGENT_NODE_AFFINITY"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("env = %v, want %v", names, wantNames)
	}
	for k, v := range map[string]any{
		"ROOK_LOG_LEVEL": "INFO", "POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace",
		// rook k8sutil.GenerateNodeAffinity: key=value[,value][;key=value]
		"DISCOVER_AGENT_NODE_AFFINITY": "openneuro.org/node-pool=edgefs-target",
	} {
		if env[k] != v {
			t.Errorf("env %s = %v, want %v", k, env[k], v)
		}
	}
	// rook k8sutil.YamlToTolerations: a YAML list of core/v1 tolerations; the pool's, exactly.
	var tolerations any
	if err := yaml.Unmarshal([]byte(env["DISCOVER_TOLERATIONS"].(string)), &tolerations); err != nil {
		t.Fatalf("DISCOVER_TOLERATIONS is not YAML: %v", err)
	}
	if ref := poolReference(t, l); !reflect.DeepEqual(tolerations, plainOf(t, ref["tolerations"])) {
		t.Errorf("DISCOVER_TOLERATIONS = %v, want the pool's %v", tolerations, ref["tolerations"])
	}

	t.Run("without pool", func(t *testing.T) {
		l := runLayer(t, "staging", true)
		c := get(l.manifest(t, "Deployment", "rook-edgefs-operator"), "spec", "template", "spec", "containers", 0)
		for _, e := range asSlice(get(c, "env")) {
			if strings.HasPrefix(get(e, "name").(string), "DISCOVER_") {
				t.Errorf("env %v without a storage pool", get(e, "name"))
			}
		}
	})
}

// poolReference is the pod spec the test program schedules onto the pool with the placement
// package's own NodeAffinity() and Tolerations().
func poolReference(t *testing.T, l layer) map[string]any {
	t.Helper()
	return l.find(t, "kubernetes:core/v1:Pod", "pool-reference").Plain(false)["spec"].(map[string]any)
}

func TestPlacement(t *testing.T) {
	t.Parallel()
	t.Run("pool", func(t *testing.T) {
		l := runLayer(t, "prod", false, withS3())
		ref := poolReference(t, l)
		want := map[string]any{"nodeAffinity": get(ref, "affinity", "nodeAffinity"), "tolerations": ref["tolerations"]}
		for _, tc := range []struct {
			what string
			got  any
		}{
			{"Cluster placement.all", get(l.manifest(t, "Cluster", "rook-edgefs"), "spec", "placement", "all")},
			{"NFS placement", get(l.manifest(t, "NFS", "datasets"), "spec", "placement")},
			{"S3 placement", get(l.manifest(t, "S3", "s3"), "spec", "placement")},
		} {
			if !reflect.DeepEqual(plainOf(t, tc.got), plainOf(t, want)) {
				t.Errorf("%s = %s\nwant the pool's %s", tc.what, jsonOf(t, tc.got), jsonOf(t, want))
			}
		}
		if keys := sortedKeys(get(l.manifest(t, "Cluster", "rook-edgefs"), "spec", "placement").(map[string]any)); !slices.Equal(keys, []string{"all"}) {
			t.Errorf("Cluster placement keys %v, want only all (merged into mgr, target and prepare)", keys)
		}
	})
	t.Run("no pool", func(t *testing.T) {
		l := runLayer(t, "staging", true, withS3())
		for _, obj := range []map[string]any{
			l.manifest(t, "Cluster", "rook-edgefs"), l.manifest(t, "NFS", "datasets"), l.manifest(t, "S3", "s3"),
		} {
			if p := get(obj, "spec", "placement"); p != nil {
				t.Errorf("%s has placement %v without a storage pool", obj["kind"], p)
			}
		}
	})
}

func TestPodSecurity(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "staging", false)
	for _, ns := range []string{"rook-edgefs-system", "rook-edgefs"} {
		labels := get(l.manifest(t, "Namespace", ns), "metadata", "labels")
		for _, mode := range []string{"enforce", "audit", "warn"} {
			if got := get(labels, "pod-security.kubernetes.io/"+mode); got != "privileged" {
				t.Errorf("%s pod-security %s = %v, want privileged (rook-discover mounts /dev privileged)", ns, mode, got)
			}
		}
	}
}

func TestClusterSpec(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "staging", false,
		infratest.WithValue("edgefs.sysRepCount", 2), infratest.WithValue("edgefs.failureDomain", "device"),
		infratest.WithValue("edgefs.resources.requests.memory", "2048Mi"))
	spec := get(l.manifest(t, "Cluster", "rook-edgefs"), "spec").(map[string]any)
	for _, tc := range []struct {
		key  string
		want any
	}{
		{"edgefsImageName", "edgefs/edgefs:1.3.35"},
		{"dataDirHostPath", "/var/lib/edgefs"},
		{"dataVolumeSize", nil}, // its mgr/gateway pods would wait for a PVC nobody creates
		{"serviceAccount", "rook-edgefs-cluster"},
		{"sysRepCount", int64(2)},
		{"failureDomain", "device"},
		{"resources", map[string]any{
			// 2048Mi is written as the operator will write it back.
			"requests": map[string]any{"cpu": "500m", "memory": "2Gi"},
			"limits":   map[string]any{"cpu": "2", "memory": "8Gi"},
		}},
		{"resourceProfile", "performance"},
		{"skipHostPrepare", nil},
	} {
		if !reflect.DeepEqual(spec[tc.key], tc.want) {
			t.Errorf("spec.%s = %v, want %v", tc.key, spec[tc.key], tc.want)
		}
	}
	for _, key := range []string{"useAllNodes", "useAllDevices"} {
		if get(spec, "storage", key) != true {
			t.Errorf("storage.%s = %v, want true", key, get(spec, "storage", key))
		}
	}
	if name := get(l.manifest(t, "Cluster", "rook-edgefs"), "metadata", "namespace"); name != "rook-edgefs" {
		t.Errorf("namespace %v", name)
	}
}

func TestResourceProfile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []infratest.Option
		want string
	}{
		{"default 2Gi/8Gi", nil, "performance"},
		{"limit below 8192Mi", []infratest.Option{infratest.WithValue("edgefs.resources.limits.memory", "4Gi")}, "embedded"},
		{"request below 2048Mi", []infratest.Option{infratest.WithValue("edgefs.resources.requests.memory", "1Gi")}, "embedded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := runLayer(t, "staging", false, tc.opts...)
			if got := get(l.manifest(t, "Cluster", "rook-edgefs"), "spec", "resourceProfile"); got != tc.want {
				t.Errorf("resourceProfile = %v, want %s", got, tc.want)
			}
		})
	}
	t.Run("below the embedded minimum", func(t *testing.T) {
		_, err := infratest.RunStack("staging", infratest.WithValue("edgefs.resources.limits.memory", "512Mi"))
		if err == nil || !strings.Contains(err.Error(), "edgefs.resources.limits.memory: 512Mi is below 1024Mi") {
			t.Errorf("err = %v, want the embedded minimum", err)
		}
	})
}

func TestConsistency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		opts    []infratest.Option
		config  map[string]any
		relaxed bool
	}{
		{"immediate by default", nil, map[string]any{"useAllSSD": "true", "sync": "1", "rtVerifyChid": "1"}, false},
		{"relaxed", []infratest.Option{relaxed()}, map[string]any{"useAllSSD": "true", "sync": "0", "rtVerifyChid": "0"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := runLayer(t, "prod", false, tc.opts...)
			spec := get(l.manifest(t, "Cluster", "rook-edgefs"), "spec").(map[string]any)
			if got := get(spec, "storage", "config"); !reflect.DeepEqual(got, tc.config) {
				t.Errorf("storage.config = %v, want %v", got, tc.config)
			}
			if _, ok := spec["commitNWait"]; ok {
				t.Errorf("commitNWait = %v; any value above 0 stops waiting for commits", spec["commitNWait"])
			}
			nfs := get(l.manifest(t, "NFS", "datasets"), "spec")
			if got := get(nfs, "relaxedDirUpdates"); got != tc.relaxed {
				t.Errorf("NFS relaxedDirUpdates = %v, want %v", got, tc.relaxed)
			}
			if got := get(nfs, "instances"); got != int64(1) {
				t.Errorf("NFS instances = %v, want 1", got)
			}
		})
	}
}

func TestS3(t *testing.T) {
	t.Parallel()
	t.Run("off by default", func(t *testing.T) {
		l := runLayer(t, "prod", false)
		if got := l.rec.ByType(s3Type); len(got) != 0 {
			t.Errorf("%d S3 CRs", len(got))
		}
		if cmd := setupCommand(t, l); strings.Contains(cmd, " s3") {
			t.Errorf("setup command creates S3: %s", cmd)
		}
	})
	t.Run("on", func(t *testing.T) {
		l := runLayer(t, "prod", false, withS3(), infratest.WithValue("edgefs.s3.instances", 2))
		s3 := l.manifest(t, "S3", "s3")
		if get(s3, "metadata", "namespace") != "rook-edgefs" || get(s3, "spec", "instances") != int64(2) {
			t.Errorf("S3 = %s", jsonOf(t, s3))
		}
		want := map[string]any{"requests": map[string]any{"cpu": "250m", "memory": "1Gi"}, "limits": map[string]any{"cpu": "1", "memory": "4Gi"}}
		if got := get(s3, "spec", "resources"); !reflect.DeepEqual(got, want) {
			t.Errorf("S3 resources = %v, want %v", got, want)
		}
		for _, step := range []string{"efscli service create s3 s3", "efscli service serve s3 openneuro/openneuro ", "efscli service config s3 X-Domain rook-edgefs-s3-s3.rook-edgefs.svc"} {
			if cmd := setupCommand(t, l); !strings.Contains(cmd+" ", step) {
				t.Errorf("setup command lacks %q: %s", step, cmd)
			}
		}
	})
}

func setupCommand(t *testing.T, l layer) string {
	t.Helper()
	out, err := internals.UnsafeAwaitOutput(context.Background(), l.result.SetupCommand)
	if err != nil || !out.Known {
		t.Fatalf("setupCommand: %v, known %v", err, out.Known)
	}
	return out.Value.(string)
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "staging", false)
	svc := l.find(t, serviceType, "edgefs-nfs-service")
	server, err := internals.UnsafeAwaitOutput(context.Background(), l.result.NFSServer)
	if err != nil {
		t.Fatal(err)
	}
	wantIP := get(svc.Outputs.Mappable(), "spec", "clusterIP")
	if server.Value != wantIP || wantIP == nil {
		t.Errorf("NFSServer = %v, want the Service's cluster IP %v", server.Value, wantIP)
	}
	if !slices.ContainsFunc(server.Dependencies, func(r pulumi.Resource) bool { return r == l.result.NFSService }) {
		t.Errorf("NFSServer does not depend on the NFS Service")
	}
	if l.result.NFSPath != "/openneuro/datasets" {
		t.Errorf("NFSPath = %q, want /<tenant>/<bucket>", l.result.NFSPath)
	}

	m := l.manifest(t, "Service", "openneuro-datasets-nfs")
	wantSelector := map[string]any{"app": "rook-edgefs-nfs", "rook_cluster": "rook-edgefs", "edgefs_svcname": "datasets", "edgefs_svctype": "nfs"}
	if got := get(m, "spec", "selector"); !reflect.DeepEqual(got, wantSelector) {
		t.Errorf("selector = %v, want the operator's gateway pod labels %v", got, wantSelector)
	}
	var ports []string
	for _, p := range asSlice(get(m, "spec", "ports")) {
		ports = append(ports, fmt.Sprintf("%v/%v", get(p, "protocol"), get(p, "port")))
	}
	var want []string
	for _, p := range []string{"2049", "32803", "20048", "111", "662", "875"} {
		want = append(want, "TCP/"+p, "UDP/"+p)
	}
	if !reflect.DeepEqual(ports, want) {
		t.Errorf("ports = %v, want %v", ports, want)
	}
	if get(m, "metadata", "annotations", "pulumi.com/skipAwait") != "true" {
		t.Errorf("the Service must not wait for gateway pods that only serve after the efscli setup")
	}

	wantCmd := strings.Join([]string{
		"kubectl -n rook-edgefs wait --for=jsonpath={.status.state}=Created cluster.edgefs.rook.io/rook-edgefs --timeout=30m",
		"kubectl -n rook-edgefs rollout status statefulset/rook-edgefs-target --timeout=30m",
		"kubectl -n rook-edgefs rollout status deploy/rook-edgefs-mgr --timeout=10m",
		"kubectl -n rook-edgefs exec deploy/rook-edgefs-mgr -c rook-edgefs-mgr -- toolbox efscli system init -f",
		"kubectl -n rook-edgefs exec deploy/rook-edgefs-mgr -c rook-edgefs-mgr -- toolbox efscli cluster create openneuro",
		"kubectl -n rook-edgefs exec deploy/rook-edgefs-mgr -c rook-edgefs-mgr -- toolbox efscli tenant create openneuro/openneuro",
		"kubectl -n rook-edgefs exec deploy/rook-edgefs-mgr -c rook-edgefs-mgr -- toolbox efscli bucket create openneuro/openneuro/datasets",
		"kubectl -n rook-edgefs exec deploy/rook-edgefs-mgr -c rook-edgefs-mgr -- toolbox efscli service create nfs datasets",
		"kubectl -n rook-edgefs exec deploy/rook-edgefs-mgr -c rook-edgefs-mgr -- toolbox efscli service serve datasets openneuro/openneuro/datasets",
	}, " && ")
	if got := setupCommand(t, l); got != wantCmd {
		t.Errorf("setup command:\n%s\nwant:\n%s", got, wantCmd)
	}
}

func TestOrdering(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "prod", false, withS3())
	urn := func(typ, name string) string { return l.find(t, typ, name).URN }
	var crds []string
	for _, r := range l.rec.ByType(crdType) {
		crds = append(crds, r.URN)
	}
	if len(crds) != 8 {
		t.Fatalf("%d CRDs", len(crds))
	}
	var rbac []string
	for _, r := range l.rec.Descendants(edgefs.Token) {
		// The operator's rights (the discovery gate's own come after the operator).
		if strings.Contains(r.Type, "rbac.authorization.k8s.io") && !strings.Contains(r.Name, "discovery") {
			rbac = append(rbac, r.URN)
		}
	}
	gate := urn("kubernetes:batch/v1:Job", "edgefs-discovery")
	operator := urn(deploymentType, "edgefs-operator")
	cluster := urn(clusterType, "edgefs-cluster")
	nfs := urn(nfsType, "edgefs-nfs")
	for _, tc := range []struct {
		what, typ, name string
		deps            []string
	}{
		{"operator", deploymentType, "edgefs-operator", slices.Concat(crds, rbac, []string{l.nodes})},
		// The discovery gate waits for the operator's rook-discover on every storage node, and the
		// Cluster for the gate.
		{"discovery gate", "kubernetes:batch/v1:Job", "edgefs-discovery", []string{operator, urn("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "edgefs-discovery-binding")}},
		{"Cluster", clusterType, "edgefs-cluster", slices.Concat(crds, rbac, []string{operator, gate, l.nodes})},
		{"NFS", nfsType, "edgefs-nfs", slices.Concat(crds, []string{operator, cluster, l.nodes})},
		{"S3", s3Type, "edgefs-s3", slices.Concat(crds, []string{operator, cluster, l.nodes})},
		{"NFS Service", serviceType, "edgefs-nfs-service", []string{nfs}},
	} {
		got := l.find(t, tc.typ, tc.name).DependsOn
		for _, d := range tc.deps {
			if !slices.Contains(got, d) {
				t.Errorf("%s does not depend on %s", tc.what, d)
			}
		}
	}
}

func TestProtect(t *testing.T) {
	t.Parallel()
	protected := map[string]bool{
		clusterType + " edgefs-cluster":             true,
		namespaceType + " edgefs-cluster-namespace": true,
		crdType + " edgefs-crd-clusters":            true,
	}
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			l := runLayer(t, stack, false, withS3())
			for _, r := range l.rec.Descendants(edgefs.Token) {
				want := stack == "prod" && protected[r.Type+" "+r.Name]
				if r.Protect != want {
					t.Errorf("%s %s protect = %v, want %v", r.Type, r.Name, r.Protect, want)
				}
				// A retained Cluster would outlive the operator that removes its finalizer.
				if r.RetainOnDelete {
					t.Errorf("%s %s is retained on delete", r.Type, r.Name)
				}
			}
		})
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "staging", false, withS3(),
		infratest.WithValue("edgefs.image", "registry.example.org/edgefs/edgefs@sha256:"+strings.Repeat("0123456789abcdef", 4)))
	component := map[string]string{
		"CustomResourceDefinition": "crd", "Deployment": "operator", "ClusterRole": "operator", "ClusterRoleBinding": "operator",
		"Cluster": "cluster", "NFS": "nfs", "S3": "s3", "Service": "nfs",
	}
	n := 0
	for _, m := range l.manifests() {
		n++
		id := m["kind"].(string) + " " + nsName(m)
		labels, _ := get(m, "metadata", "labels").(map[string]any)
		want := component[m["kind"].(string)]
		if want == "" {
			want = labels["app.kubernetes.io/component"].(string)
		}
		version := "v1.5.12"
		switch want {
		case "operator", "crd":
		case "discovery":
			version = "v1.35.4" // the kubectl image of the discovery gate
		default:
			version = "sha256-0123456789ab" // a digest-pinned image: no tag, no ':' in a label
		}
		for k, v := range map[string]string{
			"app.kubernetes.io/name": "rook-edgefs", "app.kubernetes.io/instance": "rook-edgefs",
			"app.kubernetes.io/component": want, "app.kubernetes.io/part-of": "openneuro",
			"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/version": version,
		} {
			if labels[k] != v {
				t.Errorf("%s: label %s = %v, want %s", id, k, labels[k], v)
			}
		}
		// Upstream operator.yaml labels its objects operator=rook, storage-backend=edgefs.
		upstream := labels["operator"] == "rook" && labels["storage-backend"] == "edgefs"
		if wantUpstream := want == "operator" && m["kind"] != "Namespace"; upstream != wantUpstream {
			t.Errorf("%s: upstream labels %v, want %v", id, upstream, wantUpstream)
		}
	}
	if n != 35 {
		t.Errorf("%d objects, want 8 CRDs, 2 namespaces, 2 accounts, 8 RBAC, operator, 3 CRs, Service, the target budget, the discovery gate (account, role, binding, Job) and 5 network policies", n)
	}
}

func TestComponentShape(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "prod", false, withS3())
	comp := l.rec.ByType(edgefs.Token)
	if len(comp) != 1 {
		t.Fatalf("%d components", len(comp))
	}
	seen := map[string]bool{}
	for _, r := range l.rec.Descendants(edgefs.Token) {
		if r.Parent != comp[0].URN {
			t.Errorf("%s %s: parent %s", r.Type, r.Name, r.Parent)
		}
		if r.Provider == "" || !strings.Contains(r.Provider, "pulumi:providers:kubernetes::k8s") {
			t.Errorf("%s %s: provider %q, want the layer's", r.Type, r.Name, r.Provider)
		}
		if !strings.HasPrefix(r.Name, "edgefs-") || seen[r.Type+r.Name] {
			t.Errorf("%s %s: name not edgefs-<role> or not unique", r.Type, r.Name)
		}
		seen[r.Type+r.Name] = true
	}
}

func TestArgsAreChecked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args func(cfg stacks.EdgeFS, p *kubernetes.Provider) *edgefs.Args
		want string
	}{
		{"nil", func(stacks.EdgeFS, *kubernetes.Provider) *edgefs.Args { return nil }, "edgefs: Args are required"},
		{"no provider", func(c stacks.EdgeFS, _ *kubernetes.Provider) *edgefs.Args { return &edgefs.Args{Config: c} }, "edgefs: Provider is required"},
		{"disabled", func(c stacks.EdgeFS, p *kubernetes.Provider) *edgefs.Args {
			c.Enabled = new(bool)
			return &edgefs.Args{Config: c, Provider: p}
		}, "Config.Enabled is false"},
		{"no defaults", func(_ stacks.EdgeFS, p *kubernetes.Provider) *edgefs.Args {
			on := true
			return &edgefs.Args{Config: stacks.EdgeFS{Enabled: &on}, Provider: p}
		}, "Config is not from stacks.Load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := infratest.RunStack("staging", infratest.WithProgram(func(ctx *pulumi.Context) error {
				cfg, err := stacks.Load(ctx)
				if err != nil {
					return err
				}
				p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
				if err != nil {
					return err
				}
				_, err = edgefs.New(ctx, "edgefs", tc.args(cfg.EdgeFS, p))
				return err
			}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestDiscoveryGateAndTargetBudget: the Cluster waits for a Job that waits for rook-discover to run
// on every node it targets, and no EdgeFS target may be evicted.
func TestDiscoveryGateAndTargetBudget(t *testing.T) {
	t.Parallel()
	l := runLayer(t, "prod", false)
	var job, pdb map[string]any
	for _, m := range l.manifests() {
		switch m["kind"] {
		case "Job":
			job = m
		case "PodDisruptionBudget":
			pdb = m
		}
	}
	if job == nil || pdb == nil {
		t.Fatalf("job %v budget %v", job != nil, pdb != nil)
	}
	spec := get(job, "spec", "template", "spec").(map[string]any)
	var steps []string
	for _, c := range append(asSlice(spec["initContainers"]), asSlice(spec["containers"])...) {
		steps = append(steps, strings.Join(anyStrings(get(c, "args")), " "))
		if get(c, "image") != "registry.k8s.io/kubectl:v1.35.4" {
			t.Errorf("image %v", get(c, "image"))
		}
	}
	want := []string{
		"wait --for=create -n rook-edgefs-system daemonset/rook-discover --timeout=1800s",
		"rollout status -n rook-edgefs-system daemonset/rook-discover --timeout=1800s",
	}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("discovery steps %q, want %q", steps, want)
	}
	if get(job, "metadata", "annotations", "pulumi.com/timeoutSeconds") != "3900" {
		t.Errorf("Pulumi waits %v for the gate", get(job, "metadata", "annotations", "pulumi.com/timeoutSeconds"))
	}
	if get(pdb, "metadata", "namespace") != "rook-edgefs" || fmt.Sprint(get(pdb, "spec", "maxUnavailable")) != "0" ||
		get(pdb, "spec", "selector", "matchLabels", "app") != "rook-edgefs-target" {
		t.Errorf("target budget %v", pdb)
	}
}
