package stacks_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// load runs only stacks.Load for a stack's real config plus the given changes.
func load(stack string, opts ...stackconfig.Option) (*stacks.Config, error) {
	return stackconfig.Load(stack, opts...)
}

func TestStackFilesLoad(t *testing.T) {
	names, err := stackconfig.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"prod", "staging"} {
		if !slices.Contains(names, want) {
			t.Errorf("Pulumi.%s.yaml is missing", want)
		}
	}
	for _, stack := range names {
		t.Run(stack, func(t *testing.T) {
			if _, err := load(stack); err != nil {
				t.Fatalf("Pulumi.%s.yaml does not validate:\n%v", stack, err)
			}
		})
	}
}

func TestStackValues(t *testing.T) {
	staging, err := load("staging")
	if err != nil {
		t.Fatal(err)
	}
	prod, err := load("prod")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"staging cluster name", staging.Cluster.Name, "openneuro-staging"},
		{"prod cluster name", prod.Cluster.Name, "openneuro-prod"},
		{"staging release", staging.OpenNeuro.Release, "openneuro-staging"},
		{"prod hostname", prod.OpenNeuro.Hostname, "openneuro.org"},
		{"prod url derived from hostname", prod.OpenNeuro.URL, "https://openneuro.org"},
		{"prod graphql derived from url", prod.OpenNeuro.GraphQLURI, "https://openneuro.org/crn/graphql"},
		{"prod environment", prod.OpenNeuro.Environment, "production"},
		{"prod protects data", prod.Storage.Protect, true},
		{"staging does not protect", staging.Storage.Protect, false},
		{"prod retains volumes", prod.Storage.ReclaimPolicy, "Retain"},
		{"prod NAT per zone", prod.Network.NatGateways, stacks.NatPerZone},
		{"staging single NAT", staging.Network.NatGateways, stacks.NatSingle},
		{"prod has more api replicas", prod.OpenNeuro.Replicas.API > staging.OpenNeuro.Replicas.API, true},
		{"prod has a larger redis volume", prod.OpenNeuro.Redis.Size, "40Gi"},
		{"default node group type", prod.Cluster.DefaultNodeGroup.InstanceType, "m5a.large"},
		{"storage node group type", prod.Cluster.EdgeFSNodeGroup.InstanceType, "i3en.large"},
		{"storage node group count", prod.Cluster.EdgeFSNodeGroup.DesiredSize, 3},
		{"kubernetes version default", prod.Cluster.KubernetesVersion, stacks.DefaultKubernetesVersion},
		{"zones by ID", prod.Network.AvailabilityZones, []string{"usw2-az1", "usw2-az2", "usw2-az3"}},
		{"EdgeFS on with the storage pool", prod.EdgeFS.IsEnabled(), true},
		{"EFS is the default dataset store", prod.OpenNeuro.DatasetStore, stacks.StoreEFS},
		{"app version pinned", prod.OpenNeuro.Images.Server, "openneuro/server:v3.14.2"},
		{"content version pinned", prod.OpenNeuro.Images.Content, "openneuro/content:v1.0.1"},
		{"chart worker limits", prod.OpenNeuro.Resources.Worker.Limits, stacks.Quantities{CPU: "2", Memory: "2Gi"}},
		{"chart api requests", prod.OpenNeuro.Resources.API.Requests, stacks.Quantities{CPU: "400m", Memory: "768Mi"}},
		{"immediate consistency by default", prod.EdgeFS.Consistency, stacks.ConsistencyImmediate},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func equal(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		return slices.Equal(as, bs)
	}
	return a == b
}

// TestBadInput asserts that each bad input fails with a message naming the key and the fix.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name string
		opts []stackconfig.Option
		want []string
	}{
		{"missing required secret", []stackconfig.Option{stackconfig.WithoutValue("JWT_SECRET")},
			[]string{"openneuro:JWT_SECRET: is required", "pulumi config set --secret JWT_SECRET"}},
		{"no OAuth provider", []stackconfig.Option{stackconfig.WithoutValue("GOOGLE_CLIENT_SECRET"), stackconfig.WithoutValue("ORCID_CLIENT_SECRET"), stackconfig.WithoutValue("GLOBUS_CLIENT_SECRET")},
			[]string{"no login provider is configured; set at least one of GOOGLE_CLIENT_SECRET, ORCID_CLIENT_SECRET or GLOBUS_CLIENT_SECRET"}},
		{"OAuth secret without its id", []stackconfig.Option{stackconfig.WithoutValue("ORCID_CLIENT_ID")},
			[]string{"openneuro:ORCID_CLIENT_ID: is required because ORCID_CLIENT_SECRET is set"}},
		{"EdgeFS target memory below the embedded profile", []stackconfig.Option{stackconfig.WithValue("edgefs.resources.requests.memory", "128Mi")},
			[]string{"edgefs.resources.requests.memory: 128Mi is below 256Mi, the EdgeFS operator's minimum (embedded profile); requests of 2048Mi and limits of 8192Mi select the performance profile"}},
		{"node count below 1", []stackconfig.Option{stackconfig.WithValue("cluster.defaultNodeGroup.desiredSize", -1)},
			[]string{"cluster.defaultNodeGroup.desiredSize: is -1; it must be at least 1"}},
		{"node count explicitly 0", []stackconfig.Option{stackconfig.WithValue("cluster.defaultNodeGroup.minSize", 0)},
			[]string{"cluster.defaultNodeGroup.minSize: is 0; it must be at least 1"}},
		{"min greater than max", []stackconfig.Option{stackconfig.WithValue("cluster.defaultNodeGroup.minSize", 6), stackconfig.WithValue("cluster.defaultNodeGroup.maxSize", 4)},
			[]string{"cluster.defaultNodeGroup.minSize: 6 is greater than maxSize 4; raise maxSize or lower minSize"}},
		{"unknown instance type format", []stackconfig.Option{stackconfig.WithValue("cluster.defaultNodeGroup.instanceType", "m5a-large")},
			[]string{`cluster.defaultNodeGroup.instanceType: "m5a-large" is not an EC2 instance type; write it like m5a.large`}},
		{"public endpoint without an allowlist", []stackconfig.Option{stackconfig.WithoutValue("cluster.publicAccessCidrs")},
			[]string{"cluster.publicAccessCidrs: is empty; the API endpoint is private plus an allowlist", "or set endpointPublicAccess false"}},
		{"public endpoint explicitly on without CIDRs", []stackconfig.Option{stackconfig.WithoutValue("cluster.publicAccessCidrs"), stackconfig.WithValue("cluster.endpointPublicAccess", true)},
			[]string{"cluster.publicAccessCidrs: is empty but endpointPublicAccess is true"}},
		{"storage group that would scale", []stackconfig.Option{stackconfig.WithValue("cluster.edgefsNodeGroup.maxSize", 5)},
			[]string{"cluster.edgefsNodeGroup.maxSize: the storage group is fixed-size (EdgeFS cannot adopt new nodes), but desiredSize/minSize/maxSize are 3/3/5"}},
		{"storage group on Spot", []stackconfig.Option{stackconfig.WithValue("cluster.edgefsNodeGroup.capacityType", "SPOT")},
			[]string{`cluster.edgefsNodeGroup.capacityType: "SPOT" would let EC2 reclaim the nodes that hold EdgeFS data; use ON_DEMAND`}},
		{"unknown capacity type", []stackconfig.Option{stackconfig.WithValue("cluster.defaultNodeGroup.capacityType", "spot")},
			[]string{`cluster.defaultNodeGroup.capacityType: "spot" is not allowed; use one of ON_DEMAND, SPOT`}},
		{"Spot types without Spot", []stackconfig.Option{stackconfig.WithValue("cluster.defaultNodeGroup.spotInstanceTypes", []any{"m5.large"})},
			[]string{"cluster.defaultNodeGroup.spotInstanceTypes: is only used with capacityType SPOT"}},
		{"autoscaler of another minor version", []stackconfig.Option{stackconfig.WithValue("cluster.autoscaler.imageTag", "v1.34.5")},
			[]string{`cluster.autoscaler.imageTag: "v1.34.5" does not match kubernetesVersion 1.35`}},
		{"bad alarm address", []stackconfig.Option{stackconfig.WithValue("operations.alarms.emails", []any{"ops at example.org"})},
			[]string{`operations.alarms.emails[0]: "ops at example.org" is not an e-mail address`}},
		{"log retention CloudWatch does not offer", []stackconfig.Option{stackconfig.WithValue("operations.metrics.logRetentionDays", 45)},
			[]string{"operations.metrics.logRetentionDays: 45 is not a CloudWatch retention period"}},
		{"backup copy to the same region", []stackconfig.Option{stackconfig.WithValue("operations.backup.copyRegion", "us-west-2")},
			[]string{`operations.backup.copyRegion: "us-west-2" is the stack's own region`}},
		{"backup schedule that is not cron", []stackconfig.Option{stackconfig.WithValue("operations.backup.schedule", "daily")},
			[]string{`operations.backup.schedule: "daily" is not an AWS cron expression`}},
		{"EFS owner by name", []stackconfig.Option{stackconfig.WithValue("storage.efs.owner", "root")},
			[]string{`storage.efs.owner: is "root"; write uid:gid with two numbers 0-4294967295`}},
		{"EFS owner out of range", []stackconfig.Option{stackconfig.WithValue("storage.efs.owner", "4294967296:0")},
			[]string{`storage.efs.owner: is "4294967296:0"`}},
		{"EFS owner with a leading zero", []stackconfig.Option{stackconfig.WithValue("storage.efs.owner", "0:01")},
			[]string{`storage.efs.owner: is "0:01"`}},
		{"double EFS backups", []stackconfig.Option{stackconfig.WithValue("storage.efs.backups", true)},
			[]string{"storage.efs.backups: is true while operations.backup is on"}},
		{"HPA maximum below the replicas", []stackconfig.Option{stackconfig.WithValue("app.autoscaling.apiMaxReplicas", 2)},
			[]string{"app.autoscaling.apiMaxReplicas: 2 is below app.replicas.api 5, the least the HPA keeps"}},
		{"HPA without metrics-server", []stackconfig.Option{stackconfig.WithValue("operations.metrics.metricsServer", false), stackconfig.WithValue("app.autoscaling.enabled", true)},
			[]string{"app.autoscaling.enabled: the HorizontalPodAutoscalers read CPU use from the metrics API, but operations.metrics.metricsServer is false"}},
		{"HPA CPU target above the requests", []stackconfig.Option{stackconfig.WithValue("app.autoscaling.targetCpuPercent", 150)},
			[]string{"app.autoscaling.targetCpuPercent: is 150; use 1 to 100 (the HPA scales out before the pods reach their requests)"}},
		{"ECR endpoints without the S3 gateway", []stackconfig.Option{stackconfig.WithValue("network.endpoints.ecr", true), stackconfig.WithValue("network.endpoints.s3", false)},
			[]string{"network.endpoints.ecr: ECR serves image layers from S3"}},
		{"flow logs of an unknown traffic type", []stackconfig.Option{stackconfig.WithValue("network.flowLogs.trafficType", "SOME")},
			[]string{`network.flowLogs.trafficType: "SOME" is not allowed; use one of ALL, ACCEPT, REJECT`}},
		{"storage nodes without instance store", []stackconfig.Option{stackconfig.WithValue("cluster.edgefsNodeGroup.instanceType", "m5.large")},
			[]string{`cluster.edgefsNodeGroup.instanceType: "m5.large" has no instance store; EdgeFS needs local NVMe, use an i3en type`}},
		{"hostname that does not parse", []stackconfig.Option{stackconfig.WithValue("app.hostname", "openneuro_org"), stackconfig.WithValue("app.url", "https://openneuro_org")},
			[]string{`app.hostname: "openneuro_org" is not a valid DNS hostname`}},
		{"url that does not parse", []stackconfig.Option{stackconfig.WithValue("app.url", "openneuro.org/path")},
			[]string{`app.url: "openneuro.org/path" is not an absolute http(s) URL; write it like https://openneuro.example.org`}},
		{"url host differs from hostname", []stackconfig.Option{stackconfig.WithValue("app.url", "https://example.org")},
			[]string{`app.url: host "example.org" differs from app.hostname "openneuro.org"; use https://openneuro.org`}},
		{"worker count 0", []stackconfig.Option{stackconfig.WithValue("app.workers", 0)},
			[]string{"app.workers: is 0; it must be at least 1"}},
		{"certificate ARN not from ACM", []stackconfig.Option{stackconfig.WithValue("app.certificateArn", "arn:aws:iam::488777458602:server-certificate/openneuro")},
			[]string{`app.certificateArn: "arn:aws:iam::488777458602:server-certificate/openneuro" is not an ACM certificate ARN`}},
		{"certificate of another region", []stackconfig.Option{stackconfig.WithValue("app.certificateArn", "arn:aws:acm:us-east-1:488777458602:certificate/6883342b-63ac-4466-b3f8-d9a8dd80bfaa")},
			[]string{"app.certificateArn: the certificate is in us-east-1 but aws:region is us-west-2; an ALB only uses ACM certificates of its own region"}},
		{"neither certificate nor DNS", []stackconfig.Option{stackconfig.WithoutValue("app.certificateArn")},
			[]string{"app.dns: neither app.dns nor app.certificateArn is set; set app.dns to the Route 53 hosted zone of openneuro.org"}},
		{"certificate and DNS", []stackconfig.Option{stackconfig.WithValue("app.dns", "openneuro.org")},
			[]string{"app.certificateArn: is set together with app.dns, which makes the program create the certificate; remove one of them"}},
		{"hostname outside the zone", []stackconfig.Option{stackconfig.WithoutValue("app.certificateArn"), stackconfig.WithValue("app.dns", "example.org")},
			[]string{"app.dns: app.hostname openneuro.org is not a name of the zone example.org"}},
		{"zone that is no name", []stackconfig.Option{stackconfig.WithoutValue("app.certificateArn"), stackconfig.WithValue("app.dns", "openneuro org")},
			[]string{`app.dns: "openneuro org" is neither a hosted zone id`}},
		{"load balancer controller chart outside the table", []stackconfig.Option{stackconfig.WithValue("ingress.controllerChartVersion", "1.17.1")},
			[]string{`ingress.controllerChartVersion: "1.17.1" is not in the controller table of stacks/ingress.go, which pairs each chart with its controller version, IAM policy and CRDs; use one of 1.14.0`}},
		{"NAT addresses fewer than gateways", []stackconfig.Option{stackconfig.WithValue("network.natEipAllocationIds", []any{"eipalloc-0a1b2c3d4e5f60001"})},
			[]string{"network.natEipAllocationIds: lists 1 addresses but network.natGateways perZone has 3 NAT gateway(s)"}},
		{"NAT address that is no allocation id", []stackconfig.Option{stackconfig.WithValue("network.natEipAllocationIds", []any{"eipalloc-0a1b2c3d4e5f60001", "192.0.2.1", "eipalloc-0a1b2c3d4e5f60001"})},
			[]string{`network.natEipAllocationIds[1]: "192.0.2.1" is not an Elastic IP allocation id`, `network.natEipAllocationIds[2]: "eipalloc-0a1b2c3d4e5f60001" is listed twice`}},
		{"no Docker Hub cache", []stackconfig.Option{stackconfig.WithoutValue("cluster.dockerHubAnonymous")},
			[]string{"cluster.dockerHubCache: is not set, so the nodes would pull app.images.app, app.images.content, app.images.dataladService, app.images.indexer, app.images.redis, app.images.server, edgefs.image, edgefs.operatorImage from Docker Hub anonymously"}},
		{"Docker Hub cache and anonymous pulls", []stackconfig.Option{stackconfig.WithValue("cluster.dockerHubCache", map[string]any{"credentialArn": cacheSecret})},
			[]string{"cluster.dockerHubAnonymous: is true but cluster.dockerHubCache is set; remove one of the two"}},
		{"no admin role", []stackconfig.Option{stackconfig.WithoutValue("cluster.adminRoleArns")},
			[]string{"cluster.adminRoleArns: is empty, so no person can reach the cluster (the deploy role trusts only CI); list your operators' role"}},
		{"admin roles and noAdminRoles", []stackconfig.Option{stackconfig.WithValue("cluster.noAdminRoles", true)},
			[]string{"cluster.noAdminRoles: is true but cluster.adminRoleArns lists roles; remove one of the two"}},
		{"no alarm subscriber", []stackconfig.Option{stackconfig.WithoutValue("operations.alarms.noSubscribers")},
			[]string{"operations.alarms.emails: is empty, so no one hears the alarms; list at least one address"}},
		{"alarm addresses and noSubscribers", []stackconfig.Option{stackconfig.WithValue("operations.alarms.emails", []any{"ops@example.org"})},
			[]string{"operations.alarms.noSubscribers: is true but operations.alarms.emails lists addresses; remove one of the two"}},
		{"no deploy role", []stackconfig.Option{stackconfig.WithoutValue("cluster.deployRoleArn")},
			[]string{"cluster.deployRoleArn: is required in eks mode; set the IAM role that creates the cluster and runs every pulumi up"}},
		{"deploy role listed as admin", []stackconfig.Option{stackconfig.WithValue("cluster.adminRoleArns", []string{"arn:aws:iam::488777458602:role/openneuro-deploy-prod"})},
			[]string{"cluster.adminRoleArns[0]: role openneuro-deploy-prod is already given access by cluster.deployRoleArn; EKS allows one access entry per role"}},
		{"viewer listed as admin", []stackconfig.Option{stackconfig.WithValue("cluster.adminRoleArns", []string{"arn:aws:iam::488777458602:role/openneuro-preview-prod"})},
			[]string{"cluster.viewerRoleArns[0]: role openneuro-preview-prod is already given access by cluster.adminRoleArns[0]"}},
		{"unsupported Kubernetes version", []stackconfig.Option{stackconfig.WithValue("cluster.kubernetesVersion", "1.20")},
			[]string{`cluster.kubernetesVersion: "1.20" is not supported: stacks/addons.go has no verified EKS add-on builds for it; use one of 1.33, 1.34, 1.35`}},
		{"image tag latest", []stackconfig.Option{stackconfig.WithValue("app.images.server", "openneuro/server:latest")},
			[]string{`app.images.server: "openneuro/server:latest" uses the tag latest; pin a version`}},
		{"image without tag", []stackconfig.Option{stackconfig.WithValue("edgefs.image", "edgefs/edgefs")},
			[]string{`edgefs.image: "edgefs/edgefs" has no tag`}},
		{"misspelt key", []stackconfig.Option{stackconfig.WithValue("app.wokers", 8)},
			[]string{`app: json: unknown field "wokers"; check the key names against Pulumi.yaml`}},
		{"malformed MongoDB URL", []stackconfig.Option{stackconfig.WithSecret("MONGO_URL", "postgres://x")},
			[]string{"openneuro:MONGO_URL: is not a MongoDB connection string"}},
		{"request above limit", []stackconfig.Option{stackconfig.WithValue("app.resources.api.requests.cpu", "4")},
			[]string{"app.resources.api.requests.cpu: 4 is above the limit 800m"}},
		{"EdgeFS store without EdgeFS", []stackconfig.Option{stackconfig.WithValue("edgefs.enabled", false), stackconfig.WithValue("app.datasetStore", "edgefs")},
			[]string{"app.datasetStore: edgefs needs edgefs.enabled true"}},
		{"storage pool too small", []stackconfig.Option{stackconfig.WithValue("edgefs.resources.requests.cpu", "1"), stackconfig.WithValue("app.workers", 4)},
			[]string{"cluster.edgefsNodeGroup: 3 x i3en.large cannot hold what must run there (one EdgeFS target per node, 4 dataset workers, the NFS/S3 gateways, the Container Insights agent and Fluent Bit on every node): no room for dataset worker"}},
		{"AMI release of another Kubernetes version", []stackconfig.Option{stackconfig.WithValue("cluster.edgefsNodeGroup.amiReleaseVersion", "1.34.2-20260101")},
			[]string{`cluster.edgefsNodeGroup.amiReleaseVersion: "1.34.2-20260101" is not an AL2023 AMI release of Kubernetes 1.35`}},
		{"missing region", []stackconfig.Option{stackconfig.WithoutValue("aws:region")},
			[]string{"aws:region: is not set"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load("prod", c.opts...)
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestModeMismatch: existing mode rejects AWS-only settings and eks mode existing-only ones.
func TestModeMismatch(t *testing.T) {
	cases := []struct {
		name, stack string
		opts        []stackconfig.Option
		want        string
	}{
		{"ACM certificate with a non-ALB class", "local", []stackconfig.Option{stackconfig.WithValue("app.certificateArn", "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000")},
			`app.certificateArn: an ACM certificate needs the ALB of eks mode; with IngressClass "nginx" use ingress.tlsSecretName`},
		{"ALB annotation in existing mode", "local", []stackconfig.Option{stackconfig.WithValue("ingress.annotations", map[string]any{"alb.ingress.kubernetes.io/scheme": "internet-facing"})},
			`ingress.annotations: "alb.ingress.kubernetes.io/scheme" is an AWS load balancer annotation, which needs eks mode`},
		{"alb class in existing mode", "local", []stackconfig.Option{stackconfig.WithValue("ingress.className", "alb")},
			"ingress.className: alb needs the AWS Load Balancer Controller, which only eks mode installs"},
		{"node group in existing mode", "local", []stackconfig.Option{stackconfig.WithValue("cluster.defaultNodeGroup.instanceType", "m5a.large")},
			"cluster.defaultNodeGroup: is an EKS setting but cluster.mode is existing"},
		{"EFS in existing mode", "local", []stackconfig.Option{stackconfig.WithValue("storage.efsCsiDriverVersion", "v2.1.12-eksbuild.1")},
			"storage.efs: EFS and the EKS CSI add-ons are EKS settings but cluster.mode is existing"},
		{"deploy role in existing mode", "local", []stackconfig.Option{stackconfig.WithValue("cluster.deployRoleArn", "arn:aws:iam::123456789012:role/deploy")},
			"cluster.deployRoleArn: is an EKS setting but cluster.mode is existing"},
		{"DNS in existing mode", "local", []stackconfig.Option{stackconfig.WithValue("app.dns", "localhost")},
			"app.dns: Route 53 records and ACM certificates are for eks mode"},
		{"operations in existing mode", "local", []stackconfig.Option{stackconfig.WithValue("operations.backup.retentionDays", 7)},
			"operations: metrics, alarms and backups are AWS services of eks mode but cluster.mode is existing"},
		{"EFS store in existing mode", "local", []stackconfig.Option{stackconfig.WithValue("app.datasetStore", "efs")},
			"app.datasetStore: efs needs eks mode"},
		{"no access mode for a storage class", "local", []stackconfig.Option{stackconfig.WithoutValue("storage.datasetsAccessMode")},
			"storage.datasetsAccessMode: is required with the datasets on a storage class: ReadWriteMany when storage.datasetsStorageClass (or the cluster's default class) serves shared volumes"},
		{"RWO with several workers", "local", []stackconfig.Option{stackconfig.WithValue("app.workers", 2)},
			"storage.datasetsAccessMode: ReadWriteOnce lets one node mount the datasets volume, but app.workers is 2 and app.replicas.dataladService is 1"},
		{"kubeconfig in eks mode", "staging", []stackconfig.Option{stackconfig.WithValue("cluster.kubeconfig", "/home/me/.kube/config")},
			"cluster.kubeconfig: kubeconfig and context are only used with cluster.mode existing"},
		{"TLS secret in eks mode", "staging", []stackconfig.Option{stackconfig.WithValue("ingress.tlsSecretName", "openneuro-tls")},
			"ingress.annotations: annotations and tlsSecretName are for existing mode"},
		{"kubeconfig secret in eks mode", "staging", []stackconfig.Option{stackconfig.WithSecret("CLUSTER_KUBECONFIG", "apiVersion: v1")},
			"openneuro:CLUSTER_KUBECONFIG: is only used with cluster.mode existing"},
		{"a secret set without --secret", "local", []stackconfig.Option{stackconfig.WithValue("CLUSTER_KUBECONFIG", "apiVersion: v1")},
			"openneuro:CLUSTER_KUBECONFIG: is stored in plain text in Pulumi.local.yaml; set it again with `pulumi config set --secret CLUSTER_KUBECONFIG`"},
		{"storage class in eks mode", "staging", []stackconfig.Option{stackconfig.WithValue("storage.datasetsStorageClass", "standard")},
			`storage.datasetsStorageClass: is "standard"; in eks mode the program creates the class "efs" for the datasets volume itself`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(c.stack, c.opts...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestLocalStack(t *testing.T) {
	cfg, err := load("local")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IsEKS() || cfg.EdgeFS.IsEnabled() || cfg.Cluster.HasStoragePool() {
		t.Error("the local stack must be existing mode without EdgeFS or a storage pool")
	}
	if cfg.OpenNeuro.URL != "http://openneuro.localhost" || cfg.OpenNeuro.DatasetStore != stacks.StoreStorageClass {
		t.Errorf("url %q store %q", cfg.OpenNeuro.URL, cfg.OpenNeuro.DatasetStore)
	}
	if cfg.Storage.DatasetsStorageClass != "" || cfg.Storage.BlockStorageClass != "" {
		t.Error("the local stack uses the cluster's default storage class")
	}
}

func TestZonesDefaultToRegionNames(t *testing.T) {
	cfg, err := load("prod", stackconfig.WithoutValue("network.availabilityZones"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"us-west-2a", "us-west-2b", "us-west-2c"}; !slices.Equal(cfg.Network.AvailabilityZones, want) {
		t.Errorf("zones %v, want %v", cfg.Network.AvailabilityZones, want)
	}
	if _, err := load("prod", stackconfig.WithValue("network.availabilityZones", []string{"usw2-az1", "us-west-2b", "usw2-az3"})); err == nil ||
		!strings.Contains(err.Error(), "network.availabilityZones: mixes zone names and zone IDs") {
		t.Errorf("mixed names and IDs must be rejected, got %v", err)
	}
}

// TestStoragePoolCapacity: a larger instance type makes room; without EdgeFS the workers alone count.
func TestStoragePoolCapacity(t *testing.T) {
	tooMany := []stackconfig.Option{stackconfig.WithValue("edgefs.resources.requests.cpu", "1"), stackconfig.WithValue("app.workers", 4)}
	if _, err := load("prod", append(tooMany, stackconfig.WithValue("cluster.edgefsNodeGroup.instanceType", "i3en.xlarge"))...); err != nil {
		t.Errorf("3 x i3en.xlarge must hold 3 targets of 1 CPU and 4 workers: %v", err)
	}
	if _, err := load("prod", stackconfig.WithValue("app.workers", 9)); err == nil || !strings.Contains(err.Error(), "no room for") {
		t.Errorf("9 workers of 500m next to 3 EdgeFS targets do not fit on 3 x i3en.large; got %v", err)
	}
	if _, err := load("prod", stackconfig.WithValue("edgefs.enabled", false), stackconfig.WithValue("app.workers", 6)); err != nil {
		t.Errorf("without EdgeFS, 6 workers of 450m fit on 3 x i3en.large: %v", err)
	}
	// The Container Insights DaemonSets (agent 250m, Fluent Bit 50m per node) count: with them the
	// chart's 500m workers leave the fourth Pending, without them they fit.
	chartWorkers := stackconfig.WithValue("app.resources.worker.requests.cpu", "500m")
	if _, err := load("prod", chartWorkers); err == nil || !strings.Contains(err.Error(), "the Container Insights agent and Fluent Bit on every node): no room for dataset worker") {
		t.Errorf("4 workers of 500m next to the EdgeFS targets and the Container Insights DaemonSets do not fit on 3 x i3en.large; got %v", err)
	}
	if _, err := load("prod", chartWorkers, stackconfig.WithValue("operations.metrics.containerInsights", false)); err != nil {
		t.Errorf("without Container Insights, 4 workers of 500m fit: %v", err)
	}
}

// TestEveryProblemAtOnce shows that validation does not stop at the first problem.
func TestEveryProblemAtOnce(t *testing.T) {
	_, err := load("staging",
		stackconfig.WithoutValue("JWT_SECRET"),
		stackconfig.WithValue("app.workers", 0),
		stackconfig.WithValue("cluster.kubernetesVersion", "1.20"),
		stackconfig.WithValue("app.images.redis", "redis:latest"))
	if err == nil {
		t.Fatal("loaded without error")
	}
	// pulumi.RunErr wraps the program's error in "1 error occurred: * ..."; count the problem lines.
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "* ")); l != "" && !strings.HasSuffix(l, "error occurred:") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 4 {
		t.Fatalf("want 4 problems, one per line, got %d:\n%v", len(lines), err)
	}
}

// TestPulumiYAMLDeclaresEveryKey keeps Pulumi.yaml (what `pulumi config` shows) in step with Go.
func TestPulumiYAMLDeclaresEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var project struct {
		Name   string                    `json:"name"`
		Config map[string]map[string]any `json:"config"`
	}
	if err := yaml.Unmarshal(data, &project); err != nil {
		t.Fatal(err)
	}
	if project.Name != stacks.Project {
		t.Errorf("Pulumi.yaml name %q, want %q", project.Name, stacks.Project)
	}
	for _, key := range stacks.LayerKeys() {
		decl, ok := project.Config[key]
		if !ok {
			t.Errorf("Pulumi.yaml does not declare %s", key)
			continue
		}
		if decl["type"] != "object" || decl["description"] == nil {
			t.Errorf("%s: want type object and a description, got %v", key, decl)
		}
		// The default must be what Go decides: an empty object, so Go's defaults apply per mode.
		if d, _ := decl["default"].(map[string]any); d == nil || len(d) != 0 {
			t.Errorf("%s: default %v, want {} (defaults live in stacks/*.go)", key, decl["default"])
		}
	}
	for _, spec := range stacks.SecretSpecs {
		decl, ok := project.Config[string(spec.Key)]
		if !ok {
			t.Errorf("Pulumi.yaml does not declare the secret %s", spec.Key)
			continue
		}
		desc, _ := decl["description"].(string)
		if !strings.Contains(desc, spec.Description) {
			t.Errorf("%s: description %q does not say %q", spec.Key, desc, spec.Description)
		}
		_, hasDefault := decl["default"]
		// A key required by one generation only is optional to Pulumi (which would demand it of
		// every stack); the program requires it of that generation's stacks.
		required := spec.Required && spec.Only == ""
		if required && (decl["secret"] != true || hasDefault) {
			t.Errorf("%s is required: declare it secret: true without a default", spec.Key)
		}
		if !required && (decl["default"] != "" || decl["secret"] == true) {
			t.Errorf("%s is optional (or required by one generation only): declare it with default \"\" (a secret declaration may not carry a default)", spec.Key)
		}
		if spec.Required && spec.Only != "" && !strings.Contains(desc, "Required in generation "+string(spec.Only)) {
			t.Errorf("%s: description %q does not say it is required in generation %s", spec.Key, desc, spec.Only)
		}
	}
	for key := range project.Config {
		if strings.Contains(key, ":") {
			continue
		}
		known := slices.Contains(stacks.LayerKeys(), key)
		for _, spec := range stacks.SecretSpecs {
			known = known || string(spec.Key) == key
		}
		if !known {
			t.Errorf("Pulumi.yaml declares %s, which the program does not read", key)
		}
	}
}

// TestStackFilesHoldNoSecret: secrets are set with --secret, never committed.
func TestStackFilesHoldNoSecret(t *testing.T) {
	names, _ := stackconfig.Stacks()
	for _, stack := range names {
		config := stackFileConfig(t, stack)
		for _, spec := range stacks.SecretSpecs {
			if v, ok := config[stacks.Project+":"+string(spec.Key)]; ok {
				if m, isMap := v.(map[string]any); !isMap || m["secure"] == nil {
					t.Errorf("Pulumi.%s.yaml holds %s in plain text; set it with pulumi config set --secret", stack, spec.Key)
				}
			}
		}
	}
}

// TestZonesBelongToTheRegion: a zone (by name or ID) of another region is rejected before anything is
// created; at subnet creation it would fail only after the VPC exists.
func TestZonesBelongToTheRegion(t *testing.T) {
	cases := []struct {
		region string
		zones  []string
		bad    string
	}{
		{"us-west-2", []string{"use1-az1", "use1-az2", "use1-az4"}, `network.availabilityZones[0]: "use1-az1" is not a zone of aws:region us-west-2`},
		{"us-east-1", []string{"use1-az1", "use1-az2", "usw2-az3"}, `network.availabilityZones[2]: "usw2-az3" is not a zone of aws:region us-east-1`},
		{"eu-west-1", []string{"eu-west-1a", "eu-west-1b", "eu-west-2c"}, `network.availabilityZones[2]: "eu-west-2c" is not a zone of aws:region eu-west-1`},
		{"us-east-1", []string{"euw1-az1", "use1-az2", "use1-az4"}, `network.availabilityZones[0]: "euw1-az1" is not a zone of aws:region us-east-1`},
		{"ap-northeast-1", []string{"apne1-az1", "apne1-az2", "apne1-az4"}, ""},
		{"us-gov-west-1", []string{"usgw1-az1", "usgw1-az2", "usgw1-az3"}, ""},
		{"eu-west-1", []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, ""},
	}
	for _, c := range cases {
		_, err := load("prod", stackconfig.WithValue("aws:region", c.region), stackconfig.WithValue("network.availabilityZones", c.zones))
		switch {
		case c.bad == "" && err != nil && strings.Contains(err.Error(), "network.availabilityZones"):
			t.Errorf("%s %v: rejected: %v", c.region, c.zones, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%s %v: want %q, got %v", c.region, c.zones, c.bad, err)
		}
	}
}

// TestHostedZone: app.dns is an id (also as the CLI prints it) or a zone name, the hostname inside it.
func TestHostedZone(t *testing.T) {
	for _, c := range []struct{ dns, id, name string }{
		{"Z1D633PJN98FT9", "Z1D633PJN98FT9", ""},
		{"/hostedzone/Z1D633PJN98FT9", "Z1D633PJN98FT9", ""},
		{"OpenNeuro.org.", "", "openneuro.org"},
	} {
		id, name := stacks.OpenNeuro{DNS: c.dns}.HostedZone()
		if id != c.id || name != c.name {
			t.Errorf("%q: id %q name %q, want %q %q", c.dns, id, name, c.id, c.name)
		}
	}
	for _, c := range []struct {
		host, zone string
		in         bool
	}{{"openneuro.org", "openneuro.org", true}, {"openneuro.staging.sqm.io", "sqm.io.", true}, {"openneuro.org", "neuro.org", false}} {
		if got := stacks.InZone(c.host, c.zone); got != c.in {
			t.Errorf("InZone(%s, %s) = %v", c.host, c.zone, got)
		}
	}
	if _, err := load("prod", stackconfig.WithoutValue("app.certificateArn"), stackconfig.WithValue("app.dns", "Z1D633PJN98FT9")); err != nil {
		t.Errorf("app.dns by id: %v", err)
	}
}

// TestOperationsDefaults pins the defaults a production site gets for the operations levers.
func TestOperationsDefaults(t *testing.T) {
	prod, err := load("prod")
	if err != nil {
		t.Fatal(err)
	}
	staging, err := load("staging")
	if err != nil {
		t.Fatal(err)
	}
	// A new eks stack: prod's file without the keys that keep staging and prod as they were.
	fresh, err := load("prod", stackconfig.WithoutValue("cluster.edgefsNodeGroup"), stackconfig.WithValue("cluster.publicAccessCidrs", []any{"198.51.100.0/24"}))
	if err != nil {
		t.Fatal(err)
	}
	local, err := load("local")
	if err != nil {
		t.Fatal(err)
	}
	noMetrics, err := load("prod", stackconfig.WithValue("operations.metrics.metricsServer", false))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"metrics-server", prod.Operations.MetricsServerEnabled(), true},
		{"container insights", prod.Operations.ContainerInsightsEnabled(), true},
		{"log retention", prod.Operations.Metrics.LogRetentionDays, 30},
		{"alarms", prod.Operations.AlarmsEnabled(), true},
		{"backup", prod.Operations.BackupEnabled(), true},
		{"backup retention", prod.Operations.Backup.RetentionDays, 35},
		{"no backup copy by default", prod.Operations.Backup.CopyRegion, ""},
		{"EFS automatic backups give way to the plan", *prod.Storage.EFS.Backups, false},
		{"HPAs on in eks mode", prod.OpenNeuro.Autoscaling.IsEnabled(), true},
		{"HPA CPU target", prod.OpenNeuro.Autoscaling.TargetCPUPercent, 70},
		{"HPA api max", prod.OpenNeuro.Autoscaling.APIMaxReplicas, 10},
		{"HPA web max", prod.OpenNeuro.Autoscaling.WebMaxReplicas, 6},
		{"HPA off in existing mode", local.OpenNeuro.Autoscaling.IsEnabled(), false},
		{"HPA off without metrics-server", noMetrics.OpenNeuro.Autoscaling.IsEnabled(), false},
		{"no operations in existing mode", local.Operations.BackupEnabled(), false},
		{"autoscaler", prod.Cluster.Autoscaler.IsEnabled(), true},
		{"autoscaler image matches 1.35", prod.Cluster.Autoscaler.ImageTag, "v1.35.2"},
		{"prod on demand", prod.Cluster.DefaultNodeGroup.CapacityType, stacks.CapacityOnDemand},
		{"staging on Spot", staging.Cluster.DefaultNodeGroup.CapacityType, stacks.CapacitySpot},
		{"staging and prod keep the storage group", staging.Cluster.EdgeFSNodeGroup.IsEnabled() && prod.Cluster.EdgeFSNodeGroup.IsEnabled(), true},
		{"new stacks have no storage group", fresh.Cluster.EdgeFSNodeGroup.IsEnabled(), false},
		{"new stacks have no EdgeFS", fresh.EdgeFS.IsEnabled(), false},
		{"allowlist turns the public endpoint on", *fresh.Cluster.EndpointPublicAccess, true},
		{"S3 gateway endpoint", prod.Network.S3EndpointEnabled(), true},
		{"ECR endpoints off", prod.Network.Endpoints.ECR, false},
		{"flow logs", prod.Network.FlowLogsEnabled(), true},
		{"flow log retention", prod.Network.FlowLogs.RetentionDays, 90},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	// Private only: no CIDRs, public endpoint off on purpose.
	private, err := load("prod", stackconfig.WithoutValue("cluster.publicAccessCidrs"), stackconfig.WithValue("cluster.endpointPublicAccess", false))
	if err != nil {
		t.Fatalf("private-only endpoint: %v", err)
	}
	if *private.Cluster.EndpointPublicAccess || !*private.Cluster.EndpointPrivateAccess {
		t.Errorf("private-only endpoint: public %v private %v", *private.Cluster.EndpointPublicAccess, *private.Cluster.EndpointPrivateAccess)
	}
}
