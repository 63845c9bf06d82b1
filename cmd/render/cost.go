package main

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// Price is one list price: US dollars per unit in us-east-1, with where it was read and when.
type Price struct {
	USD  float64
	Unit string
	// Source is where the figure was read; "AWS" sources are AWS's own pages or blog, "third-party"
	// ones are pricing articles that quote AWS's list price.
	Source string
	// Date is the source's date (or, for an undated page, when it was read), YYYY-MM or YYYY-MM-DD.
	Date string
}

// prices are the list prices cost.txt uses, all of us-east-1 (looked up 2026-12-01 in stored copies
// of the pages named; check them against https://aws.amazon.com/pricing before relying on them).
var prices = map[string]Price{
	"eks-cluster-hour": {0.10, "per cluster-hour (standard support)",
		"AWS Containers Blog, \"Amazon EKS extended support for Kubernetes versions pricing\" (standard support: $0.10 per cluster per hour)", "2024-03"},
	"nat-gateway-hour": {0.045, "per NAT gateway-hour",
		"third-party: basavytix.com/blog/aws-nat-gateway-pricing and cloudpipelines.pages.dev aws-nat-gateway-pricing-2026 (us-east-1)", "2026"},
	"nat-gateway-gb": {0.045, "per GB processed by a NAT gateway",
		"third-party: same as nat-gateway-hour", "2026"},
	"public-ipv4-hour": {0.005, "per public IPv4 address-hour (NAT gateway and ALB addresses included)",
		"AWS announcement as quoted in community.aws \"AWS to Charge Public IPv4 Addresses\" (effective 2024-02-01)", "2024-02-08"},
	"alb-hour": {0.0225, "per ALB-hour",
		"third-party: cloud-horizons.com \"ALB: the line item nobody watches\"", "2026-05-08"},
	"alb-lcu-hour": {0.008, "per LCU-hour (1 LCU = max of 25 new connections/s, 3,000 active connections/min, 1 GB/h, 1,000 rule evaluations/s)",
		"third-party: same as alb-hour", "2026-05-08"},
	"interface-endpoint-hour": {0.01, "per interface endpoint-hour and zone",
		"third-party: oneuptime.com \"How to Create VPC Endpoints with Terraform\"", "2026-02-12"},
	"efs-standard-gb-month": {0.30, "per GB-month, EFS Standard",
		"AWS: aws.amazon.com/efs/pricing (stored copy, undated)", "2026-12-01"},
	"efs-ia-gb-month": {0.025, "per GB-month, EFS Infrequent Access (plus a per-GB access charge)",
		"third-party: factualminds.com \"Amazon EFS Pricing\" (us-east-1, June 2026)", "2026-06"},
	"backup-efs-warm-gb-month": {0.05, "per GB-month of EFS backup in warm storage",
		"third-party: factualminds.com \"AWS Backup Pricing\" (us-east-1)", "2026-06-13"},
	"cloudwatch-logs-ingest-gb": {0.50, "per GB of logs ingested (standard class)",
		"third-party: c3x.dev \"CloudWatch Logs cost optimization\" and hykell.com (us-east-1, June 2026)", "2026-06"},
}

// unpriced are the billed resources this table has no sourced price for: cost.txt lists them as
// missing instead of guessing.
var unpriced = map[string]string{
	"ec2-instance":       "EC2 on-demand prices of the node groups' instance types (no AWS or dated third-party source found for m5a.large or i3en.large)",
	"ebs-gp3-gb-month":   "EBS gp3 storage (node root volumes, gp3 claims): no sourced price per GB-month",
	"ebs-snapshot":       "EBS snapshots of backed-up gp3 volumes: no sourced price",
	"cloudwatch-alarm":   "CloudWatch alarms (per alarm-month) and Container Insights metrics: no sourced price",
	"kms-key":            "KMS customer-managed keys (per key-month): no sourced price",
	"cloudwatch-storage": "CloudWatch Logs storage per GB-month: only third-party figures without a date",
	"sns-notifications":  "SNS e-mail notifications of the alarms (per notification beyond a free tier): no sourced price",
}

// billable says, per resource type, which prices and missing prices a resource of that type incurs.
// Types not listed here cost nothing by themselves (VPC, subnets, routes, IAM, security groups,
// gateway endpoints, Kubernetes objects other than those named).
var billable = map[string][]string{
	"eks:index:Cluster":                        {"eks-cluster-hour"},
	"aws:eks/nodeGroup:NodeGroup":              {"ec2-instance", "ebs-gp3-gb-month"},
	"aws:ec2/natGateway:NatGateway":            {"nat-gateway-hour", "nat-gateway-gb"},
	"aws:ec2/eip:Eip":                          {"public-ipv4-hour"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":          {"interface-endpoint-hour"},
	"aws:efs/fileSystem:FileSystem":            {"efs-standard-gb-month", "efs-ia-gb-month"},
	"aws:backup/vault:Vault":                   {"backup-efs-warm-gb-month", "ebs-snapshot"},
	"aws:cloudwatch/logGroup:LogGroup":         {"cloudwatch-logs-ingest-gb", "cloudwatch-storage"},
	"aws:cloudwatch/metricAlarm:MetricAlarm":   {"cloudwatch-alarm"},
	"aws:kms/key:Key":                          {"kms-key"},
	"aws:ec2/flowLog:FlowLog":                  {"cloudwatch-logs-ingest-gb"},
	"aws:sns/topic:Topic":                      {"sns-notifications"},
	"kubernetes:networking.k8s.io/v1:Ingress":  {"alb-hour", "alb-lcu-hour", "public-ipv4-hour"},
	"kubernetes:core/v1:PersistentVolumeClaim": {"efs-standard-gb-month", "ebs-gp3-gb-month"},
}

// free are the types with no charge of their own: the VPC's plumbing (VPC, subnets, route tables,
// security groups: "all have no charges", usage.ai "AWS network costs", May 2026), IAM, the EKS
// add-ons' and the EFS mount targets' configuration (what they run on or store is priced above),
// and every Kubernetes object other than an Ingress (the ALB) or a claim (a volume): pods run on the
// priced nodes. Components and providers are not resources of AWS at all.
var free = map[string]bool{
	"aws:ec2/vpc:Vpc": true, "aws:ec2/subnet:Subnet": true, "aws:ec2/route:Route": true, "aws:ec2/routeTable:RouteTable": true,
	"aws:ec2/routeTableAssociation:RouteTableAssociation": true, "aws:ec2/internetGateway:InternetGateway": true,
	"aws:ec2/securityGroup:SecurityGroup": true, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": true,
	"aws:ec2/launchTemplate:LaunchTemplate": true, "aws:iam/policy:Policy": true, "aws:iam/role:Role": true,
	"aws:iam/rolePolicy:RolePolicy": true, "aws:iam/rolePolicyAttachment:RolePolicyAttachment": true,
	"aws:efs/backupPolicy:BackupPolicy": true, "aws:efs/mountTarget:MountTarget": true, "aws:eks/addon:Addon": true,
	"aws:backup/plan:Plan": true, "aws:backup/selection:Selection": true,
}

// IsPricedOrFree reports whether cost.txt accounts for a resource type: billed (with prices or named
// as unpriced), or free by itself.
func IsPricedOrFree(typ string) bool {
	if _, ok := billable[typ]; ok || free[typ] {
		return true
	}
	return strings.HasPrefix(typ, "openneuro:") || strings.HasPrefix(typ, "pulumi:providers:") ||
		(strings.HasPrefix(typ, "kubernetes:") && typ != "kubernetes:networking.k8s.io/v1:Ingress" && typ != "kubernetes:core/v1:PersistentVolumeClaim")
}

// assumedLogGBPerMonth is the log volume the CloudWatch line assumes: an assumption, not a
// measurement; the operator's own is in the CloudWatch console (IncomingBytes of the log groups).
const assumedLogGBPerMonth = 30

// hoursPerMonth is AWS's usual month of 730 hours.
const hoursPerMonth = 730

// costLine is one priced line of cost.txt.
type costLine struct {
	what string
	usd  float64
	how  string
}

// writeCost returns cost.txt: the monthly on-demand cost of the stack's fixed resources in the render,
// the per-GB prices of what grows, and what is not priced.
func writeCost(rec *infratest.Recorder, region string) string {
	var lines []costLine
	missing := map[string]bool{}
	add := func(what string, qty float64, key, how string) {
		p := prices[key]
		lines = append(lines, costLine{what, qty * p.USD, fmt.Sprintf("%s x $%g %s [%s]", how, p.USD, p.Unit, key)})
	}
	zones := 0
	for _, r := range rec.Resources() {
		for _, key := range billable[r.Type] {
			if _, ok := prices[key]; !ok {
				missing[key] = true
			}
		}
		in := r.Plain(false)
		switch r.Type {
		case "eks:index:Cluster":
			add("EKS control plane "+r.Name, hoursPerMonth, "eks-cluster-hour", "730 h")
		case "aws:eks/nodeGroup:NodeGroup":
			sc, _ := in["scalingConfig"].(map[string]any)
			lines = append(lines, costLine{what: fmt.Sprintf("node group %s: %v x %v", r.Name, sc["desiredSize"], in["instanceTypes"]), usd: -1,
				how: "not priced: " + unpriced["ec2-instance"]})
		case "aws:ec2/natGateway:NatGateway":
			add("NAT gateway "+r.Name, hoursPerMonth, "nat-gateway-hour", "730 h")
		case "aws:ec2/eip:Eip":
			add("public IPv4 of "+r.Name, hoursPerMonth, "public-ipv4-hour", "730 h")
		case "aws:ec2/vpcEndpoint:VpcEndpoint":
			if in["vpcEndpointType"] == "Interface" {
				n, _ := in["subnetIds"].([]any)
				add(fmt.Sprintf("interface endpoint %s in %d zones", r.Name, len(n)), float64(len(n)*hoursPerMonth), "interface-endpoint-hour", fmt.Sprintf("%d zones x 730 h", len(n)))
			}
		case "aws:ec2/subnet:Subnet":
			if strings.Contains(r.Name, "public") {
				zones++
			}
		case "kubernetes:core/v1:PersistentVolumeClaim":
			spec, _ := in["spec"].(map[string]any)
			class, _ := spec["storageClassName"].(string)
			req, _ := spec["resources"].(map[string]any)["requests"].(map[string]any)["storage"].(string)
			q, err := resource.ParseQuantity(req)
			if err != nil {
				continue
			}
			gib := float64(q.Value()) / (1 << 30)
			switch class {
			case "efs":
				add(fmt.Sprintf("EFS Standard at the %s claim's %s (EFS bills what is stored)", r.Name, req), gib, "efs-standard-gb-month", fmt.Sprintf("%g GB", gib))
				add(fmt.Sprintf("AWS Backup of that file system, one full copy at %s (increments add to it)", req), gib, "backup-efs-warm-gb-month", fmt.Sprintf("%g GB", gib))
			case "gp3":
				lines = append(lines, costLine{what: fmt.Sprintf("gp3 volume of claim %s: %s", r.Name, req), usd: -1, how: "not priced: " + unpriced["ebs-gp3-gb-month"]})
			}
		}
	}
	if ing := rec.ByType("kubernetes:networking.k8s.io/v1:Ingress"); len(ing) > 0 && zones > 0 && len(rec.ByType("eks:index:Cluster")) > 0 {
		add("ALB of the site (made by the load balancer controller)", hoursPerMonth, "alb-hour", "730 h")
		// An internet-facing ALB has a public IPv4 address in each of its zones.
		add(fmt.Sprintf("public IPv4 of the ALB in %d zones", zones), float64(zones*hoursPerMonth), "public-ipv4-hour", fmt.Sprintf("%d x 730 h", zones))
	}
	if len(rec.ByType("aws:cloudwatch/logGroup:LogGroup")) > 0 {
		add(fmt.Sprintf("CloudWatch Logs ingestion at an ASSUMED %d GB a month (container logs and flow logs; not a measurement)", assumedLogGBPerMonth), assumedLogGBPerMonth, "cloudwatch-logs-ingest-gb", fmt.Sprintf("%d GB", assumedLogGBPerMonth))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Monthly on-demand cost of the fixed resources, estimated (730 h a month).\n")
	if region != "us-east-1" {
		fmt.Fprintf(&b, "PRICES ARE us-east-1's: this stack is in %s, and no sourced factor for %s was found, so the figures below are us-east-1 list prices, not %s's.\n", region, region, region)
	}
	b.WriteString("\n")
	var total float64
	for _, l := range lines {
		if l.usd < 0 {
			fmt.Fprintf(&b, "  %10s  %s\n              %s\n", "-", l.what, l.how)
			continue
		}
		total += l.usd
		fmt.Fprintf(&b, "  %10s  %s\n              %s\n", fmt.Sprintf("$%.2f", l.usd), l.what, l.how)
	}
	fmt.Fprintf(&b, "\n  %10s  total of the priced lines (the lines marked - and the list below are not in it)\n", fmt.Sprintf("$%.2f", total))

	b.WriteString("\nWhat grows with use, per unit:\n")
	for _, key := range []string{"efs-standard-gb-month", "efs-ia-gb-month", "backup-efs-warm-gb-month", "nat-gateway-gb", "alb-lcu-hour", "cloudwatch-logs-ingest-gb"} {
		p := prices[key]
		fmt.Fprintf(&b, "  $%-7g %s [%s]\n", p.USD, p.Unit, key)
	}
	b.WriteString("\nNot priced (no sourced price; not in the total):\n")
	var keys []string
	for k := range missing {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  - %s\n", unpriced[k])
	}
	b.WriteString("\nSources, one per price:\n")
	keys = keys[:0]
	for k := range prices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-26s %s (%s)\n", k, prices[k].Source, prices[k].Date)
	}
	b.WriteString("\nThe table and its sources: cmd/render/cost.go.\n")
	return b.String()
}
