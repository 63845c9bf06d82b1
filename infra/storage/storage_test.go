package storage_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra"
	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/infra/storage"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/stacks"
)

const (
	fsType    = "aws:efs/fileSystem:FileSystem"
	mtType    = "aws:efs/mountTarget:MountTarget"
	addonType = "aws:eks/addon:Addon"
	scType    = "kubernetes:storage.k8s.io/v1:StorageClass"
	ruleType  = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
)

var allStacks = []string{"staging", "prod"}

type result struct {
	rec        *infratest.Recorder
	cfg        *stacks.Config
	drivers    int
	privateIDs []string
	nodeGroups []string
	eks        *infratest.Resource
}

// run runs the platform layers for a stack with its real config, wired as the program wires them.
// The run without options is made once per stack and shared by the tests, which only read it.
func run(t *testing.T, stack string, opts ...infratest.Option) *result {
	t.Helper()
	return shared.Run(t, stack, opts, func(o ...infratest.Option) *result { return runFresh(t, stack, o...) })
}

// shared are the runs of the stacks as committed.
var shared infratest.Memo[*result]

// runFresh always runs the program; TestDeterministic compares two such runs.
func runFresh(t *testing.T, stack string, opts ...infratest.Option) *result {
	t.Helper()
	r := &result{}
	r.rec, r.cfg = infratest.RunPlatform(t, stack, func(_ *pulumi.Context, aws *infra.AWS) error {
		r.drivers = len(aws.Storage.Drivers)
		return nil
	}, opts...)
	for _, az := range r.cfg.Network.AvailabilityZones {
		r.privateIDs = append(r.privateIDs, r.rec.Find("aws:ec2/subnet:Subnet", "network-private-"+az).ID)
	}
	for _, ng := range r.rec.ByType("aws:eks/nodeGroup:NodeGroup") {
		r.nodeGroups = append(r.nodeGroups, ng.URN)
	}
	r.eks = r.rec.Find("eks:index:Cluster", "cluster-eks")
	return r
}

// own returns the storage layer's resources of one type: run builds every platform layer, so a
// count over the whole stack would count the other layers' resources too.
func (r *result) own(typ string) []infratest.Resource {
	return r.rec.DescendantsOfType(storage.Type, typ)
}

func TestFileSystem(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			r := run(t, stack)
			efs := r.cfg.Storage.EFS
			fss := r.own(fsType)
			if len(fss) != 1 {
				t.Fatalf("%d file systems, want 1", len(fss))
			}
			fs := fss[0]
			in := fs.Plain(false)
			if in["encrypted"] != true || in["performanceMode"] != efs.PerformanceMode || in["throughputMode"] != efs.ThroughputMode {
				t.Errorf("file system %v; want encrypted, %s, %s", in, efs.PerformanceMode, efs.ThroughputMode)
			}
			wantLifecycle := []any{map[string]any{"transitionToIa": efs.TransitionToIA}, map[string]any{"transitionToPrimaryStorageClass": "AFTER_1_ACCESS"}}
			if !reflect.DeepEqual(in["lifecyclePolicies"], wantLifecycle) {
				t.Errorf("lifecycle %v, want %v", in["lifecyclePolicies"], wantLifecycle)
			}
			prod := r.cfg.Storage.Protect
			if fs.Protect != prod || fs.RetainOnDelete != prod {
				t.Errorf("file system protect %v retain %v, want both %v", fs.Protect, fs.RetainOnDelete, prod)
			}
			// EFS's own automatic backups are off: the AWS Backup plan of the operations layer covers
			// the file system (storage.efs.backups defaults to !operations.backup.enabled).
			backup := r.own("aws:efs/backupPolicy:BackupPolicy")
			if len(backup) != 1 || backup[0].Plain(false)["backupPolicy"].(map[string]any)["status"] != "DISABLED" || backup[0].Plain(false)["fileSystemId"] != fs.ID {
				t.Errorf("backup policy %v, want DISABLED on %s", backup, fs.ID)
			}
		})
	}
}

func TestProvisionedThroughputAndNoBackups(t *testing.T) {
	t.Parallel()
	r := run(t, "staging",
		infratest.WithValue("storage.efs.throughputMode", "provisioned"),
		infratest.WithValue("storage.efs.provisionedThroughputMibps", 128),
		infratest.WithValue("storage.efs.backups", false))
	in := r.own(fsType)[0].Plain(false)
	if in["throughputMode"] != "provisioned" || in["provisionedThroughputInMibps"] != int64(128) {
		t.Errorf("throughput %v %v, want provisioned 128", in["throughputMode"], in["provisionedThroughputInMibps"])
	}
	if status := r.own("aws:efs/backupPolicy:BackupPolicy")[0].Plain(false)["backupPolicy"].(map[string]any)["status"]; status != "DISABLED" {
		t.Errorf("backup status %v, want DISABLED", status)
	}
}

// TestEFSOwner: storage.efs.owner becomes the uid and gid of every access point the class makes.
func TestEFSOwner(t *testing.T) {
	t.Parallel()
	r := run(t, "staging", infratest.WithValue("storage.efs.owner", "1000:100"))
	params := r.rec.Find(scType, "storage-efs").Plain(false)["parameters"].(map[string]any)
	if params["uid"] != "1000" || params["gid"] != "100" {
		t.Errorf("efs class uid/gid = %v/%v, want 1000/100", params["uid"], params["gid"])
	}
}

// TestMountTargets: one mount target per private subnet, named by zone, in the EFS security
// group, whose only rule lets NFS in from the security group the nodes carry.
func TestMountTargets(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			r := run(t, stack)
			fs := r.own(fsType)[0]
			sg := r.rec.Find("aws:ec2/securityGroup:SecurityGroup", "storage-efs")
			if sg == nil {
				t.Fatal("no EFS security group")
			}
			var subnets []string
			for _, az := range r.cfg.Network.AvailabilityZones {
				mt := r.rec.Find(mtType, "storage-efs-"+az)
				if mt == nil {
					t.Fatalf("no mount target storage-efs-%s", az)
				}
				in := mt.Plain(false)
				if in["fileSystemId"] != fs.ID || !reflect.DeepEqual(in["securityGroups"], []any{sg.ID}) {
					t.Errorf("mount target %s: %v", az, in)
				}
				subnets = append(subnets, in["subnetId"].(string))
			}
			if len(r.own(mtType)) != len(r.privateIDs) || !reflect.DeepEqual(subnets, r.privateIDs) {
				t.Errorf("mount targets in %v, want exactly the private subnets %v", subnets, r.privateIDs)
			}

			rules := r.own(ruleType)
			if len(rules) != 1 {
				t.Fatalf("%d ingress rules, want 1", len(rules))
			}
			rule := rules[0].Plain(false)
			nodeSG := r.eks.Outputs["nodeSecurityGroupId"].StringValue()
			want := map[string]any{
				"securityGroupId": sg.ID, "ipProtocol": "tcp", "fromPort": int64(2049), "toPort": int64(2049),
				"referencedSecurityGroupId": nodeSG, "description": "NFS from the EKS nodes",
			}
			if !reflect.DeepEqual(rule, want) {
				t.Errorf("NFS rule %v, want %v", rule, want)
			}
			if sgIn := sg.Plain(false); sgIn["ingress"] != nil || sgIn["egress"] != nil {
				t.Errorf("EFS security group has inline rules: %v", sgIn)
			}
		})
	}
}

func TestCSIAddons(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			r := run(t, stack)
			issuer := r.eks.Outputs["oidcIssuer"].StringValue()
			providerARN := r.eks.Outputs["oidcProviderArn"].StringValue()
			for _, tc := range []struct{ role, addon, version, sa, policy string }{
				{"efs-csi", storage.EFSAddon, r.cfg.Storage.EFSCSIDriverVersion, "efs-csi-controller-sa", "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"},
				{"ebs-csi", storage.EBSAddon, r.cfg.Storage.EBSCSIDriverVersion, "ebs-csi-controller-sa", "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"},
			} {
				addon := r.rec.Find(addonType, "storage-"+tc.role)
				role := r.rec.Find("aws:iam/role:Role", "storage-"+tc.role+"-role")
				if addon == nil || role == nil {
					t.Fatalf("no add-on or role storage-%s", tc.role)
				}
				in := addon.Plain(false)
				if in["addonName"] != tc.addon || in["addonVersion"] != tc.version || in["clusterName"] != r.cfg.Cluster.Name ||
					in["serviceAccountRoleArn"] != role.Outputs["arn"].StringValue() {
					t.Errorf("%s add-on %v; want %s %s with its IRSA role", tc.role, in, tc.addon, tc.version)
				}
				checkTrust(t, role.Plain(false)["assumeRolePolicy"].(string), providerARN, issuer, "system:serviceaccount:kube-system:"+tc.sa)
				att := r.rec.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "storage-"+tc.role+"-"+tc.policy[len("arn:aws:iam::aws:policy/service-role/"):])
				if att == nil || att.Plain(false)["policyArn"] != tc.policy {
					t.Errorf("%s role lacks %s", tc.role, tc.policy)
				}
				// The add-on waits for every node group and for its role's policy.
				for _, urn := range append(append([]string{}, r.nodeGroups...), att.URN) {
					if !slices.Contains(addon.DependsOn, urn) {
						t.Errorf("%s add-on does not depend on %s", tc.role, urn)
					}
				}
			}
			if len(r.nodeGroups) != 2 {
				t.Errorf("%d node groups, want 2", len(r.nodeGroups))
			}
		})
	}
}

// checkTrust parses a trust policy and checks its exact principal, sub and aud.
func checkTrust(t *testing.T, policy, providerARN, issuer, sub string) {
	t.Helper()
	var doc irsa.Document
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatalf("trust policy is not JSON: %v", err)
	}
	if doc.Version != "2012-10-17" || len(doc.Statement) != 1 {
		t.Fatalf("trust policy %s", policy)
	}
	st := doc.Statement[0]
	want := irsa.Condition{"StringEquals": {issuer + ":sub": {sub}, issuer + ":aud": {"sts.amazonaws.com"}}}
	if st.Principal == nil || st.Principal.Federated != providerARN || !reflect.DeepEqual(st.Condition, want) ||
		!reflect.DeepEqual(st.Action, irsa.Values{"sts:AssumeRoleWithWebIdentity"}) {
		t.Errorf("trust policy %s; want %s trusted for %s", policy, providerARN, sub)
	}
}

func TestStorageClasses(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			r := run(t, stack)
			fs := r.own(fsType)[0]
			reclaim := r.cfg.Storage.ReclaimPolicy
			for name, want := range map[string]map[string]any{
				"efs": {
					"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "provisioner": "efs.csi.aws.com", "reclaimPolicy": reclaim,
					"parameters": map[string]any{"provisioningMode": "efs-ap", "fileSystemId": fs.ID, "directoryPerms": "700", "uid": "0", "gid": "0"},
				},
				"gp3": {
					"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "provisioner": "ebs.csi.aws.com", "reclaimPolicy": reclaim,
					"parameters": map[string]any{"type": "gp3", "encrypted": "true"}, "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true,
				},
			} {
				sc := r.rec.Find(scType, "storage-"+name)
				if sc == nil {
					t.Fatalf("no StorageClass storage-%s", name)
				}
				if sc.Provider == "" {
					t.Errorf("StorageClass %s has no explicit provider", name)
				}
				got := sc.Plain(false)
				md := got["metadata"].(map[string]any)
				delete(got, "metadata")
				if !reflect.DeepEqual(got, want) || md["name"] != name || len(md["labels"].(map[string]any)) != 6 {
					t.Errorf("StorageClass %s = %v %v, want %v with 6 labels", name, md, got, want)
				}
				addon := r.rec.Find(addonType, map[string]string{"efs": "storage-efs-csi", "gp3": "storage-ebs-csi"}[name])
				if !slices.Contains(sc.DependsOn, addon.URN) {
					t.Errorf("StorageClass %s does not depend on its driver", name)
				}
			}
			if want := 2 + 2 + 1 + len(r.privateIDs); r.drivers != want {
				t.Errorf("Storage.Drivers has %d resources, want %d (add-ons, classes, NFS rule, mount targets)", r.drivers, want)
			}
		})
	}
}

func TestEveryKubernetesResourceHasTheProvider(t *testing.T) {
	t.Parallel()
	r := run(t, "prod")
	for _, res := range r.rec.Descendants(storage.Type) {
		if res.IsKubernetesObject() && res.Provider == "" {
			t.Errorf("%s %s uses the default provider", res.Type, res.Name)
		}
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			infratest.Golden(t, stack+".golden.yaml", infratest.RenderYAML(run(t, stack).rec.Descendants(storage.Type)))
		})
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		a, b := runFresh(t, stack), runFresh(t, stack)
		ra, rb := infratest.RenderYAML(a.rec.Descendants(storage.Type)), infratest.RenderYAML(b.rec.Descendants(storage.Type))
		if !bytes.Equal(ra, rb) {
			t.Errorf("%s: two runs render differently", stack)
		}
		var na, nb []string
		for _, x := range a.rec.Resources() {
			na = append(na, x.URN)
		}
		for _, x := range b.rec.Resources() {
			nb = append(nb, x.URN)
		}
		sort.Strings(na)
		sort.Strings(nb)
		if !reflect.DeepEqual(na, nb) {
			t.Errorf("%s: two runs register different resources", stack)
		}
	}
}
