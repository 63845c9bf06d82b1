package storage

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NFSPort is the port EFS mount targets listen on.
const NFSPort = 2049

// newFileSystem creates the encrypted EFS file system, its backup policy, the mount targets'
// security group with its one NFS rule, and a mount target per private subnet. It returns the file
// system and what a mounting pod needs: the NFS rule and the mount targets.
//
// The NFS rule's source is Args.NodeSecurityGroupID, the cluster security group EKS creates: the
// node groups' launch templates name no security group, so EKS puts exactly that group on every
// managed node (pulumi-eks, with skipDefaultSecurityGroups, returns it as nodeSecurityGroupId).
// pulumi-eks's own node security group would sit on no node, and a rule from it would let nothing in.
func newFileSystem(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption) (*efs.FileSystem, []pulumi.Resource, error) {
	cfg := args.Config.EFS
	fsArgs := &efs.FileSystemArgs{
		Encrypted:       pulumi.Bool(true),
		PerformanceMode: pulumi.String(cfg.PerformanceMode),
		ThroughputMode:  pulumi.String(cfg.ThroughputMode),
		// Two policies, as the EFS API wants them: cold files move to Infrequent Access, and a file
		// read again moves back, so an active dataset is not billed per read.
		LifecyclePolicies: efs.FileSystemLifecyclePolicyArray{
			efs.FileSystemLifecyclePolicyArgs{TransitionToIa: pulumi.String(cfg.TransitionToIA)},
			efs.FileSystemLifecyclePolicyArgs{TransitionToPrimaryStorageClass: pulumi.String("AFTER_1_ACCESS")},
		},
		Tags: pulumi.StringMap{"Name": pulumi.Sprintf("%s-datasets", args.ClusterName)},
	}
	if cfg.ThroughputMode == "provisioned" {
		fsArgs.ProvisionedThroughputInMibps = pulumi.Float64(float64(cfg.ProvisionedThroughputMibps))
	}
	// The datasets live here: protected and kept on delete in prod.
	fs, err := efs.NewFileSystem(ctx, name+"-efs", fsArgs, parent,
		pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect))
	if err != nil {
		return nil, nil, fmt.Errorf("storage: efs file system: %w", err)
	}

	status := "DISABLED"
	if *cfg.Backups { // decided in stacks: on unless the AWS Backup plan covers the file system
		status = "ENABLED"
	}
	if _, err := efs.NewBackupPolicy(ctx, name+"-efs-backup", &efs.BackupPolicyArgs{
		FileSystemId: fs.ID(),
		BackupPolicy: efs.BackupPolicyBackupPolicyArgs{Status: pulumi.String(status)},
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("storage: efs backup policy: %w", err)
	}

	// No inline rules and no egress: mount targets only answer NFS connections (security groups
	// are stateful). revokeRulesOnDelete lets destroy remove the group even if a rule was added by hand.
	sg, err := ec2.NewSecurityGroup(ctx, name+"-efs", &ec2.SecurityGroupArgs{
		VpcId:               args.VpcID,
		Description:         pulumi.String("EFS mount targets: NFS from the EKS nodes only"),
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                pulumi.StringMap{"Name": pulumi.Sprintf("%s-efs", args.ClusterName)},
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: efs security group: %w", err)
	}
	rule, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-efs-nfs", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           sg.ID(),
		Description:               pulumi.String("NFS from the EKS nodes"),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(NFSPort),
		ToPort:                    pulumi.Int(NFSPort),
		ReferencedSecurityGroupId: args.NodeSecurityGroupID,
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: efs nfs rule: %w", err)
	}

	// One mount target per private subnet (EFS allows one per zone). Each takes the subnet and the
	// security group as inputs, so destroy removes the mount targets' ENIs before either.
	needs := []pulumi.Resource{rule}
	subnets := args.PrivateSubnetIDs.ToStringArrayOutput()
	for i, az := range args.Zones {
		mt, err := efs.NewMountTarget(ctx, name+"-efs-"+az, &efs.MountTargetArgs{
			FileSystemId:   fs.ID(),
			SubnetId:       subnets.Index(pulumi.Int(i)),
			SecurityGroups: pulumi.StringArray{sg.ID()},
		}, parent)
		if err != nil {
			return nil, nil, fmt.Errorf("storage: efs mount target %s: %w", az, err)
		}
		needs = append(needs, mt)
	}
	return fs, needs, nil
}
