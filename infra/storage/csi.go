package storage

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/infra/labels"
	"github.com/openneuro/openneuro-infra/stacks"
)

// CSI drivers as EKS add-ons. The add-ons create their controller service accounts in kube-system
// under these fixed names and annotate them with serviceAccountRoleArn.
const (
	EFSAddon          = "aws-efs-csi-driver"
	EFSProvisioner    = "efs.csi.aws.com"
	EFSControllerSA   = "efs-csi-controller-sa"
	EBSAddon          = "aws-ebs-csi-driver"
	EBSProvisioner    = "ebs.csi.aws.com"
	EBSControllerSA   = "ebs-csi-controller-sa"
	DriversNamespace  = "kube-system"
	efsDirectoryPerms = "700"
)

// addon is one CSI driver add-on.
type addon struct {
	role    string // logical name part
	name    string // EKS add-on name
	version string
	sa      string
	policy  string // AWS managed policy path
}

// newDrivers installs the CSI add-ons and their StorageClasses: EBS and gp3 always, EFS and its
// class for the file system fs (none when fs is nil). Each class depends on its driver, so it is
// never used before the driver runs, and destroy deletes it first.
func newDrivers(ctx *pulumi.Context, name string, args *Args, fs *efs.FileSystem, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
	cfg := args.Config
	ebsDriver, err := newAddon(ctx, name, args, addon{
		role: "ebs-csi", name: EBSAddon, version: cfg.EBSCSIDriverVersion,
		sa: EBSControllerSA, policy: "service-role/AmazonEBSCSIDriverPolicy",
	}, parent)
	if err != nil {
		return nil, err
	}
	gp3Class, err := newGP3Class(ctx, name, cfg, ebsDriver, parent)
	if err != nil {
		return nil, err
	}
	if fs == nil {
		return []pulumi.Resource{ebsDriver, gp3Class}, nil
	}
	efsDriver, err := newAddon(ctx, name, args, addon{
		role: "efs-csi", name: EFSAddon, version: cfg.EFSCSIDriverVersion,
		sa: EFSControllerSA, policy: "service-role/AmazonEFSCSIDriverPolicy",
	}, parent)
	if err != nil {
		return nil, err
	}

	// Dynamic provisioning makes one EFS access point per volume; 700 keeps a volume's directory
	// to the access point's own uid. uid/gid fix that owner (the driver otherwise allocates one
	// from 50000 up per volume) to storage.efs.owner: the identity the images run as.
	uid, gid := cfg.EFS.UIDGID()
	efsClass, err := storagev1.NewStorageClass(ctx, name+"-efs", &storagev1.StorageClassArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:        pulumi.String(stacks.EFSStorageClass),
			Labels:      classLabels(stacks.EFSStorageClass, EFSAddon, cfg.EFSCSIDriverVersion),
			Annotations: kubeprovider.Annotations(nil),
		},
		Provisioner: pulumi.String(EFSProvisioner),
		Parameters: pulumi.StringMap{
			"provisioningMode": pulumi.String("efs-ap"),
			"fileSystemId":     fs.ID(),
			"directoryPerms":   pulumi.String(efsDirectoryPerms),
			"uid":              pulumi.String(uid),
			"gid":              pulumi.String(gid),
		},
		ReclaimPolicy: pulumi.String(cfg.ReclaimPolicy),
	}, parent, pulumi.DependsOn([]pulumi.Resource{efsDriver}))
	if err != nil {
		return nil, fmt.Errorf("storage: efs storage class: %w", err)
	}
	return []pulumi.Resource{efsDriver, ebsDriver, efsClass, gp3Class}, nil
}

// newGP3Class is the gp3 class of block volumes: redis, and the current generation's worker disks.
func newGP3Class(ctx *pulumi.Context, name string, cfg stacks.Storage, ebsDriver pulumi.Resource, parent pulumi.ResourceOption) (*storagev1.StorageClass, error) {
	// EBS volumes live in one zone: WaitForFirstConsumer creates them where the pod was scheduled.
	gp3Class, err := storagev1.NewStorageClass(ctx, name+"-gp3", &storagev1.StorageClassArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:        pulumi.String(stacks.GP3StorageClass),
			Labels:      classLabels(stacks.GP3StorageClass, EBSAddon, cfg.EBSCSIDriverVersion),
			Annotations: kubeprovider.Annotations(nil),
		},
		Provisioner: pulumi.String(EBSProvisioner),
		Parameters: pulumi.StringMap{
			"type":      pulumi.String("gp3"),
			"encrypted": pulumi.String("true"),
		},
		ReclaimPolicy:        pulumi.String(cfg.ReclaimPolicy),
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		AllowVolumeExpansion: pulumi.Bool(true),
	}, parent, pulumi.DependsOn([]pulumi.Resource{ebsDriver}))
	if err != nil {
		return nil, fmt.Errorf("storage: gp3 storage class: %w", err)
	}
	return gp3Class, nil
}

// newAddon creates a CSI driver's IRSA role and its EKS add-on, pinned to the configured version.
// The add-on waits for the node groups (its controller Deployment needs nodes) and for the role's
// policy attachments.
func newAddon(ctx *pulumi.Context, name string, args *Args, a addon, parent pulumi.ResourceOption) (*awseks.Addon, error) {
	role, err := irsa.NewRole(ctx, name+"-"+a.role, &irsa.RoleArgs{
		OIDCProviderARN: args.OIDCProviderARN,
		OIDCIssuer:      args.OIDCIssuer,
		Namespace:       DriversNamespace,
		ServiceAccount:  a.sa,
		Description:     "IRSA role of the " + a.name + " controller",
		Policies:        map[string]pulumi.StringInput{policyName(a.policy): pulumi.String(irsa.ManagedPolicyARN(a.policy))},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("storage: %s role: %w", a.role, err)
	}
	deps := append(append([]pulumi.Resource{}, args.NodeGroups...), role.Ready...)
	ad, err := awseks.NewAddon(ctx, name+"-"+a.role, &awseks.AddonArgs{
		ClusterName:           args.ClusterName,
		AddonName:             pulumi.String(a.name),
		AddonVersion:          pulumi.String(a.version),
		ServiceAccountRoleArn: role.ARN,
		// Adopt a self-managed install on create; keep the add-on on EKS's defaults afterwards.
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
	}, parent, pulumi.DependsOn(deps))
	if err != nil {
		return nil, fmt.Errorf("storage: %s add-on: %w", a.role, err)
	}
	return ad, nil
}

// policyName is the last element of a managed policy path.
func policyName(path string) string { return path[strings.LastIndex(path, "/")+1:] }

func classLabels(class, driver, version string) pulumi.StringMap {
	return labels.Set{Name: driver, Instance: class, Component: "storage-class", Version: version}.Labels()
}
