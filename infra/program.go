// Package infra is the program: it loads the stack configuration and builds the layers in
// dependency order (network -> cluster -> storage, ingress -> edgefs -> openneuro), then exports
// the outputs operators need. main.go only calls Run.
//
// The wiring lives here rather than in main.go (DESIGN.md's layout) because the tests and the
// offline render must run the very same program, and Go cannot import package main.
package infra

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/cluster"
	"github.com/openneuro/openneuro-infra/infra/dashboard"
	"github.com/openneuro/openneuro-infra/infra/edgefs"
	"github.com/openneuro/openneuro-infra/infra/existing"
	"github.com/openneuro/openneuro-infra/infra/ingress"
	"github.com/openneuro/openneuro-infra/infra/network"
	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/infra/operations"
	"github.com/openneuro/openneuro-infra/infra/placement"
	"github.com/openneuro/openneuro-infra/infra/storage"
	"github.com/openneuro/openneuro-infra/stacks"
)

// platform is what the AWS layers, or an existing cluster, hand to the Kubernetes layers.
type platform struct {
	provider    *kubernetes.Provider
	storagePool *placement.Pool
	// nodeGroups: every Kubernetes object is created after them and deleted before them.
	nodeGroups []pulumi.Resource
	// storageDrivers: volume claims are created after them and deleted before them.
	storageDrivers []pulumi.Resource
	// ingressController: Services and Ingresses wait for its webhook and are deleted while it runs.
	ingressController pulumi.Resource
}

// Run is the Pulumi program.
func Run(ctx *pulumi.Context) error {
	cfg, err := stacks.Load(ctx)
	if err != nil {
		return err
	}
	var p *platform
	var aws *AWS
	if cfg.IsEKS() {
		p, aws, err = awsPlatform(ctx, cfg)
	} else {
		p, err = existingCluster(ctx, cfg)
	}
	if err != nil {
		return err
	}
	app, err := application(ctx, cfg, p)
	if err != nil || aws == nil {
		return err
	}
	return operationsLayer(ctx, cfg, aws, app)
}

// operationsLayer adds metrics, alarms and backups to an eks-mode stack.
func operationsLayer(ctx *pulumi.Context, cfg *stacks.Config, aws *AWS, app *openneuro.OpenNeuro) error {
	minNodes := cfg.Cluster.DefaultNodeGroup.MinSize
	if cfg.Cluster.EdgeFSNodeGroup.IsEnabled() {
		minNodes += cfg.Cluster.EdgeFSNodeGroup.MinSize
	}
	ops, err := operations.New(ctx, "operations", &operations.Args{
		Config: cfg.Operations, ClusterName: cfg.Cluster.Name, Region: cfg.Env.Region,
		OIDCProviderARN: aws.Cluster.OIDCProviderARN, OIDCIssuer: aws.Cluster.OIDCIssuer,
		NodeGroups: aws.Cluster.NodeGroups, MinNodes: minNodes,
		FileSystemID: aws.Storage.FileSystemID, FileSystemARN: aws.Storage.FileSystemARN,
		EFSThroughputMode: cfg.Storage.EFS.ThroughputMode, App: cfg.OpenNeuro,
		LoadBalancerHostname: app.LoadBalancerHostname, Protect: cfg.Storage.Protect,
	})
	if err != nil {
		return err
	}
	if cfg.Operations.AlarmsEnabled() {
		ctx.Export("alarmTopicArn", ops.AlarmTopicARN)
	}
	if cfg.Operations.BackupEnabled() {
		ctx.Export("backupVaultName", ops.BackupVaultName)
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

// BuildAWS builds the network, EKS, storage and ingress layers, wired as the program wires them.
// Layer tests use it too, so they test the real wiring.
func BuildAWS(ctx *pulumi.Context, cfg *stacks.Config) (*AWS, error) {
	net, err := network.New(ctx, "network", &network.Args{Config: cfg.Network, ClusterName: cfg.Cluster.Name})
	if err != nil {
		return nil, err
	}
	eks, err := cluster.New(ctx, "cluster", &cluster.Args{
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

// awsPlatform builds the AWS layers (and the optional dashboard) and exports what operators need.
func awsPlatform(ctx *pulumi.Context, cfg *stacks.Config) (*platform, *AWS, error) {
	aws, err := BuildAWS(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	eks := aws.Cluster
	if cfg.Cluster.Dashboard.Enabled {
		dash, err := dashboard.New(ctx, "dashboard", &dashboard.Args{
			Provider: eks.Provider, ClusterName: cfg.Cluster.Name, ChartVersion: cfg.Cluster.Dashboard.ChartVersion, DependsOn: eks.NodeGroups,
		})
		if err != nil {
			return nil, nil, err
		}
		ctx.Export("dashboardCommand", dash.AccessCommand)
	}
	ctx.Export("clusterName", eks.Name)
	ctx.Export("kubeconfig", pulumi.ToSecret(eks.KubeconfigJSON))
	ctx.Export("updateKubeconfigCommand", pulumi.Sprintf("aws eks update-kubeconfig --region %s --name %s", cfg.Env.Region, eks.Name))
	ctx.Export("oidcProviderArn", eks.OIDCProviderARN)
	ctx.Export("vpcId", aws.Network.VpcID)
	ctx.Export("publicSubnetIds", aws.Network.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", aws.Network.PrivateSubnetIDs)
	ctx.Export("efsFileSystemId", aws.Storage.FileSystemID)
	ctx.Export("nodeGroupNames", eks.NodeGroupNames)
	return &platform{
		provider: eks.Provider, storagePool: eks.StoragePool, nodeGroups: eks.NodeGroups,
		storageDrivers: aws.Storage.Drivers, ingressController: aws.Ingress.Controller,
	}, aws, nil
}

// existingCluster connects to a cluster the program does not create: no AWS resource at all.
func existingCluster(ctx *pulumi.Context, cfg *stacks.Config) (*platform, error) {
	args := &existing.Args{KubeconfigPath: cfg.Cluster.Kubeconfig, Context: cfg.Cluster.Context}
	if cfg.Secrets.Has("CLUSTER_KUBECONFIG") {
		args.Kubeconfig = cfg.Secrets.Get("CLUSTER_KUBECONFIG")
	}
	c, err := existing.New(ctx, "cluster", args)
	if err != nil {
		return nil, err
	}
	p := &platform{provider: c.Provider}
	if sp := cfg.Cluster.StoragePool; sp != nil {
		p.storagePool = &placement.Pool{Key: sp.Key, Value: sp.Value}
	}
	return p, nil
}

// application builds EdgeFS (when enabled) and OpenNeuro on the platform.
func application(ctx *pulumi.Context, cfg *stacks.Config, p *platform) (*openneuro.OpenNeuro, error) {
	args := &openneuro.Args{
		Config: cfg.OpenNeuro, Secrets: cfg.Secrets, Provider: p.provider, StoragePool: p.storagePool,
		Datasets: openneuro.Datasets{
			StorageClass: cfg.Storage.DatasetsStorageClass, AccessMode: cfg.Storage.DatasetsAccessMode, Size: cfg.Storage.DatasetsSize,
		},
		RedisStorageClass: cfg.Storage.BlockStorageClass,
		Ingress: openneuro.IngressSettings{
			ClassName: cfg.Ingress.ClassName, ALB: cfg.IsEKS(), CertificateARN: cfg.OpenNeuro.CertificateARN,
			Annotations: cfg.Ingress.Annotations, TLSSecretName: cfg.Ingress.TLSSecretName,
		},
		Protect: cfg.Storage.Protect, DependsOn: p.nodeGroups, StorageDrivers: p.storageDrivers,
	}
	// A typed nil inside the interface would not be nil: set the controller only when there is one.
	if p.ingressController != nil {
		args.IngressController = p.ingressController
	}
	if cfg.EdgeFS.IsEnabled() {
		fs, err := edgefs.New(ctx, "edgefs", &edgefs.Args{
			Config: cfg.EdgeFS, Provider: p.provider, StoragePool: p.storagePool,
			Protect: cfg.Storage.Protect, DependsOn: p.nodeGroups,
		})
		if err != nil {
			return nil, err
		}
		ctx.Export("edgefsSetupCommand", fs.SetupCommand)
		if cfg.OpenNeuro.DatasetStore == stacks.StoreEdgeFS {
			// The PV takes the NFS Service's cluster IP as its server, so it is created after that
			// Service and deleted before it.
			args.Datasets.NFS = &openneuro.NFSExport{Server: fs.NFSServer, Path: fs.NFSPath}
		}
	}
	app, err := openneuro.New(ctx, "openneuro", args)
	if err != nil {
		return nil, err
	}
	ctx.Export("url", app.URL)
	ctx.Export("loadBalancerHostname", app.LoadBalancerHostname)
	return app, nil
}
