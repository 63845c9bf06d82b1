// Package infra is the program: it loads the stack configuration and builds the layers in
// dependency order (network -> cluster -> storage, ingress -> edgefs -> openneuro), then exports
// the outputs operators need. main.go only calls Run.
//
// The wiring lives here rather than in main.go because the tests and the offline render must run the
// very same program, and Go cannot import package main.
package infra

import (
	"sort"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/cluster"
	"github.com/openneuro/openneuro-infra/infra/dashboard"
	"github.com/openneuro/openneuro-infra/infra/dns"
	"github.com/openneuro/openneuro-infra/infra/edgefs"
	"github.com/openneuro/openneuro-infra/infra/existing"
	"github.com/openneuro/openneuro-infra/infra/exposure"
	"github.com/openneuro/openneuro-infra/infra/ingress"
	"github.com/openneuro/openneuro-infra/infra/network"
	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/infra/operations"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/infra/preflight"
	"github.com/openneuro/openneuro-infra/infra/storage"
	"github.com/openneuro/openneuro-infra/stacks"
)

// platform is what the AWS layers, or an existing cluster, hand to the Kubernetes layers.
type platform struct {
	provider *kubernetes.Provider
	// clusterName is the EKS cluster's name; nil on an existing cluster.
	clusterName pulumi.StringInput
	// hostedZoneID is app.dns's Route 53 zone, where the site's records go; "" without app.dns.
	hostedZoneID string
	storagePool  *placement.Pool
	// nodeGroups: every Kubernetes object is created after them and deleted before them.
	nodeGroups []pulumi.Resource
	// storageDrivers: volume claims are created after them and deleted before them.
	storageDrivers []pulumi.Resource
	// exposure is how the site is reached: the ALB of the load balancer controller (with the
	// certificate of app.certificateArn or app.dns), or the existing cluster's own controller.
	exposure exposure.Exposure
}

// Run is the Pulumi program: Program, with its outputs exported.
func Run(ctx *pulumi.Context) error {
	outputs, err := Program(ctx)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(outputs) {
		ctx.Export(name, outputs[name])
	}
	return nil
}

// Program builds the stack and returns its outputs, by name: what operators read with
// `pulumi stack output` (tests read them here, since mocks do not record exports).
func Program(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg, err := stacks.Load(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings() {
		if err := ctx.Log.Warn(w, nil); err != nil {
			return nil, err
		}
	}
	out := pulumi.Map{}
	var p *platform
	var aws *AWS
	if cfg.IsEKS() {
		var facts *preflight.Facts
		if facts, err = preflight.Check(ctx, cfg); err != nil {
			return nil, err
		}
		p, aws, err = awsPlatform(ctx, cfg, facts, out)
	} else {
		p, err = existingCluster(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	site, err := application(ctx, cfg, p, out)
	if err != nil {
		return nil, err
	}
	if aws != nil {
		if err := operationsLayer(ctx, cfg, aws, site, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sortedKeys(m pulumi.Map) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// operationsLayer adds metrics, alarms and backups to an eks-mode stack, and their outputs.
func operationsLayer(ctx *pulumi.Context, cfg *stacks.Config, aws *AWS, site *site, out pulumi.Map) error {
	minNodes := cfg.Cluster.DefaultNodeGroup.MinSize
	if cfg.Cluster.EdgeFSNodeGroup.IsEnabled() {
		minNodes += cfg.Cluster.EdgeFSNodeGroup.MinSize
	}
	args := &operations.Args{
		Config: cfg.Operations, ClusterName: cfg.Cluster.Name, Region: cfg.Env.Region,
		OIDCProviderARN: aws.Cluster.OIDCProviderARN, OIDCIssuer: aws.Cluster.OIDCIssuer,
		NodeGroups: aws.Cluster.NodeGroups, MinNodes: minNodes,
		EFSThroughputMode: cfg.Storage.EFS.ThroughputMode, App: cfg.OpenNeuro,
		LoadBalancerARNSuffix: site.alb.ARNSuffix, TargetGroups: site.targetGroups, Protect: cfg.Storage.Protect,
	}
	if cfg.UsesEFS() {
		args.FileSystemID, args.FileSystemARN = aws.Storage.FileSystemID, aws.Storage.FileSystemARN
	}
	ops, err := operations.New(ctx, "operations", args)
	if err != nil {
		return err
	}
	if cfg.Operations.AlarmsEnabled() {
		out["alarmTopicArn"] = ops.AlarmTopicARN
	}
	if cfg.Operations.BackupEnabled() {
		out["backupVaultName"] = ops.BackupVaultName
		out["backupRoleArn"] = ops.BackupRoleARN
	}
	return nil
}

// AWS is the platform layers of eks mode, as built by BuildAWS.
type AWS struct {
	Network *network.Network
	Cluster *cluster.Cluster
	Storage *storage.Storage
	Ingress *ingress.Ingress
}

// BuildAWS builds the network, EKS, storage and ingress layers, wired as the program wires them,
// with what preflight learnt. Layer tests use it too, so they test the real wiring.
func BuildAWS(ctx *pulumi.Context, cfg *stacks.Config, facts *preflight.Facts) (*AWS, error) {
	net, err := network.New(ctx, "network", &network.Args{Config: cfg.Network, ClusterName: cfg.Cluster.Name, NatPublicIPs: facts.NatPublicIPs})
	if err != nil {
		return nil, err
	}
	eks, err := cluster.New(ctx, cluster.Name, &cluster.Args{
		Config: cfg.Cluster, VpcID: net.VpcID, PublicSubnetIDs: net.PublicSubnetIDs, PrivateSubnetIDs: net.PrivateSubnetIDs,
		NodeDependencies: net.EgressRoutes, Protect: cfg.Storage.Protect, Region: cfg.Env.Region,
	})
	if err != nil {
		return nil, err
	}
	st, err := storage.New(ctx, "storage", &storage.Args{
		Config: cfg.Storage, Provider: eks.Provider, ClusterName: eks.Name,
		OIDCProviderARN: eks.OIDCProviderARN, OIDCIssuer: eks.OIDCIssuer,
		VpcID: net.VpcID, PrivateSubnetIDs: net.PrivateSubnetIDs, Zones: cfg.Network.AvailabilityZones,
		NodeSecurityGroupID: eks.NodeSecurityGroupID, NodeGroups: eks.NodeGroups, Protect: cfg.Storage.Protect,
		EFS: cfg.UsesEFS(),
	})
	if err != nil {
		return nil, err
	}
	ing, err := ingress.New(ctx, "ingress", &ingress.Args{
		Config: cfg.Ingress, Provider: eks.Provider, ClusterName: eks.Name, Region: cfg.Env.Region,
		VpcID: net.VpcID, OIDCProviderARN: eks.OIDCProviderARN, OIDCIssuer: eks.OIDCIssuer, NodeGroups: eks.NodeGroups,
	})
	if err != nil {
		return nil, err
	}
	return &AWS{Network: net, Cluster: eks, Storage: st, Ingress: ing}, nil
}

// awsPlatform builds the AWS layers (and the optional dashboard) and adds what operators need to out.
func awsPlatform(ctx *pulumi.Context, cfg *stacks.Config, facts *preflight.Facts, out pulumi.Map) (*platform, *AWS, error) {
	aws, err := BuildAWS(ctx, cfg, facts)
	if err != nil {
		return nil, nil, err
	}
	// Nothing waits for the certificate but the Ingress: ACM validates it while EKS comes up.
	certificateARN := pulumi.String(cfg.OpenNeuro.CertificateARN).ToStringOutput()
	if facts.HostedZoneID != "" {
		cert, err := dns.NewCertificate(ctx, "certificate", &dns.CertificateArgs{ZoneID: facts.HostedZoneID, Hostname: cfg.OpenNeuro.Hostname})
		if err != nil {
			return nil, nil, err
		}
		certificateARN = cert.ARN
	}
	out["certificateArn"] = certificateARN
	eks := aws.Cluster
	if cfg.Cluster.Dashboard.Enabled {
		dash, err := dashboard.New(ctx, "dashboard", &dashboard.Args{
			Provider: eks.Provider, ClusterName: cfg.Cluster.Name, ChartVersion: cfg.Cluster.Dashboard.ChartVersion, DependsOn: eks.NodeGroups,
			DockerHubCache: cfg.Cluster.DockerHubCache,
		})
		if err != nil {
			return nil, nil, err
		}
		out["dashboardCommand"] = dash.AccessCommand
	}
	out["clusterName"] = eks.Name
	out["kubeconfig"] = pulumi.ToSecret(eks.KubeconfigJSON)
	out["updateKubeconfigCommand"] = pulumi.Sprintf("aws eks update-kubeconfig --region %s --name %s", cfg.Env.Region, eks.Name)
	out["oidcProviderArn"] = eks.OIDCProviderARN
	out["vpcId"] = aws.Network.VpcID
	out["publicSubnetIds"] = aws.Network.PublicSubnetIDs
	out["privateSubnetIds"] = aws.Network.PrivateSubnetIDs
	out["natPublicIps"] = aws.Network.NatPublicIPs
	if cfg.UsesEFS() {
		out["efsFileSystemId"] = aws.Storage.FileSystemID
	}
	out["nodeGroupNames"] = eks.NodeGroupNames
	alb, err := ingress.ALB(cfg.Ingress.ClassName, cfg.OpenNeuro.Hostname, certificateARN, aws.Ingress.Controller, cfg.Network.CIDR)
	if err != nil {
		return nil, nil, err
	}
	return &platform{
		provider: eks.Provider, clusterName: eks.Name, hostedZoneID: facts.HostedZoneID,
		storagePool: eks.StoragePool, nodeGroups: eks.NodeGroups,
		storageDrivers: aws.Storage.Drivers, exposure: alb,
	}, aws, nil
}

// existingCluster connects to a cluster the program does not create: no AWS resource at all.
func existingCluster(ctx *pulumi.Context, cfg *stacks.Config) (*platform, error) {
	args := &existing.Args{KubeconfigPath: cfg.Cluster.Kubeconfig, Context: cfg.Cluster.Context, Name: cfg.Cluster.Name}
	if cfg.Secrets.Has(stacks.SecretClusterKubeconfig) {
		args.Kubeconfig = cfg.Secrets.Get(stacks.SecretClusterKubeconfig)
	}
	c, err := existing.New(ctx, "cluster", args)
	if err != nil {
		return nil, err
	}
	p := &platform{
		provider: c.Provider,
		exposure: exposure.Existing(cfg.Ingress),
	}
	if sp := cfg.Cluster.StoragePool; sp != nil {
		p.storagePool = &placement.Pool{Key: sp.Key, Value: sp.Value}
	}
	return p, nil
}

// site is what the application layers give the operations layer.
type site struct {
	// alb is the ALB the load balancer controller made for the site (eks mode).
	alb ingress.LoadBalancer
	// targetGroups are the ALB's target groups, one per backend Service (eks mode).
	targetGroups []operations.TargetGroup
}

// application builds EdgeFS (when enabled) and OpenNeuro on the platform, and adds their outputs.
func application(ctx *pulumi.Context, cfg *stacks.Config, p *platform, out pulumi.Map) (*site, error) {
	args := &openneuro.Args{
		Config: cfg.OpenNeuro, Secrets: cfg.Secrets, Provider: p.provider, StoragePool: p.storagePool,
		Datasets: openneuro.Datasets{
			StorageClass: cfg.Storage.DatasetsStorageClass, AccessMode: cfg.Storage.DatasetsAccessMode, Size: cfg.Storage.DatasetsSize,
		},
		RedisStorageClass: cfg.Storage.BlockStorageClass, WorkerStorageClass: cfg.Storage.BlockStorageClass, Exposure: p.exposure,
		Protect: cfg.Storage.Protect, DependsOn: p.nodeGroups, StorageDrivers: p.storageDrivers,
	}
	if cfg.EdgeFS.IsEnabled() {
		fs, err := edgefs.New(ctx, "edgefs", &edgefs.Args{
			Config: cfg.EdgeFS, Provider: p.provider, StoragePool: p.storagePool,
			Protect: cfg.Storage.Protect, DependsOn: p.nodeGroups,
		})
		if err != nil {
			return nil, err
		}
		out["edgefsSetupCommand"] = fs.SetupCommand
		// The PV takes the NFS Service's cluster IP as its server, so it is created after that
		// Service and deleted before it. It exists whenever EdgeFS does, mounted or not, so that a
		// switch of app.datasetStore only rolls the pods.
		args.Datasets.NFS = &openneuro.NFSExport{Server: fs.NFSServer, Path: fs.NFSPath}
		args.Datasets.FromNFS = cfg.OpenNeuro.DatasetStore == stacks.StoreEdgeFS
	}
	app, err := openneuro.New(ctx, "openneuro", args)
	if err != nil {
		return nil, err
	}
	out["url"] = app.URL
	out["loadBalancerHostname"] = app.LoadBalancerHostname
	s := &site{}
	if cfg.IsEKS() {
		// A Route 53 alias record to the ALB names its canonical hosted zone, and an alarm on it
		// its ARN suffix, which only AWS knows.
		alb := ingress.LoadBalancerOf(ctx, p.clusterName, cfg.OpenNeuro.Namespace, cfg.OpenNeuro.Release, app.LoadBalancerHostname)
		s.alb = alb
		for _, b := range app.Backends {
			s.targetGroups = append(s.targetGroups, operations.TargetGroup{
				Service:   b.Service,
				ARNSuffix: ingress.TargetGroupOf(ctx, p.clusterName, cfg.OpenNeuro.Namespace, cfg.OpenNeuro.Release, b.Service, b.Port, app.LoadBalancerHostname),
			})
		}
		out["loadBalancerZoneId"] = alb.ZoneID
		if p.hostedZoneID != "" {
			if _, err := dns.NewRecords(ctx, "dns", &dns.RecordsArgs{
				ZoneID: p.hostedZoneID, Hostname: cfg.OpenNeuro.Hostname,
				LoadBalancerDNSName: alb.DNSName, LoadBalancerZoneID: alb.ZoneID,
			}); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}
