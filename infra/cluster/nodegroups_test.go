package cluster_test

import (
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/openneuro/openneuro-infra/infra/cluster"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/stacks"
)

func TestNodeGroups(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			r := run(t, stack)
			c := r.cfg.Cluster
			groups := r.rec.ByType(nodeGroupType)
			if len(groups) != 2 || r.groups != 2 {
				t.Fatalf("%d node groups (%d in Cluster.NodeGroups), want default and edgefs-target", len(groups), r.groups)
			}
			for key, ng := range map[string]stacks.NodeGroup{cluster.DefaultNodeGroup: c.DefaultNodeGroup, placement.StoragePoolName: c.EdgeFSNodeGroup} {
				res := r.rec.Find(nodeGroupType, "cluster-"+key)
				if res == nil {
					t.Fatalf("no node group cluster-%s", key)
				}
				in := res.Plain(false)
				scaling := in["scalingConfig"].(map[string]any)
				if got, want := strs(in["instanceTypes"]), append([]string{ng.InstanceType}, ng.SpotInstanceTypes...); !reflect.DeepEqual(got, want) {
					t.Errorf("%s instance types %v, want %v", key, got, want)
				}
				if in["capacityType"] != ng.CapacityType {
					t.Errorf("%s capacity type %v, want %s", key, in["capacityType"], ng.CapacityType)
				}
				if scaling["desiredSize"] != int64(ng.DesiredSize) || scaling["minSize"] != int64(ng.MinSize) || scaling["maxSize"] != int64(ng.MaxSize) {
					t.Errorf("%s scaling %v, want desired %d min %d max %d", key, scaling, ng.DesiredSize, ng.MinSize, ng.MaxSize)
				}
				if in["amiType"] != "AL2023_x86_64_STANDARD" || in["version"] != c.KubernetesVersion || in["clusterName"] != c.Name {
					t.Errorf("%s ami %v version %v cluster %v", key, in["amiType"], in["version"], in["clusterName"])
				}
				if got := strs(in["subnetIds"]); !reflect.DeepEqual(got, r.privateIDs) {
					t.Errorf("%s subnets %v, want the private subnets %v", key, got, r.privateIDs)
				}
				if in["updateConfig"].(map[string]any)["maxUnavailable"] != int64(1) {
					t.Errorf("%s updateConfig = %v", key, in["updateConfig"])
				}
				// On a first up the autoscaled default group is created at desiredSize and then left to
				// the autoscaler; pulumi owns the storage group's fixed size, and leaves its nodes alone
				// on a version or AMI change (each replaced node loses its EdgeFS data).
				wantIgnore := []string{"version", "releaseVersion", "launchTemplate"}
				if key == cluster.DefaultNodeGroup {
					wantIgnore = []string{"scalingConfig.desiredSize"}
				}
				if !reflect.DeepEqual(res.IgnoreChanges, wantIgnore) {
					t.Errorf("%s ignoreChanges = %v, want %v", key, res.IgnoreChanges, wantIgnore)
				}
				if _, named := in["nodeGroupName"]; named {
					t.Errorf("%s has a fixed EKS name; replacement would have to delete it first", key)
				}
				checkLaunchTemplate(t, r, key, in, ng)
				checkNodeDependencies(t, r, key, res)
			}
		})
	}
}

func checkLaunchTemplate(t *testing.T, r *result, key string, ngInputs map[string]any, ng stacks.NodeGroup) {
	t.Helper()
	lt := r.rec.Find(ltType, "cluster-"+key)
	if lt == nil {
		t.Fatalf("no launch template cluster-%s", key)
	}
	if ref := ngInputs["launchTemplate"].(map[string]any); ref["id"] != lt.ID || ref["version"] != "1" {
		t.Errorf("%s launch template ref %v, want %s version 1", key, ref, lt.ID)
	}
	in := lt.Plain(false)
	md := in["metadataOptions"].(map[string]any)
	if md["httpTokens"] != "required" || md["httpPutResponseHopLimit"] != int64(cluster.IMDSHopLimit) || md["httpEndpoint"] != "enabled" {
		t.Errorf("%s IMDS options %v, want IMDSv2 required with hop limit %d", key, md, cluster.IMDSHopLimit)
	}
	ebs := in["blockDeviceMappings"].([]any)[0].(map[string]any)["ebs"].(map[string]any)
	if ebs["volumeSize"] != int64(ng.DiskSizeGiB) || ebs["encrypted"] != "true" || ebs["volumeType"] != "gp3" {
		t.Errorf("%s root volume %v, want %d GiB encrypted gp3", key, ebs, ng.DiskSizeGiB)
	}
	for _, forbidden := range []string{"vpcSecurityGroupIds", "imageId", "userData", "keyName"} {
		if _, set := in[forbidden]; set {
			t.Errorf("%s launch template sets %s; EKS must pick the cluster security group and the AMI", key, forbidden)
		}
	}
}

// checkNodeDependencies: nodes wait for the pulumi-eks component, the node role's policies and the
// private subnets' NAT routes.
func checkNodeDependencies(t *testing.T, r *result, key string, ng *infratest.Resource) {
	t.Helper()
	want := []string{r.rec.Find(eksType, "cluster-eks").URN}
	for _, az := range r.cfg.Network.AvailabilityZones {
		want = append(want, r.rec.Find("aws:ec2/route:Route", "network-private-"+az+"-default").URN)
	}
	for _, p := range cluster.NodePolicies {
		want = append(want, r.rec.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cluster-node-"+p).URN)
	}
	for _, urn := range want {
		if !slices.Contains(ng.DependsOn, urn) {
			t.Errorf("%s does not depend on %s", key, urn)
		}
	}
}

func TestStoragePoolTaint(t *testing.T) {
	t.Parallel()
	for _, stack := range allStacks {
		t.Run(stack, func(t *testing.T) {
			r := run(t, stack)
			storage := r.rec.Find(nodeGroupType, "cluster-"+placement.StoragePoolName).Plain(false)
			wantLabels := map[string]any{placement.StoragePoolKey: placement.StoragePoolName}
			wantTaints := []any{map[string]any{"key": placement.StoragePoolKey, "value": placement.StoragePoolName, "effect": "NO_SCHEDULE"}}
			if !reflect.DeepEqual(storage["labels"], wantLabels) || !reflect.DeepEqual(storage["taints"], wantTaints) {
				t.Errorf("edgefs-target labels %v taints %v, want %v and %v", storage["labels"], storage["taints"], wantLabels, wantTaints)
			}
			def := r.rec.Find(nodeGroupType, "cluster-"+cluster.DefaultNodeGroup).Plain(false)
			if def["labels"] != nil || def["taints"] != nil {
				t.Errorf("default group has labels %v taints %v, want none", def["labels"], def["taints"])
			}
			if r.pool == nil || *r.pool != *placement.StoragePool() {
				t.Errorf("Cluster.StoragePool = %v, want the edgefs-target pool", r.pool)
			}
			// Losing the storage nodes loses EdgeFS data: protected in prod.
			sg := r.rec.Find(nodeGroupType, "cluster-"+placement.StoragePoolName)
			if sg.Protect != r.cfg.Storage.Protect {
				t.Errorf("edgefs-target protect = %v, want %v", sg.Protect, r.cfg.Storage.Protect)
			}
		})
	}
}

func TestStoragePoolDisabled(t *testing.T) {
	t.Parallel()
	r := run(t, "staging", infratest.WithValue("cluster.edgefsNodeGroup.enabled", false))
	var names []string
	for _, ng := range r.rec.ByType(nodeGroupType) {
		names = append(names, ng.Name)
	}
	if !reflect.DeepEqual(names, []string{"cluster-default"}) || r.groups != 1 {
		t.Errorf("node groups %v (%d in Cluster.NodeGroups), want only cluster-default", names, r.groups)
	}
	if r.pool != nil {
		t.Errorf("Cluster.StoragePool = %v, want nil", r.pool)
	}
	if r.rec.Find(ltType, "cluster-"+placement.StoragePoolName) != nil {
		t.Error("launch template of the disabled group still registered")
	}
}

func TestNodeRole(t *testing.T) {
	t.Parallel()
	r := run(t, "prod")
	role := r.rec.Find("aws:iam/role:Role", "cluster-node")
	if role == nil {
		t.Fatal("no node role")
	}
	if got := role.Plain(false)["assumeRolePolicy"]; got != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}` {
		t.Errorf("node role trust policy = %v", got)
	}
	var policies []string
	for _, att := range r.rec.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if att.Plain(false)["role"] == role.Outputs["name"].StringValue() {
			policies = append(policies, att.Plain(false)["policyArn"].(string))
		}
	}
	sort.Strings(policies)
	want := []string{
		"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
		"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
		"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
		"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
	}
	if !reflect.DeepEqual(policies, want) {
		t.Errorf("node role policies %v, want exactly %v", policies, want)
	}
	for _, ng := range r.rec.ByType(nodeGroupType) {
		if ng.Plain(false)["nodeRoleArn"] != role.Outputs["arn"].StringValue() {
			t.Errorf("%s does not use the node role", ng.Name)
		}
	}
}

// TestExistingVPC: with network.vpcId the nodes run in the configured private subnets and wait for
// nothing from the network layer (it creates nothing).
func TestExistingVPC(t *testing.T) {
	t.Parallel()
	private := []string{"subnet-priv-a", "subnet-priv-b", "subnet-priv-c"}
	r := run(t, "prod",
		infratest.WithValue("network.vpcId", "vpc-0123456789abcdef0"),
		infratest.WithValue("network.publicSubnetIds", []string{"subnet-pub-a", "subnet-pub-b", "subnet-pub-c"}),
		infratest.WithValue("network.privateSubnetIds", private))
	_, eks := r.eks(t)
	if eks["vpcId"] != "vpc-0123456789abcdef0" || !reflect.DeepEqual(strs(eks["privateSubnetIds"]), private) {
		t.Errorf("eks vpc %v private subnets %v", eks["vpcId"], eks["privateSubnetIds"])
	}
	for _, ng := range r.rec.ByType(nodeGroupType) {
		if got := strs(ng.Plain(false)["subnetIds"]); !reflect.DeepEqual(got, private) {
			t.Errorf("%s subnets %v, want %v", ng.Name, got, private)
		}
	}
}

// TestStorageNodesRollOnlyWhenAllowed: cluster.edgefsNodeGroup.rollNodes lets version, AMI and
// launch template changes reach the storage nodes (the README's node-by-node procedure).
func TestStorageNodesRollOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	r := run(t, "prod", infratest.WithValue("cluster.edgefsNodeGroup.rollNodes", true))
	if st := r.rec.Find("aws:eks/nodeGroup:NodeGroup", "cluster-edgefs-target"); len(st.IgnoreChanges) != 0 {
		t.Errorf("rollNodes true: storage group ignoreChanges %v, want none", st.IgnoreChanges)
	}
}
