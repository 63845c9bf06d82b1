package operations

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/irsa"
)

// The amazon-cloudwatch-observability add-on runs the CloudWatch agent and Fluent Bit as
// DaemonSets on every node (tolerating every taint, host network, so IMDS hop limit 1 is no
// obstacle) under the service account amazon-cloudwatch/cloudwatch-agent (aws-observability/
// helm-charts, charts/amazon-cloudwatch-observability), which its IRSA role trusts alone.
const (
	CloudWatchAddon          = "amazon-cloudwatch-observability"
	CloudWatchNamespace      = "amazon-cloudwatch"
	CloudWatchServiceAccount = "cloudwatch-agent"
	MetricsServerAddon       = "metrics-server"
)

// ContainerInsightsLogGroups are the log groups the add-on writes (Fluent Bit: application,
// dataplane, host; the agent: performance), created here first so that they get a retention
// instead of the add-on creating them without one.
func ContainerInsightsLogGroups(cluster string) map[string]string {
	groups := map[string]string{}
	for _, k := range []string{"application", "dataplane", "host", "performance"} {
		groups[k] = "/aws/containerinsights/" + cluster + "/" + k
	}
	return groups
}

func newMetrics(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption) error {
	cfg := args.Config
	if cfg.MetricsServerEnabled() {
		if _, err := awseks.NewAddon(ctx, name+"-metrics-server", &awseks.AddonArgs{
			ClusterName:              pulumi.String(args.ClusterName),
			AddonName:                pulumi.String(MetricsServerAddon),
			AddonVersion:             pulumi.String(cfg.Metrics.MetricsServerVersion),
			ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
			ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		}, parent, pulumi.DependsOn(args.NodeGroups)); err != nil {
			return fmt.Errorf("metrics-server add-on: %w", err)
		}
	}
	if !cfg.ContainerInsightsEnabled() {
		return nil
	}
	deps := append([]pulumi.Resource{}, args.NodeGroups...)
	groups := ContainerInsightsLogGroups(args.ClusterName)
	for _, key := range []string{"application", "dataplane", "host", "performance"} {
		lg, err := cloudwatch.NewLogGroup(ctx, name+"-logs-"+key, &cloudwatch.LogGroupArgs{
			Name:            pulumi.String(groups[key]),
			RetentionInDays: pulumi.Int(cfg.Metrics.LogRetentionDays),
		}, parent)
		if err != nil {
			return fmt.Errorf("log group %s: %w", key, err)
		}
		deps = append(deps, lg)
	}
	role, err := irsa.NewRole(ctx, name+"-cloudwatch", &irsa.RoleArgs{
		OIDCProviderARN: args.OIDCProviderARN, OIDCIssuer: args.OIDCIssuer,
		Namespace: CloudWatchNamespace, ServiceAccount: CloudWatchServiceAccount,
		Description: "IRSA role of the CloudWatch agent and Fluent Bit (Container Insights)",
		// Metrics and logs only; the add-on's Application Signals traces would also need X-Ray.
		Policies: map[string]pulumi.StringInput{"CloudWatchAgentServerPolicy": pulumi.String(irsa.ManagedPolicyARN("CloudWatchAgentServerPolicy"))},
	}, parent)
	if err != nil {
		return err
	}
	deps = append(deps, role.Ready...)
	if _, err := awseks.NewAddon(ctx, name+"-cloudwatch", &awseks.AddonArgs{
		ClusterName:              pulumi.String(args.ClusterName),
		AddonName:                pulumi.String(CloudWatchAddon),
		AddonVersion:             pulumi.String(cfg.Metrics.CloudWatchAddonVersion),
		ServiceAccountRoleArn:    role.ARN,
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
	}, parent, pulumi.DependsOn(deps)); err != nil {
		return fmt.Errorf("cloudwatch add-on: %w", err)
	}
	return nil
}
