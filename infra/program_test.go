package infra_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/bootstrap/setup"
	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/internal/deploygraph"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	stackcfg "github.com/openneuro/openneuro-infra/stacks"
)

func stacks(t *testing.T) []string {
	names, err := stackconfig.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestInvariants holds for every stack: one explicit Kubernetes provider, every resource inside an
// openneuro component, no two resources of the same type and name.
func TestInvariants(t *testing.T) {
	t.Parallel()
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rec := infratest.RunShared(t, stack)
			byURN := map[string]infratest.Resource{}
			for _, r := range rec.Resources() {
				byURN[r.URN] = r
			}
			providers := rec.ByType("pulumi:providers:kubernetes")
			if len(providers) != 1 {
				t.Fatalf("want exactly one Kubernetes provider, got %d", len(providers))
			}
			seen := map[string]bool{}
			for _, r := range rec.Resources() {
				key := r.Type + "::" + r.Name
				if seen[key] {
					t.Errorf("two resources share type and name %s", key)
				}
				seen[key] = true
				if !r.Custom || strings.HasPrefix(r.Type, "pulumi:providers:") && r.Parent == "" {
					continue
				}
				if strings.HasPrefix(r.Type, "kubernetes:") && !strings.HasPrefix(r.Provider, providers[0].URN+"::") {
					t.Errorf("%s does not use the program's Kubernetes provider (provider %q)", r.URN, r.Provider)
				}
				// Every object the provider applies forces its fields (kubeprovider.Annotations):
				// one without would fail its next change on a field a lost up's manager shares.
				if strings.HasPrefix(r.Type, "kubernetes:") && !strings.HasPrefix(r.Type, "kubernetes:helm.sh/") {
					md, _ := r.Plain(false)["metadata"].(map[string]any)
					if ann, _ := md["annotations"].(map[string]any); ann[kubeprovider.PatchForceAnnotation] != "true" {
						t.Errorf("%s lacks the annotation %s: true (kubeprovider.Annotations)", r.URN, kubeprovider.PatchForceAnnotation)
					}
				}
				// Walk up to the resource right under the stack (the stack itself is not recorded).
				top := r
				for {
					parent, ok := byURN[top.Parent]
					if !ok {
						break
					}
					top = parent
				}
				if !strings.HasPrefix(top.Type, "openneuro:") {
					t.Errorf("%s is not inside an openneuro: component (top ancestor %s)", r.URN, top.Type)
				}
			}
		})
	}
}

func dependsOn(deps map[string]map[string]bool, r infratest.Resource, on infratest.Resource) bool {
	return deps[r.URN][on.URN]
}

// TestDestroyOrder checks on the recorded dependency graph that `pulumi destroy`, which deletes in
// reverse dependency order, finishes: Ingresses before the load balancer controller (which deletes
// their ALBs and finalizers; a leftover ALB keeps its subnets and the VPC from being deleted), claims
// before the CSI drivers, EdgeFS CRs before the operator and CRDs, every Kubernetes object before the
// node groups, the node groups before the VPC.
func TestDestroyOrder(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rec := infratest.Run(t, stack, infratest.WithValue("app.datasetStore", "edgefs"), infratest.WithValue("edgefs.s3.enabled", true))
			deps := deploygraph.FromResources(rec.Resources()).Requires()
			controller := rec.Find("kubernetes:helm.sh/v3:Release", "ingress-controller")
			nodeGroups := rec.ByType("aws:eks/nodeGroup:NodeGroup")
			vpc := rec.ByType("aws:ec2/vpc:Vpc")
			if controller == nil || len(nodeGroups) != 2 || len(vpc) != 1 {
				t.Fatalf("controller %v, %d node groups, %d VPCs", controller != nil, len(nodeGroups), len(vpc))
			}
			for _, ing := range rec.ByType("kubernetes:networking.k8s.io/v1:Ingress") {
				if !dependsOn(deps, ing, *controller) {
					t.Errorf("Ingress %s is not deleted before the load balancer controller", ing.Name)
				}
			}
			var efsDriver *infratest.Resource
			for _, a := range rec.ByType("aws:eks/addon:Addon") {
				if a.Plain(false)["addonName"] == "aws-efs-csi-driver" {
					efsDriver = &a
				}
			}
			if efsDriver == nil {
				t.Fatal("no EFS CSI add-on")
			}
			claims := append(rec.ByType("kubernetes:core/v1:PersistentVolumeClaim"), rec.ByType("kubernetes:core/v1:PersistentVolumeClaimPatch")...)
			if len(claims) == 0 {
				t.Fatal("no volume claims")
			}
			for _, pvc := range claims {
				if !dependsOn(deps, pvc, *efsDriver) {
					t.Errorf("claim %s is not deleted before the EFS CSI driver", pvc.Name)
				}
			}
			nfsService := rec.Find("kubernetes:core/v1:Service", "edgefs-nfs-service")
			for _, pv := range rec.ByType("kubernetes:core/v1:PersistentVolume") {
				if nfsService == nil || !dependsOn(deps, pv, *nfsService) {
					t.Errorf("the NFS volume %s is not deleted before the NFS Service", pv.Name)
				}
			}
			operator := rec.Find("kubernetes:apps/v1:Deployment", "edgefs-operator")
			crds := rec.ByType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")
			var crs int
			for _, r := range rec.Resources() {
				if !strings.HasPrefix(r.Type, "kubernetes:edgefs.rook.io/v1:") {
					continue
				}
				crs++
				if operator == nil || !dependsOn(deps, r, *operator) {
					t.Errorf("EdgeFS %s is not deleted before the operator", r.Name)
				}
				for _, crd := range crds {
					if crd.Plain(false)["spec"].(map[string]any)["names"].(map[string]any)["kind"] == strings.TrimPrefix(r.Type, "kubernetes:edgefs.rook.io/v1:") && !dependsOn(deps, r, crd) {
						t.Errorf("EdgeFS %s is not deleted before its CRD %s", r.Name, crd.Name)
					}
				}
			}
			if crs < 3 {
				t.Errorf("want the Cluster, NFS and S3 resources, got %d EdgeFS resources", crs)
			}
			for _, r := range rec.Resources() {
				if !r.IsKubernetesObject() && r.Type != "kubernetes:helm.sh/v3:Release" {
					continue
				}
				for _, ng := range nodeGroups {
					if !dependsOn(deps, r, ng) {
						t.Errorf("%s %s is not deleted before node group %s", r.Type, r.Name, ng.Name)
					}
				}
			}
			for _, ng := range nodeGroups {
				if !dependsOn(deps, ng, vpc[0]) {
					t.Errorf("node group %s is not deleted before the VPC", ng.Name)
				}
			}
		})
	}
}

// protectedInProd is every resource prod protects: what holds data, and the control plane. Protect
// on anything else turns an ordinary change (removing an admin role, an add-on replacement) into a
// failed prod `pulumi up`. retain marks those also kept in AWS when the stack is destroyed.
var protectedInProd = []struct {
	typ, name string
	retain    bool
}{
	{"aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs", true},
	{"aws:eks/nodeGroup:NodeGroup", "cluster-edgefs-target", false}, // EdgeFS data on its NVMe disks
	{"aws:kms/key:Key", "cluster-secrets-key", true},
	{"aws:efs/fileSystem:FileSystem", "storage-efs", true},
	{"kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "edgefs-crd-clusters", false},
	{"kubernetes:core/v1:Namespace", "edgefs-cluster-namespace", false},
	// Never retained: a CR outliving its operator blocks its namespace's deletion on its finalizer;
	// its data stays on the nodes' disks.
	{"kubernetes:edgefs.rook.io/v1:Cluster", "edgefs-cluster", false},
	// The namespace holds the data claims, which Pulumi never deletes (TestDataClaimsAreNeverDeleted):
	// retained, a destroy leaves them in it.
	{"kubernetes:core/v1:Namespace", "openneuro-namespace", true},
	// The EdgeFS volume and claim only point at the export: deleting them deletes no data, and
	// enabling EdgeFS again creates them anew.
	{"kubernetes:core/v1:PersistentVolume", "openneuro-datasets-edgefs", false},
	{"kubernetes:core/v1:PersistentVolumeClaim", "openneuro-datasets-edgefs", false},
	{"aws:backup/vault:Vault", "operations-backup", true}, // the recovery points
	{"aws:kms/key:Key", "operations-backup-key", true},    // without it they cannot be read
}

// eksChildren are children pulumi-eks v3.9.1 registers for our arguments (nodejs/eks/cluster/
// cluster.ts): the mocks never see them, so the test applies the component's transforms to them.
var eksChildren = []struct{ typ, name string }{
	{"aws:eks/cluster:Cluster", "cluster-eks-eksCluster"},
	{"eks:index:ServiceRole", "cluster-eks-eksRole"},
	{"aws:iam/role:Role", "cluster-eks-eksRole-role"},
	{"aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cluster-eks-eksRole-4b490823"},
	{"aws:eks/accessEntry:AccessEntry", "cluster-eks-admin-Operators"},
	{"aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "cluster-eks-admin-Operators-cluster-admin"},
	{"aws:iam/openIdConnectProvider:OpenIdConnectProvider", "cluster-eks-oidcProvider"},
	{"eks:index:VpcCniAddon", "cluster-eks-vpc-cni"},
	{"aws:eks/addon:Addon", "cluster-eks-kube-proxy"},
	{"pulumi:providers:kubernetes", "cluster-eks-eks-k8s"},
}

// TestProtectsExactlyDataAndControlPlane: prod protects the data-holding resources and the EKS control
// plane and nothing else, also not the other children of pulumi-eks's component; staging (disposable
// by config) protects nothing.
func TestProtectsExactlyDataAndControlPlane(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"prod", "staging"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rec := infratest.Run(t, stack, infratest.WithValue("app.datasetStore", "edgefs"))
			want := map[string]bool{}
			if stack == "prod" {
				for _, p := range protectedInProd {
					want[p.typ+" "+p.name] = true
					r := rec.Find(p.typ, p.name)
					if r == nil {
						t.Errorf("no %s %s", p.typ, p.name)
					} else if r.RetainOnDelete != p.retain {
						t.Errorf("%s retainOnDelete=%v, want %v", p.name, r.RetainOnDelete, p.retain)
					}
				}
			}
			for _, r := range rec.Resources() {
				if r.Protect != want[r.Type+" "+r.Name] {
					t.Errorf("%s %s protect=%v, want %v", r.Type, r.Name, r.Protect, !r.Protect)
				}
				if r.RetainOnDelete && !r.Protect && r.Type != dataClaimType {
					t.Errorf("%s %s is retained on delete but not protected", r.Type, r.Name)
				}
			}
			comp := rec.Find("eks:index:Cluster", "cluster-eks")
			if comp == nil {
				t.Fatal("no pulumi-eks cluster")
			}
			for _, child := range eksChildren {
				got := rec.ChildOptions(comp.URN, child.typ, child.name).Protect
				if wantChild := stack == "prod" && child.typ == "aws:eks/cluster:Cluster"; got != wantChild {
					t.Errorf("pulumi-eks child %s %s protect=%v, want %v", child.typ, child.name, got, wantChild)
				}
			}
		})
	}
}

// dataClaimType is the type of the claims that hold data (infra/openneuro newDataClaim).
const dataClaimType = "kubernetes:core/v1:PersistentVolumeClaimPatch"

// TestDataClaimsAreNeverDeleted: in every stack and generation, the claims that hold data (the
// datasets, redis's, each worker's disk) are Patch resources retained on delete, so that no update
// and no destroy deletes one through Pulumi, and no plain claim is left but EdgeFS's, which holds
// nothing itself.
func TestDataClaimsAreNeverDeleted(t *testing.T) {
	t.Parallel()
	for variant, opts := range dataVariants(t) {
		rec := infratest.Run(t, variantStack(variant), opts...)
		claims := rec.ByType(dataClaimType)
		if len(claims) == 0 {
			t.Errorf("%s: no data claim", variant)
		}
		for _, c := range claims {
			if !c.RetainOnDelete || c.Protect {
				t.Errorf("%s: claim %s retainOnDelete=%v protect=%v, want retained and not protected (a Patch's protect guards nothing)",
					variant, c.Name, c.RetainOnDelete, c.Protect)
			}
		}
		for _, c := range rec.ByType("kubernetes:core/v1:PersistentVolumeClaim") {
			if c.Name != "openneuro-datasets-edgefs" {
				t.Errorf("%s: %s is a plain claim, which an update can replace and a destroy deletes", variant, c.Name)
			}
		}
		want := map[string]bool{"openneuro-redis-data": true}
		if variant == "current" {
			for i := 0; i < 4; i++ {
				want[fmt.Sprintf("openneuro-dataset-worker-disk-%d", i)] = true
			}
		} else {
			want["openneuro-datasets"] = true
		}
		for _, c := range claims {
			delete(want, c.Name)
		}
		for name := range want {
			t.Errorf("%s: no data claim %s", variant, name)
		}
	}
}

// TestLocalStackHasNoAWS: existing mode registers no AWS resource and no AWS provider.
func TestLocalStackHasNoAWS(t *testing.T) {
	t.Parallel()
	rec := infratest.RunShared(t, "local")
	for _, r := range rec.Resources() {
		if strings.HasPrefix(r.Type, "aws:") || strings.HasPrefix(r.Type, "eks:") || r.Type == "pulumi:providers:aws" {
			t.Errorf("the local stack registers %s %s", r.Type, r.Name)
		}
	}
	if len(rec.ByType("kubernetes:core/v1:Namespace")) == 0 {
		t.Error("the local stack deploys nothing")
	}
}

// TestLocalAndStagingDeployTheSameApplication: with the same sizes, the two modes differ only in
// storage, ingress and placement, so they cannot drift apart.
func TestLocalAndStagingDeployTheSameApplication(t *testing.T) {
	t.Parallel()
	same := []infratest.Option{infratest.WithValue("app.workers", 1), infratest.WithValue("app.replicas", map[string]any{"api": 1, "web": 1, "dataladService": 1}),
		infratest.WithValue("app.resources", map[string]any{}), infratest.WithValue("app.redis", map[string]any{"size": "1Gi"}),
		infratest.WithValue("app.environment", "development"), infratest.WithValue("app.autoscaling", map[string]any{"enabled": true})}
	local := appObjects(t, infratest.Run(t, "local", same...), "openneuro-local")
	staging := appObjects(t, infratest.Run(t, "staging", same...), "openneuro-staging")
	if len(local) < 25 {
		t.Fatalf("only %d application objects compared", len(local))
	}
	// EdgeFS's NFS volume and claim exist only where EdgeFS does (staging); storage.
	for _, key := range []string{"PersistentVolume/<release>-datasets-edgefs", "PersistentVolumeClaim/<release>-datasets-edgefs"} {
		delete(staging, key)
	}
	for key, l := range local {
		s, ok := staging[key]
		if !ok {
			t.Errorf("%s exists in local but not in staging", key)
			continue
		}
		if l != s {
			t.Errorf("%s differs between local and staging beyond storage/ingress/placement:\nlocal:   %s\nstaging: %s", key, l, s)
		}
	}
	for key := range staging {
		if _, ok := local[key]; !ok {
			t.Errorf("%s exists in staging but not in local", key)
		}
	}
}

// appObjects renders the application's Kubernetes objects with the release name normalised and the
// fields that legitimately differ between modes removed.
func appObjects(t *testing.T, rec *infratest.Recorder, release string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range rec.Manifests(true) {
		if !strings.HasPrefix(m.URN, "urn:pulumi:") || !strings.Contains(m.URN, "openneuro:openneuro:OpenNeuro$") {
			continue
		}
		obj := normalise(m.Object, release).(map[string]any)
		key := m.Kind() + "/" + strings.ReplaceAll(m.Name(), release, "<release>")
		switch m.Kind() {
		case "Ingress", "PersistentVolumeClaim", "PersistentVolume":
			delete(obj, "spec") // ingress class, annotations, rules; storage class and access mode
		case "NetworkPolicy":
			// The site's traffic comes from the ALB's VPC block or the controller's namespace.
			spec, _ := obj["spec"].(map[string]any)
			rules, _ := spec["ingress"].([]any)
			for _, r := range rules {
				from, _ := r.(map[string]any)["from"].([]any)
				for i, peer := range from {
					if _, pod := peer.(map[string]any)["podSelector"]; !pod {
						from[i] = "<ingress controller>"
					}
				}
			}
		case "ConfigMap", "Secret":
			for _, field := range []string{"data", "stringData"} {
				if d, ok := obj[field].(map[string]any); ok {
					for k := range d {
						d[k] = "<value>" // same keys; values are per stack
					}
				}
			}
		}
		if md, ok := obj["metadata"].(map[string]any); ok {
			delete(md, "annotations") // ALB health checks on Services, checksums on pods
			if labels, ok := md["labels"].(map[string]any); ok {
				delete(labels, "elbv2.k8s.aws/pod-readiness-gate-inject")
			}
		}
		b, _ := json.Marshal(obj)
		out[key] = string(b)
	}
	return out
}

// normalise replaces the release name and drops placement, pod annotations and resources.
func normalise(v any, release string) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			switch k {
			// affinity: the DataLad service joins the worker's node on a ReadWriteOnce volume.
			case "nodeSelector", "tolerations", "affinity", "resources", "volumeClaimTemplates":
				continue
			case "template":
				if tm, ok := e.(map[string]any); ok {
					if md, ok := tm["metadata"].(map[string]any); ok {
						delete(md, "annotations")
					}
				}
			}
			out[k] = normalise(e, release)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalise(e, release)
		}
		return out
	case string:
		return strings.ReplaceAll(t, release, "<release>")
	}
	return v
}

// TestDeployTimeEstimate: nothing is serialised that need not be; the first pulumi up of prod takes no
// longer than the control plane, one node group and the longest Kubernetes chain after them (plus
// the seconds of the cluster's own inputs: KMS key, IAM roles, subnets).
func TestDeployTimeEstimate(t *testing.T) {
	t.Parallel()
	rec := infratest.RunShared(t, "prod")
	g := deploygraph.FromResources(rec.Resources())
	est, err := g.Estimate()
	if err != nil {
		t.Fatal(err)
	}
	controlPlane := deploygraph.CreateSeconds("eks:index:Cluster", false)
	nodeGroup := deploygraph.CreateSeconds("aws:eks/nodeGroup:NodeGroup", true)
	k8sChain := g.LongestChain(func(n deploygraph.Node) bool { return strings.HasPrefix(n.Type, "kubernetes:") })
	var beforeCluster int
	for _, s := range est.CriticalPath {
		if s.Type == "eks:index:Cluster" {
			beforeCluster = s.Start
		}
	}
	if beforeCluster > 60 {
		t.Errorf("the control plane starts only after %ds: something slow is serialised before it (%v)", beforeCluster, est.CriticalPath)
	}
	limit := beforeCluster + controlPlane + nodeGroup + k8sChain
	if last := est.CriticalPath[len(est.CriticalPath)-1]; albAlarm(last.Name) {
		// The ALB's alarms can only be made once the ALB exists: the one step after the Ingress.
		limit += deploygraph.CreateSeconds(last.Type, true)
	}
	if est.CriticalSeconds > limit {
		t.Errorf("critical path %ds exceeds control plane + node group + longest Kubernetes chain = %ds:\n%v", est.CriticalSeconds, limit, est.CriticalPath)
	}
	for _, typ := range []string{"aws:efs/mountTarget:MountTarget", "aws:ec2/natGateway:NatGateway", "aws:kms/key:Key"} {
		for _, s := range est.CriticalPath {
			if s.Type == typ && s.End > beforeCluster+controlPlane {
				t.Errorf("%s is on the critical path after the control plane; it should be created while the control plane comes up", typ)
			}
		}
	}
	t.Logf("prod: %ds critical path, %ds serial", est.CriticalSeconds, est.SerialSeconds)
}

// TestStoragePoolTaint: the edgefs-target taint is tolerated by the EdgeFS pods and the dataset
// workers, and by nothing else; without the pool nothing tolerates it.
func TestStoragePoolTaint(t *testing.T) {
	t.Parallel()
	for _, stack := range stacks(t) {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rec := infratest.RunShared(t, stack)
			var tolerating []string
			for _, m := range rec.Manifests(false) {
				b, _ := json.Marshal(m.Object)
				if strings.Contains(string(b), `"tolerations":[{"effect":"NoSchedule","key":"openneuro.org/node-pool"`) {
					tolerating = append(tolerating, m.Kind()+"/"+m.Name())
				}
			}
			want := []string{"Cluster/rook-edgefs", "NFS/datasets", "StatefulSet/openneuro-" + stack + "-dataset-worker"}
			if stack == "local" {
				want = nil
			}
			if strings.Join(tolerating, ",") != strings.Join(want, ",") {
				t.Errorf("pods tolerating the storage pool: %v, want %v", tolerating, want)
			}
		})
	}
}

// TestDatasetsWiring: with EdgeFS, a PersistentVolume of its NFS export (server = the NFS
// Service's cluster IP, path = /<tenant>/<bucket>) and its own claim exist beside the claim of the
// efs class, so that app.datasetStore only decides which claim the pods mount: a switch rolls the
// pods and replaces nothing.
func TestDatasetsWiring(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"edgefs", "efs"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			rec := infratest.Run(t, "prod", infratest.WithValue("app.datasetStore", store))
			svc := rec.Find("kubernetes:core/v1:Service", "edgefs-nfs-service")
			pvs := rec.ByType("kubernetes:core/v1:PersistentVolume")
			if svc == nil || len(pvs) != 1 {
				t.Fatalf("NFS Service %v, %d PersistentVolumes", svc != nil, len(pvs))
			}
			clusterIP := svc.Outputs["spec"].ObjectValue()["clusterIP"].StringValue()
			nfs := pvs[0].Plain(false)["spec"].(map[string]any)["nfs"].(map[string]any)
			if nfs["server"] != clusterIP || nfs["path"] != "/openneuro/datasets" {
				t.Errorf("NFS volume %v, want server %s path /openneuro/datasets", nfs, clusterIP)
			}
			edgeClaim := claimOf(t, rec, "openneuro-datasets-edgefs")
			if edgeClaim["volumeName"] != pvs[0].Plain(false)["metadata"].(map[string]any)["name"] || edgeClaim["storageClassName"] != "" {
				t.Errorf("the EdgeFS claim is not bound to the NFS volume: %v", edgeClaim)
			}
			if claim := claimOf(t, rec, "openneuro-datasets"); claim["storageClassName"] != "efs" || claim["volumeName"] != nil {
				t.Errorf("the efs claim is %v, want class efs", claim)
			}
			mounted := map[string]string{"edgefs": "openneuro-prod-datasets-edgefs", "efs": "openneuro-prod-datasets"}[store]
			for _, name := range []string{"openneuro-dataset-worker", "openneuro-datalad-service"} {
				obj := rec.Find("kubernetes:apps/v1:StatefulSet", name)
				if obj == nil {
					obj = rec.Find("kubernetes:apps/v1:Deployment", name)
				}
				b, _ := json.Marshal(obj.Plain(false))
				if !strings.Contains(string(b), `"persistentVolumeClaim":{"claimName":"`+mounted+`"}`) || !strings.Contains(string(b), `"mountPath":"/datalad"`) {
					t.Errorf("%s does not mount %s at /datalad", name, mounted)
				}
			}
		})
	}
	// Without EdgeFS there is no NFS volume.
	if n := len(infratest.RunShared(t, "local").ByType("kubernetes:core/v1:PersistentVolume")); n != 0 {
		t.Errorf("without EdgeFS, %d PersistentVolumes exist", n)
	}
}

func claimOf(t *testing.T, rec *infratest.Recorder, name string) map[string]any {
	t.Helper()
	pvc := rec.Find("kubernetes:core/v1:PersistentVolumeClaim", name)
	if pvc == nil {
		pvc = rec.Find(dataClaimType, name)
	}
	if pvc == nil {
		t.Fatalf("no claim %s", name)
	}
	return pvc.Plain(false)["spec"].(map[string]any)
}

// TestNoDockerHubImageWithTheCache: with cluster.dockerHubCache, no image of any Kubernetes object or
// chart value (the dashboard's included) pulls from Docker Hub; without it, the app's do.
func TestNoDockerHubImageWithTheCache(t *testing.T) {
	t.Parallel()
	cache := infratest.WithValue("cluster.dockerHubCache", map[string]any{"credentialArn": "arn:aws:secretsmanager:us-west-2:488777458602:secret:ecr-pullthroughcache/docker-hub-AbCdEf"})
	dashboard := infratest.WithValue("cluster.dashboard.enabled", true)
	for _, withCache := range []bool{true, false} {
		opts := []infratest.Option{dashboard}
		if withCache {
			opts = append(opts, cache, infratest.WithoutValue("cluster.dockerHubAnonymous"))
		}
		rec := infratest.Run(t, "prod", opts...)
		var images, fromHub []string
		for _, r := range rec.Resources() {
			if !strings.HasPrefix(r.Type, "kubernetes:") {
				continue
			}
			walkImages(r.Plain(false), func(ref string) {
				images = append(images, ref)
				if stackcfg.IsDockerHub(ref) {
					fromHub = append(fromHub, r.Name+": "+ref)
				}
			})
		}
		if len(images) < 10 {
			t.Fatalf("only %d images found: %v", len(images), images)
		}
		if withCache && len(fromHub) > 0 {
			t.Errorf("with the cache, images still come from Docker Hub: %v", fromHub)
		}
		if !withCache && len(fromHub) == 0 {
			t.Error("without the cache no image comes from Docker Hub; the walk finds nothing")
		}
	}
}

// walkImages calls fn with every container image, EdgeFS image and chart image repository below v.
func walkImages(v any, fn func(string)) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if s, ok := e.(string); ok && (k == "image" || k == "edgefsImageName" || k == "repository") {
				fn(s)
			}
			walkImages(e, fn)
		}
	case []any:
		for _, e := range t {
			walkImages(e, fn)
		}
	}
}

// albAlarm reports whether the resource is one of the alarms on the ALB (its 5xx share, the unhealthy
// targets of each target group), which can only follow the ALB.
func albAlarm(name string) bool {
	return name == "operations-alb-5xx" || strings.HasPrefix(name, "operations-unhealthy-")
}

// TestOperationsOffTheCriticalPath: metrics, alarms, backups and the VPC endpoints add nothing to the
// first up but the seconds of the ALB's own alarms, which cannot exist before the ALB.
func TestOperationsOffTheCriticalPath(t *testing.T) {
	t.Parallel()
	estimate := func(opts ...infratest.Option) deploygraph.Estimate {
		est, err := deploygraph.FromResources(infratest.Run(t, "prod", opts...).Resources()).Estimate()
		if err != nil {
			t.Fatal(err)
		}
		return est
	}
	with := estimate(infratest.WithValue("network.endpoints.ecr", true))
	without := estimate(infratest.WithValue("operations.metrics.metricsServer", false), infratest.WithValue("operations.metrics.containerInsights", false),
		infratest.WithValue("operations.alarms.enabled", false), infratest.WithValue("operations.backup.enabled", false),
		infratest.WithValue("cluster.autoscaler.enabled", false), infratest.WithValue("network.flowLogs.enabled", false),
		infratest.WithValue("network.endpoints.s3", false), infratest.WithValue("app.autoscaling.enabled", false))
	alarm := deploygraph.CreateSeconds("aws:cloudwatch/metricAlarm:MetricAlarm", true)
	if with.CriticalSeconds > without.CriticalSeconds+alarm {
		t.Errorf("operations lengthen the first up from %ds to %ds:\n%v", without.CriticalSeconds, with.CriticalSeconds, with.CriticalPath)
	}
	for _, s := range with.CriticalPath {
		if strings.Contains(s.URN, "openneuro:operations:") && !albAlarm(s.Name) {
			t.Errorf("%s %s is on the critical path", s.Type, s.Name)
		}
		if s.Type == "aws:ec2/vpcEndpoint:VpcEndpoint" || s.Type == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler" {
			t.Errorf("%s %s is on the critical path", s.Type, s.Name)
		}
	}
	t.Logf("prod: %ds with operations, %ds without", with.CriticalSeconds, without.CriticalSeconds)
}

// TestDiscoveryGateOffTheCriticalPath: the Job that holds the EdgeFS Cluster back until rook-discover
// runs on every storage node is the one step issue #13 adds to a first up, and it lies on the storage
// chain, which ends before the site's: the first up takes as long as without EdgeFS.
func TestDiscoveryGateOffTheCriticalPath(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			estimate := func(opts ...infratest.Option) deploygraph.Estimate {
				rec := infratest.RunShared(t, stack)
				if len(opts) > 0 {
					rec = infratest.Run(t, stack, opts...)
				}
				est, err := deploygraph.FromResources(rec.Resources()).Estimate()
				if err != nil {
					t.Fatal(err)
				}
				return est
			}
			with := estimate()
			without := estimate(infratest.WithValue("cluster.edgefsNodeGroup.enabled", false), infratest.WithValue("edgefs.enabled", false))
			for _, s := range with.CriticalPath {
				if s.Type == "kubernetes:batch/v1:Job" || strings.Contains(s.URN, "openneuro:edgefs:") {
					t.Errorf("%s %s is on the critical path", s.Type, s.Name)
				}
			}
			if with.CriticalSeconds != without.CriticalSeconds {
				t.Errorf("EdgeFS changes the first up from %ds to %ds:\n%v", without.CriticalSeconds, with.CriticalSeconds, with.CriticalPath)
			}
			t.Logf("%s: %ds with EdgeFS and its discovery gate, %ds without", stack, with.CriticalSeconds, without.CriticalSeconds)
		})
	}
}

// TestProgramRegistersNothingOnBadConfig: bad input creates nothing.
func TestProgramRegistersNothingOnBadConfig(t *testing.T) {
	rec, err := infratest.RunStack("prod", infratest.WithValue("app.workers", 0))
	if err == nil {
		t.Fatal("the program accepted app.workers 0")
	}
	if n := len(rec.Resources()); n != 0 {
		t.Errorf("the program registered %d resources before failing validation", n)
	}
}

// TestFirstUpFitsTheDeploySession: the deploy role's session (which the deploy job asks for whole)
// covers the first up's critical path plus the longest single wait of the program (a create that
// times out after it), for staging and prod with app.dns (whose certificate validation may wait 75
// minutes).
func TestFirstUpFitsTheDeploySession(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"staging", "prod"} {
		rec := infratest.Run(t, stack, infratest.WithoutValue("app.certificateArn"), infratest.WithValue("app.dns", "Z0MOCKZONE"),
			infratest.WithHostedZone("Z0MOCKZONE", map[string]string{"staging": "sqm.io", "prod": "openneuro.org"}[stack], false))
		est, err := deploygraph.FromResources(rec.Resources()).Estimate()
		if err != nil {
			t.Fatal(err)
		}
		longest, wait := deploygraph.LongestWait(rec.Resources())
		if need := est.CriticalSeconds + wait; need > setup.DeploySessionSeconds {
			t.Errorf("%s: critical path %d s + the longest wait %d s (%s %s) = %d s exceed the %d s session", stack, est.CriticalSeconds, wait, longest.Type, longest.Name, need, setup.DeploySessionSeconds)
		} else {
			t.Logf("%s: %d s critical path + %d s longest wait (%s %s) = %d s of %d s", stack, est.CriticalSeconds, wait, longest.Type, longest.Name, need, setup.DeploySessionSeconds)
		}
	}
}

// TestLocalSecretsValidate runs scripts/local-secrets.sh and deploys the local stack (under mocks)
// with exactly its secrets: the quick start's development secrets must pass the program's validation.
func TestLocalSecretsValidate(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	out, err := exec.Command(filepath.Join(stackconfig.RepoRoot(), "scripts", "local-secrets.sh")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var secrets map[string]string
	if err := yaml.UnmarshalStrict(out, &secrets); err != nil {
		t.Fatalf("local-secrets.sh prints no valid secrets file: %v", err)
	}
	var opts []infratest.Option
	for _, spec := range stackcfg.SecretSpecs {
		opts = append(opts, infratest.WithoutValue(string(spec.Key)))
	}
	for key, value := range secrets {
		opts = append(opts, infratest.WithSecret(key, value))
	}
	rec := infratest.Run(t, "local", opts...)
	if len(rec.ByType("kubernetes:apps/v1:StatefulSet")) == 0 {
		t.Error("the local stack deployed no workers")
	}
	again, err := exec.Command(filepath.Join(stackconfig.RepoRoot(), "scripts", "local-secrets.sh")).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"JWT_SECRET", "FLOWER_BASIC_AUTH", "DATALAD_SSH_KEY"} {
		var second map[string]string
		_ = yaml.Unmarshal(again, &second)
		if second[key] == secrets[key] {
			t.Errorf("%s is the same in two runs; it must be generated, not fixed", key)
		}
	}
}
