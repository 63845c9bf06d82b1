// Package storage is the storage layer of an EKS stack: the EFS file system behind the shared
// datasets volume (encrypted, backed up, a mount target per private subnet, NFS open only to the
// nodes), the EFS and EBS CSI drivers as EKS add-ons with their IRSA roles, and the efs and gp3
// StorageClasses.
package storage

import (
	"errors"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Type is the component's type token.
const Type = "openneuro:storage:Storage"

// Args configures the storage layer.
type Args struct {
	// Config is the stack's openneuro:storage config as stacks.Load returns it (eks mode, defaults filled, validated).
	Config stacks.Storage
	// Provider is the cluster's Kubernetes provider. Required.
	Provider *kubernetes.Provider
	// ClusterName is the EKS cluster the add-ons go into. Required.
	ClusterName pulumi.StringInput
	// OIDCProviderARN and OIDCIssuer are the cluster's IRSA identity provider. Required.
	OIDCProviderARN pulumi.StringInput
	OIDCIssuer      pulumi.StringInput
	// VpcID is the VPC of the file system's security group. Required.
	VpcID pulumi.StringInput
	// PrivateSubnetIDs are the subnets that get a mount target each. Required.
	PrivateSubnetIDs pulumi.StringArrayInput
	// Zones are the availability zones of PrivateSubnetIDs, in the same order
	// (network.availabilityZones); they name the mount targets. Required, one per subnet.
	Zones []string
	// NodeSecurityGroupID is the security group the nodes carry; only it may reach NFS. Required.
	NodeSecurityGroupID pulumi.StringInput
	// NodeGroups are the cluster's node groups. The CSI add-ons wait for them: their controllers
	// are Deployments, and an add-on without nodes waits out its 20-minute timeout.
	NodeGroups []pulumi.Resource
	// Protect protects the file system and retains it on delete. Default false; prod true.
	Protect bool
	// EFS creates the EFS file system of the shared datasets volume (its mount targets and
	// security group), the EFS CSI add-on and the efs class. True for app.generation "2020"; the
	// current generation keeps datasets on one EBS disk per worker and redis on gp3, so nothing
	// there mounts EFS and none of it is created.
	EFS bool
}

// Storage is the storage layer's result.
type Storage struct {
	pulumi.ResourceState

	// FileSystemID is the EFS file system id (fs-...); "" without Args.EFS.
	FileSystemID pulumi.StringOutput `pulumi:"fileSystemId"`
	// FileSystemARN is the EFS file system's ARN, what AWS Backup selects; "" without Args.EFS.
	FileSystemARN pulumi.StringOutput `pulumi:"fileSystemArn"`

	// Drivers are what a PersistentVolumeClaim's consumer must depend on: the CSI add-ons, the
	// StorageClasses and the mount targets. Then pods mount only once the file system is
	// reachable, and destroy deletes the claims (and their access points and volumes) while the
	// drivers still run.
	Drivers []pulumi.Resource
}

// New creates the storage layer.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Storage, error) {
	if args == nil || args.Provider == nil {
		return nil, errors.New("storage: Provider is required")
	}
	if args.ClusterName == nil || args.OIDCProviderARN == nil || args.OIDCIssuer == nil ||
		args.VpcID == nil || args.PrivateSubnetIDs == nil || args.NodeSecurityGroupID == nil {
		return nil, errors.New("storage: ClusterName, OIDCProviderARN, OIDCIssuer, VpcID, PrivateSubnetIDs and NodeSecurityGroupID are required")
	}
	if len(args.Zones) == 0 {
		return nil, errors.New("storage: Zones is required: one availability zone per private subnet")
	}
	cfg := args.Config
	if !cfg.FromLoad() {
		return nil, errors.New("storage: Config must be the storage config from stacks.Load")
	}

	comp := &Storage{}
	if err := ctx.RegisterComponentResource(Type, name, comp, append([]pulumi.ResourceOption{pulumi.Providers(args.Provider)}, opts...)...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)

	comp.FileSystemID = pulumi.String("").ToStringOutput()
	comp.FileSystemARN = pulumi.String("").ToStringOutput()
	var fs *efs.FileSystem
	var mounts []pulumi.Resource
	if args.EFS {
		var err error
		if fs, mounts, err = newFileSystem(ctx, name, args, parent); err != nil {
			return nil, err
		}
		comp.FileSystemID = fs.ID().ToStringOutput()
		comp.FileSystemARN = fs.Arn
	}
	drivers, err := newDrivers(ctx, name, args, fs, parent)
	if err != nil {
		return nil, err
	}
	comp.Drivers = slices.Concat(drivers, mounts)
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"fileSystemId": comp.FileSystemID, "fileSystemArn": comp.FileSystemARN}); err != nil {
		return nil, err
	}
	return comp, nil
}
