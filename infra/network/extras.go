package network

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	awsvpc "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/stacks"
)

// ecrServices are the two interface endpoints image pulls from ECR need: ecr.api (authentication,
// image manifests' metadata) and ecr.dkr (the Docker Registry API); the layers themselves come from
// S3, through the gateway endpoint (Amazon ECR User Guide, "Amazon ECR interface VPC endpoints (AWS
// PrivateLink)").
var ecrServices = []string{"ecr.api", "ecr.dkr"}

// HTTPSPort is the port interface endpoints answer on.
const HTTPSPort = 443

// privateZone is a private subnet and its zone and block.
type privateZone struct {
	zone, cidr string
	subnetID   pulumi.StringInput
}

// newEndpointsAndFlowLogs adds the S3 gateway endpoint to the private route tables (S3 traffic then
// skips the NAT gateways; gateway endpoints cost nothing), the ECR interface endpoints, and the VPC
// flow logs. Nothing waits for them: until an endpoint is available, its service's names resolve to
// the public addresses and the traffic takes the NAT gateways, as without it.
func newEndpointsAndFlowLogs(ctx *pulumi.Context, name string, cfg stacks.Network, vpcID pulumi.IDOutput,
	privateRouteTables pulumi.StringArray, private []privateZone, parent pulumi.ResourceOption,
) error {
	var region string
	if cfg.S3EndpointEnabled() || cfg.Endpoints.ECR {
		r, err := aws.GetRegion(ctx, nil)
		if err != nil {
			return fmt.Errorf("network: region: %w", err)
		}
		region = r.Name
	}
	if cfg.Endpoints.ECR {
		if err := newECREndpoints(ctx, name, region, vpcID, private, parent); err != nil {
			return err
		}
	}
	if cfg.S3EndpointEnabled() {
		if _, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
			VpcId:           vpcID,
			ServiceName:     pulumi.String("com.amazonaws." + region + ".s3"),
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

// newECREndpoints creates the ecr.api and ecr.dkr interface endpoints in every private subnet with
// private DNS (the nodes' and pods' usual ECR names then resolve to the endpoints), and their
// security group: HTTPS from the private subnets only, which is what the endpoints must allow (same
// guide, considerations). Each endpoint is billed per hour and zone, plus per GB processed.
func newECREndpoints(ctx *pulumi.Context, name, region string, vpcID pulumi.IDOutput, private []privateZone, parent pulumi.ResourceOption) error {
	sg, err := ec2.NewSecurityGroup(ctx, name+"-ecr-endpoints", &ec2.SecurityGroupArgs{
		VpcId:               vpcID,
		Description:         pulumi.String("ECR interface endpoints: HTTPS from the private subnets"),
		RevokeRulesOnDelete: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return fmt.Errorf("network: ecr endpoint security group: %w", err)
	}
	var subnets pulumi.StringArray
	for _, p := range private {
		if _, err := awsvpc.NewSecurityGroupIngressRule(ctx, name+"-ecr-endpoints-"+p.zone, &awsvpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(),
			Description:     pulumi.String("HTTPS from the private subnet in " + p.zone),
			IpProtocol:      pulumi.String("tcp"),
			FromPort:        pulumi.Int(HTTPSPort),
			ToPort:          pulumi.Int(HTTPSPort),
			CidrIpv4:        pulumi.String(p.cidr),
		}, parent); err != nil {
			return fmt.Errorf("network: ecr endpoint rule %s: %w", p.zone, err)
		}
		subnets = append(subnets, p.subnetID)
	}
	for _, svc := range ecrServices {
		if _, err := ec2.NewVpcEndpoint(ctx, name+"-"+strings.ReplaceAll(svc, ".", "-"), &ec2.VpcEndpointArgs{
			VpcId:             vpcID,
			ServiceName:       pulumi.String("com.amazonaws." + region + "." + svc),
			VpcEndpointType:   pulumi.String("Interface"),
			SubnetIds:         subnets,
			SecurityGroupIds:  pulumi.StringArray{sg.ID()},
			PrivateDnsEnabled: pulumi.Bool(true),
		}, parent); err != nil {
			return fmt.Errorf("network: %s endpoint: %w", svc, err)
		}
	}
	return nil
}
