package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/stacks"
)

// newEndpointsAndFlowLogs adds the S3 gateway endpoint to the private route tables (S3 traffic then
// skips the NAT gateways; gateway endpoints cost nothing) and the VPC flow logs.
func newEndpointsAndFlowLogs(ctx *pulumi.Context, name string, cfg stacks.Network, vpcID pulumi.IDOutput,
	privateRouteTables pulumi.StringArray, parent pulumi.ResourceOption,
) error {
	if cfg.S3EndpointEnabled() {
		region, err := aws.GetRegion(ctx, nil)
		if err != nil {
			return fmt.Errorf("network: region: %w", err)
		}
		if _, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
			VpcId:           vpcID,
			ServiceName:     pulumi.String("com.amazonaws." + region.Name + ".s3"),
			VpcEndpointType: pulumi.String("Gateway"),
			RouteTableIds:   privateRouteTables,
		}, parent); err != nil {
			return fmt.Errorf("network: s3 endpoint: %w", err)
		}
	}
	if !cfg.FlowLogsEnabled() {
		return nil
	}
	lg, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		RetentionInDays: pulumi.Int(cfg.FlowLogs.RetentionDays),
	}, parent)
	if err != nil {
		return fmt.Errorf("network: flow log group: %w", err)
	}
	trust, err := irsa.AssumeRoleByService("vpc-flow-logs.amazonaws.com").JSON()
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		Description: pulumi.String("VPC flow logs to CloudWatch Logs"), AssumeRolePolicy: pulumi.String(trust),
	}, parent)
	if err != nil {
		return fmt.Errorf("network: flow log role: %w", err)
	}
	// The permissions the VPC User Guide lists for publishing flow logs to CloudWatch Logs, on this
	// log group only.
	policy := lg.Arn.ApplyT(func(arn string) (string, error) {
		return irsa.Document{Version: irsa.PolicyVersion, Statement: []irsa.Statement{{
			Effect:   "Allow",
			Action:   irsa.Values{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"},
			Resource: irsa.Values{arn, arn + ":*"},
		}}}.JSON()
	}).(pulumi.StringOutput)
	rp, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{Role: role.ID(), Policy: policy}, parent)
	if err != nil {
		return fmt.Errorf("network: flow log policy: %w", err)
	}
	if _, err := ec2.NewFlowLog(ctx, name+"-flow-logs", &ec2.FlowLogArgs{
		VpcId:              vpcID,
		TrafficType:        pulumi.String(cfg.FlowLogs.TrafficType),
		LogDestinationType: pulumi.String("cloud-watch-logs"),
		LogDestination:     lg.Arn,
		IamRoleArn:         role.Arn,
	}, parent, pulumi.DependsOn([]pulumi.Resource{rp})); err != nil {
		return fmt.Errorf("network: flow log: %w", err)
	}
	return nil
}
