package operations

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/infra/openneuro"
)

// Backup selects the data that cannot be recreated: the EFS file system of the datasets, and every
// EBS volume the CSI driver creates for a claim in the app namespace (the driver tags each volume
// with its claim: kubernetes.io/created-for/pvc/{namespace,name}) except redis's. Redis holds the
// Celery queue and the API cache: a restored copy would replay tasks that already ran against
// datasets that moved on, and an empty redis refills itself.
const (
	// PVCNamespaceTag and PVCNameTag are the tags the EBS CSI driver puts on the volumes it creates.
	PVCNamespaceTag = "kubernetes.io/created-for/pvc/namespace"
	PVCNameTag      = "kubernetes.io/created-for/pvc/name"
)

// BackupServicePolicies are the AWS managed policies of the role AWS Backup assumes.
var BackupServicePolicies = []string{
	"service-role/AWSBackupServiceRolePolicyForBackup",
	"service-role/AWSBackupServiceRolePolicyForRestores",
}

func newBackup(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption) (vaultName, roleARN pulumi.StringOutput, err error) {
	cfg := args.Config.Backup
	keep := []pulumi.ResourceOption{parent, pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect)}
	vault, err := newVault(ctx, name+"-backup", args.ClusterName+"-backup", nil, args.Protect, keep)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	rule := backup.PlanRuleArgs{
		RuleName:        pulumi.String("daily"),
		TargetVaultName: vault.Name,
		Schedule:        pulumi.String(cfg.Schedule),
		// Start within an hour, finish within a day (the first EFS backup copies everything).
		StartWindow:      pulumi.Int(60),
		CompletionWindow: pulumi.Int(24 * 60),
		Lifecycle:        backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(cfg.RetentionDays)},
	}
	if cfg.CopyRegion != "" {
		// The copy's vault and key live in the other region, through a provider of that region.
		provider, err := aws.NewProvider(ctx, name+"-backup-copy-region", &aws.ProviderArgs{Region: pulumi.String(cfg.CopyRegion)}, parent)
		if err != nil {
			return pulumi.StringOutput{}, pulumi.StringOutput{}, err
		}
		copyVault, err := newVault(ctx, name+"-backup-copy", args.ClusterName+"-backup-copy", provider, args.Protect, keep)
		if err != nil {
			return pulumi.StringOutput{}, pulumi.StringOutput{}, err
		}
		rule.CopyActions = backup.PlanRuleCopyActionArray{backup.PlanRuleCopyActionArgs{
			DestinationVaultArn: copyVault.Arn,
			Lifecycle:           backup.PlanRuleCopyActionLifecycleArgs{DeleteAfter: pulumi.Int(cfg.CopyRetentionDays)},
		}}
	}
	plan, err := backup.NewPlan(ctx, name+"-backup", &backup.PlanArgs{
		Name:  pulumi.String(args.ClusterName + "-daily"),
		Rules: backup.PlanRuleArray{rule},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	trust, err := irsa.AssumeRoleByService("backup.amazonaws.com").JSON()
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	role, err := iam.NewRole(ctx, name+"-backup", &iam.RoleArgs{
		Description:      pulumi.String("AWS Backup of " + args.ClusterName),
		AssumeRolePolicy: pulumi.String(trust),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	var ready []pulumi.Resource
	for _, p := range BackupServicePolicies {
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-backup-"+p[len("service-role/"):], &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(irsa.ManagedPolicyARN(p)),
		}, parent)
		if err != nil {
			return pulumi.StringOutput{}, pulumi.StringOutput{}, err
		}
		ready = append(ready, att)
	}
	if args.FileSystemARN != nil {
		if _, err := backup.NewSelection(ctx, name+"-backup-datasets", &backup.SelectionArgs{
			Name:       pulumi.String("datasets-file-system"),
			PlanId:     plan.ID(),
			IamRoleArn: role.Arn,
			Resources:  pulumi.StringArray{args.FileSystemARN},
		}, parent, pulumi.DependsOn(ready)); err != nil {
			return pulumi.StringOutput{}, pulumi.StringOutput{}, err
		}
	}
	if _, err := backup.NewSelection(ctx, name+"-backup-volumes", &backup.SelectionArgs{
		Name:       pulumi.String("dataset-volumes"),
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		Resources:  pulumi.StringArray{pulumi.String("arn:aws:ec2:*:*:volume/*")},
		Conditions: backup.SelectionConditionArray{backup.SelectionConditionArgs{
			StringEquals: backup.SelectionConditionStringEqualArray{backup.SelectionConditionStringEqualArgs{
				Key: pulumi.String("aws:ResourceTag/" + PVCNamespaceTag), Value: pulumi.String(args.App.Namespace),
			}},
			StringNotLikes: backup.SelectionConditionStringNotLikeArray{backup.SelectionConditionStringNotLikeArgs{
				Key: pulumi.String("aws:ResourceTag/" + PVCNameTag), Value: pulumi.String(openneuro.RedisClaimName(args.App.Release)),
			}},
		}},
	}, parent, pulumi.DependsOn(ready)); err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	return vault.Name, role.Arn, nil
}

// newVault is a vault encrypted with its own customer-managed key (rotation on, 30-day deletion
// window), so recovery points can be shared, copied and audited independently of AWS's default key.
// An unprotected vault is force-destroyed: AWS Backup deletes a vault only once it holds no
// recovery point, so after the first daily run a destroy would stop there, with the cluster or the
// network half deleted. A protected one (prod) is retained, with its recovery points.
func newVault(ctx *pulumi.Context, name, vaultName string, provider *aws.Provider, protect bool, keep []pulumi.ResourceOption) (*backup.Vault, error) {
	opts := append([]pulumi.ResourceOption{}, keep...)
	if provider != nil {
		opts = append(opts, pulumi.Provider(provider))
	}
	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.String("AWS Backup vault " + vaultName),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s key: %w", name, err)
	}
	vault, err := backup.NewVault(ctx, name, &backup.VaultArgs{
		Name:         pulumi.String(vaultName),
		KmsKeyArn:    key.Arn,
		ForceDestroy: pulumi.Bool(!protect),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s vault: %w", name, err)
	}
	return vault, nil
}
