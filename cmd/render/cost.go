package main

import (
	"fmt"
	"path"
	"slices"
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

// prices are the list prices cost.txt uses, all of us-east-1 (looked up 2026-12-01 and 2026-12-02 in
// stored copies of the pages and files named; check them against https://aws.amazon.com/pricing
// before relying on them). The EC2 instance prices are in ec2OnDemand.
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
	"cloudwatch-logs-storage-gb-month": {0.03, "per GB-month of logs stored (compressed), for the log groups' retention",
		"third-party: c3x.dev \"CloudWatch Logs cost optimization\" and hykell.com \"AWS CloudWatch Logs pricing\" (us-east-1, June 2026)", "2026-06"},
	"ebs-gp3-gb-month": {0.08, "per GB-month of gp3 volume (3,000 IOPS and 125 MB/s included)",
		"third-party: saisci.com \"gp2 vs gp3 cost comparison\" (N. Virginia; page last updated 2021-02-04)", "2021-02-04"},
	"ebs-snapshot-gb-month": {0.05, "per GB-month of EBS snapshot, standard tier (incremental after the first)",
		"AWS: EBS User Guide, docs.aws.amazon.com/ebs/latest/userguide/snapshot-archive-pricing.html (\"the standard rate for snapshots of $0.05 per GB-month\"; undated, no region named)", "2026-12-02"},
	"cloudwatch-alarm-metric-month": {0.10, "per metric of a standard-resolution alarm, per month",
		"third-party: c3x.dev aws_cloudwatch_metric_alarm (\"$0.10/alarm-month for standard resolution\"; undated)", "2026-12-02"},
	"kms-key-month": {1.00, "per customer-managed KMS key-month (prorated hourly; requests beyond the free tier extra)",
		"AWS: aws.amazon.com/kms/pricing (\"Each AWS KMS key that you create in KMS costs $1/month\"; undated)", "2026-12-02"},
	"sns-email-100k": {2.00, "per 100,000 e-mail notifications",
		"third-party: factualminds.com \"Amazon SNS pricing\" (\"email at $2 per hundred thousand\")", "2026-06-13"},
}

// ec2OnDemandSource is where every EC2 price below was read: the table Karpenter generates from the
// AWS Pricing API for us-east-1 (Linux, on-demand, per instance-hour).
var ec2OnDemandSource = Price{Unit: "per instance-hour, Linux on-demand",
	Source: "AWS Pricing API, as generated into aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go at commit 6fc13b5236fd04fd16ff3f9dc7490d0813994099 (\"generated at 2026-07-20T13:44:30Z for us-east-1\")",
	Date:   "2026-07-20"}

// ec2OnDemand are the us-east-1 on-demand prices (USD per hour) of the instance types the node groups
// may use: every type validation knows the size of, and the Spot alternatives of the stack files.
var ec2OnDemand = map[string]float64{
	"m5a.large": 0.086, "m5a.xlarge": 0.172, "m5a.2xlarge": 0.344,
	"m5.large": 0.096, "m6a.large": 0.0864,
	"r5.xlarge": 0.252, "r5.2xlarge": 0.504, "r5a.xlarge": 0.226, "r5a.2xlarge": 0.452,
	"i3en.large": 0.226, "i3en.xlarge": 0.452, "i3en.2xlarge": 0.904, "i3en.3xlarge": 1.356,
	"i3en.6xlarge": 2.712, "i3en.12xlarge": 5.424, "i3en.24xlarge": 10.848,
	"i4i.large": 0.172, "i4i.xlarge": 0.343, "i4i.2xlarge": 0.686, "i4i.4xlarge": 1.373,
	"i3.large": 0.156, "i3.xlarge": 0.312, "i3.2xlarge": 0.624, "i3.4xlarge": 1.248,
}

// m5aLargeByRegion is the on-demand price of an m5a.large per region, the base of the region factor
// the instance lines are scaled by (a region's EC2 prices relative to us-east-1's; the five types
// read there agree with it within 1.5%). Other services' prices differ by region in their own way,
// so only the instance lines are scaled.
var m5aLargeByRegion = map[string]float64{"us-east-1": 0.086, "us-west-2": 0.086, "eu-west-1": 0.096, "eu-central-1": 0.104}

// m5aLargeByRegionSource is where m5aLargeByRegion was read.
const m5aLargeByRegionSource = "skypilot-org/skypilot-catalog catalogs/v8/aws/vms.csv at commit 00148f2af3672e2229b4f7bf8157d5a3f36e3c35, Price column (commit date not readable offline; read 2026-12-02)"

// unpriced are the billed things this table has no sourced price for: cost.txt lists them as
// missing instead of guessing.
var unpriced = map[string]string{
	"container-insights": "Container Insights (the amazon-cloudwatch-observability add-on): its metrics and performance log events are billed per observation and per GB; no sourced price",
	"spot-price":         "Spot instances: billed at the Spot price of the hour, usually well below on-demand; the line shows the on-demand ceiling",
	"ec2-instance":       "EC2 on-demand price of an instance type outside the table in cmd/render/cost.go",
}

// billable says, per resource type, which prices and missing prices a resource of that type incurs.
// Types not listed here cost nothing by themselves (VPC, subnets, routes, IAM, security groups,
// gateway endpoints, Kubernetes objects other than those named).
var billable = map[string][]string{
	"eks:index:Cluster":                             {"eks-cluster-hour"},
	"aws:eks/nodeGroup:NodeGroup":                   {"ebs-gp3-gb-month"},
	"aws:ec2/natGateway:NatGateway":                 {"nat-gateway-hour", "nat-gateway-gb"},
	"aws:ec2/eip:Eip":                               {"public-ipv4-hour"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":               {"interface-endpoint-hour"},
	"aws:efs/fileSystem:FileSystem":                 {"efs-standard-gb-month", "efs-ia-gb-month"},
	"aws:backup/vault:Vault":                        {"backup-efs-warm-gb-month", "ebs-snapshot-gb-month"},
	"aws:cloudwatch/logGroup:LogGroup":              {"cloudwatch-logs-ingest-gb", "cloudwatch-logs-storage-gb-month"},
	"aws:cloudwatch/metricAlarm:MetricAlarm":        {"cloudwatch-alarm-metric-month"},
	"aws:kms/key:Key":                               {"kms-key-month"},
	"aws:ec2/flowLog:FlowLog":                       {"cloudwatch-logs-ingest-gb"},
	"aws:sns/topic:Topic":                           {"sns-email-100k"},
	"kubernetes:networking.k8s.io/v1:Ingress":       {"alb-hour", "alb-lcu-hour", "public-ipv4-hour"},
	"kubernetes:core/v1:PersistentVolumeClaim":      {"efs-standard-gb-month", "ebs-gp3-gb-month", "ebs-snapshot-gb-month"},
	"kubernetes:core/v1:PersistentVolumeClaimPatch": {"efs-standard-gb-month", "ebs-gp3-gb-month", "ebs-snapshot-gb-month"},
	"kubernetes:apps/v1:StatefulSet":                {"ebs-gp3-gb-month", "ebs-snapshot-gb-month"},
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
		(strings.HasPrefix(typ, "kubernetes:") && typ != "kubernetes:networking.k8s.io/v1:Ingress" &&
			typ != "kubernetes:core/v1:PersistentVolumeClaim" && typ != "kubernetes:core/v1:PersistentVolumeClaimPatch")
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
	plan := backups(rec)
	rootGiB := map[string]float64{} // launch template id -> root volume GiB
	for _, lt := range rec.ByType("aws:ec2/launchTemplate:LaunchTemplate") {
		for _, m := range asList(lt.Plain(false)["blockDeviceMappings"]) {
			if ebs := asMap(asMap(m)["ebs"]); ebs["volumeType"] == "gp3" {
				rootGiB[lt.ID] += asNumber(ebs["volumeSize"])
			}
		}
	}
	factor, scaled := regionFactor(region)
	zones := 0
	// The prefix of the claims each StatefulSet's templates name: <template>-<StatefulSet>-.
	var templateClaims []string
	for _, r := range rec.ByType("kubernetes:apps/v1:StatefulSet") {
		in := r.Plain(false)
		for _, tmpl := range asList(asMap(in["spec"])["volumeClaimTemplates"]) {
			templateClaims = append(templateClaims, asString(asMap(asMap(tmpl)["metadata"])["name"])+"-"+asString(asMap(in["metadata"])["name"])+"-")
		}
	}
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
			nodes := asNumber(asMap(in["scalingConfig"])["desiredSize"])
			types := asList(in["instanceTypes"])
			perHour, how, ok := instancePrice(types, in["capacityType"] == "SPOT")
			what := fmt.Sprintf("node group %s: %g x %v, %v, at its desired size", r.Name, nodes, types, in["capacityType"])
			switch {
			case !ok:
				missing["ec2-instance"] = true
				lines = append(lines, costLine{what: what, usd: -1, how: "not priced: " + unpriced["ec2-instance"]})
			default:
				if in["capacityType"] == "SPOT" {
					missing["spot-price"] = true
					what += " (Spot: at most this)"
				}
				if scaled {
					how += fmt.Sprintf(" x %.3f region factor", factor)
				}
				lines = append(lines, costLine{what, nodes * hoursPerMonth * perHour * factor,
					fmt.Sprintf("%g nodes x 730 h x $%g %s [%s]", nodes, perHour, ec2OnDemandSource.Unit, how)})
			}
			if gib := rootGiB[asString(asMap(in["launchTemplate"])["id"])]; gib > 0 {
				add(fmt.Sprintf("root volumes of %s: %g x %g GiB gp3", r.Name, nodes, gib), nodes*gib, "ebs-gp3-gb-month", fmt.Sprintf("%g GB", nodes*gib))
			}
		case "aws:ec2/natGateway:NatGateway":
			add("NAT gateway "+r.Name, hoursPerMonth, "nat-gateway-hour", "730 h")
		case "aws:ec2/eip:Eip":
			add("public IPv4 of "+r.Name, hoursPerMonth, "public-ipv4-hour", "730 h")
		case "aws:ec2/vpcEndpoint:VpcEndpoint":
			if in["vpcEndpointType"] == "Interface" {
				n := asList(in["subnetIds"])
				add(fmt.Sprintf("interface endpoint %s in %d zones", r.Name, len(n)), float64(len(n)*hoursPerMonth), "interface-endpoint-hour", fmt.Sprintf("%d zones x 730 h", len(n)))
			}
		case "aws:ec2/subnet:Subnet":
			if strings.Contains(r.Name, "public") {
				zones++
			}
		case "aws:cloudwatch/metricAlarm:MetricAlarm":
			metrics := 0
			for _, q := range asList(in["metricQueries"]) {
				if asMap(q)["metric"] != nil {
					metrics++
				}
			}
			if in["metricName"] != nil {
				metrics++
			}
			add(fmt.Sprintf("alarm %s: metrics in it %d", r.Name, metrics), float64(metrics), "cloudwatch-alarm-metric-month", fmt.Sprintf("%d", metrics))
		case "aws:kms/key:Key":
			add("KMS key "+r.Name, 1, "kms-key-month", "1 key")
		case "kubernetes:core/v1:PersistentVolumeClaim", "kubernetes:core/v1:PersistentVolumeClaimPatch":
			// A claim a StatefulSet's template names is priced with the StatefulSet, per replica.
			if name := asString(asMap(in["metadata"])["name"]); !slices.ContainsFunc(templateClaims, func(p string) bool { return strings.HasPrefix(name, p) }) {
				volume(r.Name, name, asMap(in["spec"]), 1, plan, add)
			}
		case "kubernetes:apps/v1:StatefulSet":
			spec := asMap(in["spec"])
			replicas := asNumber(spec["replicas"])
			for _, tmpl := range asList(spec["volumeClaimTemplates"]) {
				// The claims are named <template>-<StatefulSet>-<ordinal>.
				name := asString(asMap(asMap(tmpl)["metadata"])["name"])
				claim := name + "-" + asString(asMap(in["metadata"])["name"]) + "-0"
				volume(r.Name+" ("+name+")", claim, asMap(asMap(tmpl)["spec"]), replicas, plan, add)
			}
		case "aws:eks/addon:Addon":
			if in["addonName"] == "amazon-cloudwatch-observability" {
				missing["container-insights"] = true
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
	switch {
	case scaled:
		fmt.Fprintf(&b, "Region %s: the node groups' instances are scaled by its EC2 price factor %.3f (m5a.large there against us-east-1); every other line is at us-east-1's list price.\n", region, factor)
	case region != "us-east-1":
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
	for _, key := range []string{"efs-standard-gb-month", "efs-ia-gb-month", "backup-efs-warm-gb-month", "ebs-gp3-gb-month", "ebs-snapshot-gb-month",
		"nat-gateway-gb", "alb-lcu-hour", "cloudwatch-logs-ingest-gb", "cloudwatch-logs-storage-gb-month", "sns-email-100k"} {
		p := prices[key]
		fmt.Fprintf(&b, "  $%-7g %s [%s]\n", p.USD, p.Unit, key)
	}
	b.WriteString("\nNot priced, or priced only as a ceiling (no sourced price):\n")
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
		fmt.Fprintf(&b, "  %-32s %s (%s)\n", k, prices[k].Source, prices[k].Date)
	}
	fmt.Fprintf(&b, "  %-32s %s (%s)\n", "ec2 <instance type>", ec2OnDemandSource.Source, ec2OnDemandSource.Date)
	if scaled {
		fmt.Fprintf(&b, "  %-32s %s\n", "region factor", m5aLargeByRegionSource)
	}
	b.WriteString("\nThe table and its sources: cmd/render/cost.go.\n")
	return b.String()
}

// backupSelection is what the render's AWS Backup plan selects: the EFS file system, and the EBS
// volumes of the app's claims except those whose claim name matches an exclusion.
type backupSelection struct {
	efs, ebs bool
	excluded []string // claim name patterns (StringNotLike: * and ?)
}

// backups reads the render's backup selections (and EFS's own automatic backups).
func backups(rec *infratest.Recorder) backupSelection {
	var b backupSelection
	for _, sel := range rec.ByType("aws:backup/selection:Selection") {
		in := sel.Plain(false)
		for _, arn := range asList(in["resources"]) {
			switch {
			case strings.Contains(asString(arn), ":elasticfilesystem:"):
				b.efs = true
			case strings.Contains(asString(arn), ":volume/"):
				b.ebs = true
			}
		}
		for _, c := range asList(in["conditions"]) {
			for _, not := range asList(asMap(c)["stringNotLikes"]) {
				if strings.HasSuffix(asString(asMap(not)["key"]), "/pvc/name") {
					b.excluded = append(b.excluded, asString(asMap(not)["value"]))
				}
			}
		}
	}
	for _, policy := range rec.ByType("aws:efs/backupPolicy:BackupPolicy") {
		if asString(asMap(policy.Plain(false)["backupPolicy"])["status"]) == "ENABLED" {
			b.efs = true
		}
	}
	return b
}

// covers reports whether the plan backs up a volume of that storage class and claim name.
func (b backupSelection) covers(class, claim string) bool {
	if class == "efs" {
		return b.efs
	}
	for _, pattern := range b.excluded {
		if ok, _ := path.Match(pattern, claim); ok {
			return false
		}
	}
	return b.ebs
}

// volume adds the lines of claims of one spec (copies of them: a StatefulSet's claim template),
// named claim (the first copy's claim name): EFS and its backup, or gp3 and its snapshots when the
// backup plan selects them.
func volume(label, claim string, spec map[string]any, copies float64, b backupSelection, add func(what string, qty float64, key, how string)) {
	req := asString(asMap(asMap(spec["resources"])["requests"])["storage"])
	q, err := resource.ParseQuantity(req)
	if err != nil {
		return
	}
	gb := copies * float64(q.Value()) / (1 << 30)
	class := asString(spec["storageClassName"])
	switch class {
	case "efs":
		add(fmt.Sprintf("EFS Standard at the %s claim's %s (EFS bills what is stored)", label, req), gb, "efs-standard-gb-month", fmt.Sprintf("%g GB", gb))
		if b.covers(class, claim) {
			add(fmt.Sprintf("AWS Backup of that file system, one full copy at %s (increments add to it)", req), gb, "backup-efs-warm-gb-month", fmt.Sprintf("%g GB", gb))
		}
	case "gp3":
		add(fmt.Sprintf("gp3 volumes of %s: %g x %s", label, copies, req), gb, "ebs-gp3-gb-month", fmt.Sprintf("%g GB", gb))
		if b.covers(class, claim) {
			add("AWS Backup snapshots of those volumes, one full copy (increments add to it)", gb, "ebs-snapshot-gb-month", fmt.Sprintf("%g GB", gb))
		}
	}
}

// regionFactor is the scale of the region's EC2 prices against us-east-1's, and whether it differs
// from 1 or is unknown (false: no scaling).
func regionFactor(region string) (float64, bool) {
	p, ok := m5aLargeByRegion[region]
	if !ok || region == "us-east-1" {
		return 1, false
	}
	return p / m5aLargeByRegion["us-east-1"], true
}

// instancePrice is a node's hourly on-demand price: the first type's (EKS tries the types in order)
// or, for Spot, the dearest type's as a ceiling. ok is false when a type has no price in the table.
func instancePrice(types []any, spot bool) (perHour float64, how string, ok bool) {
	if len(types) == 0 {
		return 0, "", false
	}
	if !spot {
		types = types[:1]
	}
	for _, t := range types {
		p, known := ec2OnDemand[asString(t)]
		if !known {
			return 0, "", false
		}
		if p > perHour {
			perHour, how = p, "ec2 "+asString(t)
		}
	}
	return perHour, how, true
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func asList(v any) []any { l, _ := v.([]any); return l }

func asString(v any) string { s, _ := v.(string); return s }

// asNumber reads a number of plain data (PlainValue gives float64 or int64), 0 if it is none.
func asNumber(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int64:
		return float64(n)
	case int:
		return float64(n)
	}
	return 0
}
