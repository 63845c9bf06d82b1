package ingress

import "github.com/openneuro/openneuro-infra/infra/irsa"

// ControllerPolicySource is where ControllerPolicy is transcribed from: the IAM policy published
// with controller v2.14.0, the appVersion of the pinned chart 1.14.0. Bumping
// ingress.controllerChartVersion to a chart of another controller version means diffing this
// document against that version's file first.
const ControllerPolicySource = "https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/v2.14.0/docs/install/iam_policy.json"

// ControllerPolicySHA256 is the sha256 of the file at ControllerPolicySource. The file is the same
// at every controller tag from v2.14.0 to v3.5.0; a chart row of stacks/ingress.go with another
// checksum needs this transcription redone first.
const ControllerPolicySHA256 = "16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a"

// Tag conditions of the upstream policy: the controller tags everything it creates with
// elbv2.k8s.aws/cluster, and may only modify or delete what carries that tag.
const (
	requestClusterTag  = "aws:RequestTag/elbv2.k8s.aws/cluster"
	resourceClusterTag = "aws:ResourceTag/elbv2.k8s.aws/cluster"
)

var (
	loadBalancerARNs = irsa.Values{
		"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
		"arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
		"arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
	}
	securityGroupARNs = irsa.Values{"arn:aws:ec2:*:*:security-group/*"}
	anyResource       = irsa.Values{"*"}
)

// ControllerPolicy is the AWS Load Balancer Controller's permissions policy, statement for
// statement as upstream publishes it (ControllerPolicySource). Statements with Resource "*" name
// only read actions, actions scoped by a tag condition, or actions whose API has no resource-level
// permissions; none grants every action.
func ControllerPolicy() irsa.Document {
	return irsa.Document{Version: irsa.PolicyVersion, Statement: []irsa.Statement{
		{
			Effect:    "Allow",
			Action:    irsa.Values{"iam:CreateServiceLinkedRole"},
			Resource:  anyResource,
			Condition: irsa.Condition{"StringEquals": {"iam:AWSServiceName": {"elasticloadbalancing.amazonaws.com"}}},
		},
		{
			Effect: "Allow",
			Action: irsa.Values{
				"ec2:DescribeAccountAttributes",
				"ec2:DescribeAddresses",
				"ec2:DescribeAvailabilityZones",
				"ec2:DescribeInternetGateways",
				"ec2:DescribeVpcs",
				"ec2:DescribeVpcPeeringConnections",
				"ec2:DescribeSubnets",
				"ec2:DescribeSecurityGroups",
				"ec2:DescribeInstances",
				"ec2:DescribeNetworkInterfaces",
				"ec2:DescribeTags",
				"ec2:GetCoipPoolUsage",
				"ec2:DescribeCoipPools",
				"ec2:GetSecurityGroupsForVpc",
				"ec2:DescribeIpamPools",
				"ec2:DescribeRouteTables",
				"elasticloadbalancing:DescribeLoadBalancers",
				"elasticloadbalancing:DescribeLoadBalancerAttributes",
				"elasticloadbalancing:DescribeListeners",
				"elasticloadbalancing:DescribeListenerCertificates",
				"elasticloadbalancing:DescribeSSLPolicies",
				"elasticloadbalancing:DescribeRules",
				"elasticloadbalancing:DescribeTargetGroups",
				"elasticloadbalancing:DescribeTargetGroupAttributes",
				"elasticloadbalancing:DescribeTargetHealth",
				"elasticloadbalancing:DescribeTags",
				"elasticloadbalancing:DescribeTrustStores",
				"elasticloadbalancing:DescribeListenerAttributes",
				"elasticloadbalancing:DescribeCapacityReservation",
			},
			Resource: anyResource,
		},
		{
			Effect: "Allow",
			Action: irsa.Values{
				"cognito-idp:DescribeUserPoolClient",
				"acm:ListCertificates",
				"acm:DescribeCertificate",
				"iam:ListServerCertificates",
				"iam:GetServerCertificate",
				"waf-regional:GetWebACL",
				"waf-regional:GetWebACLForResource",
				"waf-regional:AssociateWebACL",
				"waf-regional:DisassociateWebACL",
				"wafv2:GetWebACL",
				"wafv2:GetWebACLForResource",
				"wafv2:AssociateWebACL",
				"wafv2:DisassociateWebACL",
				"shield:GetSubscriptionState",
				"shield:DescribeProtection",
				"shield:CreateProtection",
				"shield:DeleteProtection",
			},
			Resource: anyResource,
		},
		{
			Effect:   "Allow",
			Action:   irsa.Values{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"},
			Resource: anyResource,
		},
		{
			Effect:   "Allow",
			Action:   irsa.Values{"ec2:CreateSecurityGroup"},
			Resource: anyResource,
		},
		{
			Effect:   "Allow",
			Action:   irsa.Values{"ec2:CreateTags"},
			Resource: securityGroupARNs,
			Condition: irsa.Condition{
				"StringEquals": {"ec2:CreateAction": {"CreateSecurityGroup"}},
				"Null":         {requestClusterTag: {"false"}},
			},
		},
		{
			Effect:    "Allow",
			Action:    irsa.Values{"ec2:CreateTags", "ec2:DeleteTags"},
			Resource:  securityGroupARNs,
			Condition: irsa.Condition{"Null": {requestClusterTag: {"true"}, resourceClusterTag: {"false"}}},
		},
		{
			Effect:    "Allow",
			Action:    irsa.Values{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"},
			Resource:  anyResource,
			Condition: irsa.Condition{"Null": {resourceClusterTag: {"false"}}},
		},
		{
			Effect:    "Allow",
			Action:    irsa.Values{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"},
			Resource:  anyResource,
			Condition: irsa.Condition{"Null": {requestClusterTag: {"false"}}},
		},
		{
			Effect: "Allow",
			Action: irsa.Values{
				"elasticloadbalancing:CreateListener",
				"elasticloadbalancing:DeleteListener",
				"elasticloadbalancing:CreateRule",
				"elasticloadbalancing:DeleteRule",
			},
			Resource: anyResource,
		},
		{
			Effect:    "Allow",
			Action:    irsa.Values{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
			Resource:  loadBalancerARNs,
			Condition: irsa.Condition{"Null": {requestClusterTag: {"true"}, resourceClusterTag: {"false"}}},
		},
		{
			Effect: "Allow",
			Action: irsa.Values{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
			Resource: irsa.Values{
				"arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
				"arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
				"arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
				"arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
			},
		},
		{
			Effect: "Allow",
			Action: irsa.Values{
				"elasticloadbalancing:ModifyLoadBalancerAttributes",
				"elasticloadbalancing:SetIpAddressType",
				"elasticloadbalancing:SetSecurityGroups",
				"elasticloadbalancing:SetSubnets",
				"elasticloadbalancing:DeleteLoadBalancer",
				"elasticloadbalancing:ModifyTargetGroup",
				"elasticloadbalancing:ModifyTargetGroupAttributes",
				"elasticloadbalancing:DeleteTargetGroup",
				"elasticloadbalancing:ModifyListenerAttributes",
				"elasticloadbalancing:ModifyCapacityReservation",
				"elasticloadbalancing:ModifyIpPools",
			},
			Resource:  anyResource,
			Condition: irsa.Condition{"Null": {resourceClusterTag: {"false"}}},
		},
		{
			Effect:   "Allow",
			Action:   irsa.Values{"elasticloadbalancing:AddTags"},
			Resource: loadBalancerARNs,
			Condition: irsa.Condition{
				"StringEquals": {"elasticloadbalancing:CreateAction": {"CreateTargetGroup", "CreateLoadBalancer"}},
				"Null":         {requestClusterTag: {"false"}},
			},
		},
		{
			Effect:   "Allow",
			Action:   irsa.Values{"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"},
			Resource: irsa.Values{"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"},
		},
		{
			Effect: "Allow",
			Action: irsa.Values{
				"elasticloadbalancing:SetWebAcl",
				"elasticloadbalancing:ModifyListener",
				"elasticloadbalancing:AddListenerCertificates",
				"elasticloadbalancing:RemoveListenerCertificates",
				"elasticloadbalancing:ModifyRule",
				"elasticloadbalancing:SetRulePriorities",
			},
			Resource: anyResource,
		},
	}}
}
