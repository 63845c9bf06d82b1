// Package operations is what keeps an eks-mode stack observable and recoverable: metrics-server and
// CloudWatch Container Insights (metrics.go), CloudWatch alarms that e-mail people (alarms.go), and
// the AWS Backup vault and plan (backup.go). Nothing here is on the first up's critical path: every
// resource waits only for what it reads.
package operations

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Type is the component's type token.
const Type = "openneuro:operations:Operations"

// Args are the inputs of the operations layer.
type Args struct {
	// Config is openneuro:operations as stacks.Load returns it (eks mode, defaults filled).
	Config stacks.Operations
	// ClusterName is the EKS cluster's name (cluster.name).
	ClusterName string
	// Region is the stack's AWS region.
	Region string
	// OIDCProviderARN and OIDCIssuer are the cluster's IRSA identity provider.
	OIDCProviderARN pulumi.StringInput
	OIDCIssuer      pulumi.StringInput
	// NodeGroups: the add-ons run pods, so they wait for nodes (an add-on created before them waits
	// out its 20-minute timeout).
	NodeGroups []pulumi.Resource
	// MinNodes is the sum of the node groups' minSize: fewer nodes than that is an outage.
	MinNodes int
	// FileSystemID and FileSystemARN are the EFS file system of the datasets; nil when the stack
	// has none (app.generation current): no EFS alarms and no EFS backup selection then.
	FileSystemID  pulumi.StringInput
	FileSystemARN pulumi.StringInput
	// EFSThroughputMode is storage.efs.throughputMode (the burst-credit alarm needs bursting).
	EFSThroughputMode string
	// App names the application's namespace and object prefix, for the pod alarms and the backup of
	// its volumes.
	App stacks.OpenNeuro
	// LoadBalancerARNSuffix is the site's ALB (app/<name>/<id>, ingress.LoadBalancerOf); nil leaves out the ALB
	// alarm.
	LoadBalancerARNSuffix pulumi.StringInput
	// TargetGroups are the ALB's target groups (ingress.TargetGroupOf), one unhealthy-targets alarm
	// each; used only with LoadBalancerARNSuffix.
	TargetGroups []TargetGroup
	// Protect protects and retains the backup vault and its key (prod).
	Protect bool
}

// TargetGroup is one of the ALB's target groups: the Service behind it and its CloudWatch dimension.
type TargetGroup struct {
	// Service is the Kubernetes Service whose pods are the targets, e.g. openneuro-prod-api.
	Service string
	// ARNSuffix is targetgroup/<name>/<id>, the TargetGroup dimension of its metrics.
	ARNSuffix pulumi.StringInput
}

// Operations is the layer's result.
type Operations struct {
	pulumi.ResourceState

	// AlarmTopicARN is the SNS topic every alarm notifies ("" without alarms).
	AlarmTopicARN pulumi.StringOutput `pulumi:"alarmTopicArn"`
	// BackupVaultName is the AWS Backup vault ("" without backups).
	BackupVaultName pulumi.StringOutput `pulumi:"backupVaultName"`
	// BackupRoleARN is the role AWS Backup assumes, the --iam-role-arn of a restore job ("" without
	// backups).
	BackupRoleARN pulumi.StringOutput `pulumi:"backupRoleArn"`
}

// New creates the enabled parts of the operations layer.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Operations, error) {
	if args == nil || args.ClusterName == "" || args.Region == "" || (args.FileSystemID == nil) != (args.FileSystemARN == nil) {
		return nil, errors.New("operations: ClusterName and Region are required, FileSystemID and FileSystemARN both or neither")
	}
	if !args.Config.FromLoad() {
		return nil, errors.New("operations: Config must be the operations config from stacks.Load")
	}
	comp := &Operations{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)
	cfg := args.Config
	if err := newMetrics(ctx, name, args, parent); err != nil {
		return nil, fmt.Errorf("operations: metrics: %w", err)
	}
	comp.AlarmTopicARN = pulumi.String("").ToStringOutput()
	if cfg.AlarmsEnabled() {
		topic, err := newAlarms(ctx, name, args, parent)
		if err != nil {
			return nil, fmt.Errorf("operations: alarms: %w", err)
		}
		comp.AlarmTopicARN = topic
	}
	comp.BackupVaultName = pulumi.String("").ToStringOutput()
	comp.BackupRoleARN = pulumi.String("").ToStringOutput()
	if cfg.BackupEnabled() {
		vault, role, err := newBackup(ctx, name, args, parent)
		if err != nil {
			return nil, fmt.Errorf("operations: backup: %w", err)
		}
		comp.BackupVaultName, comp.BackupRoleARN = vault, role
	}
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"alarmTopicArn": comp.AlarmTopicARN, "backupVaultName": comp.BackupVaultName, "backupRoleArn": comp.BackupRoleARN,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}
