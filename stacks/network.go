package stacks

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	zoneIDRE   = regexp.MustCompile(`^([a-z]{2,5})([0-9]+)-az[0-9]+$`)
	zoneNameRE = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$`)
	regionRE   = regexp.MustCompile(`^([a-z]{2})(-gov)?-[a-z]+-([0-9]+)$`)
)

// zoneInRegion reports whether a zone name or ID can belong to region. AWS: a zone name is "its
// Region code followed by a letter identifier"; a zone ID starts with letters of the Region code,
// "followed by the number at the end of the Region code, followed by -az, followed by a number"
// (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html).
// The letters are not always the first three (ap-northeast-1 is apne1), so for IDs this checks the
// area code and the number; the program's preflight then asks EC2 for the region's real zones.
func zoneInRegion(zone, region string) bool {
	if !IsZoneID(zone) {
		return strings.HasPrefix(zone, region) && len(zone) == len(region)+1
	}
	r := regionRE.FindStringSubmatch(region)
	z := zoneIDRE.FindStringSubmatch(zone)
	return r != nil && strings.HasPrefix(z[1], r[1]) && z[2] == r[3]
}

// IsZoneID reports whether zone is an availability zone ID (use1-az1) rather than a name.
func IsZoneID(zone string) bool { return zoneIDRE.MatchString(zone) }

// NatMode says how many NAT gateways the VPC gets.
type NatMode string

const (
	// NatSingle is one NAT gateway shared by all zones: cheaper, one zone's outage cuts egress.
	NatSingle NatMode = "single"
	// NatPerZone is one NAT gateway per zone: what production wants.
	NatPerZone NatMode = "perZone"
)

// Network configures the VPC (openneuro:network). Either the program creates a VPC (the default) or
// it uses an existing one when VpcID is set.
type Network struct {
	loadMark
	// CIDR is the VPC's IPv4 block. Default 10.0.0.0/16; a /16 to /20 leaves room for the subnets.
	CIDR string `json:"cidr,omitempty"`
	// AvailabilityZones are the three zones the subnets span, by name (us-east-1a) or, better, by zone
	// ID (use1-az1): names map to different physical zones in each account, IDs are the same
	// everywhere. Default <region>a, <region>b, <region>c. Pick zones that offer the node instance
	// types (aws ec2 describe-instance-type-offerings --location-type availability-zone-id).
	AvailabilityZones []string `json:"availabilityZones,omitempty"`
	// NatGateways is single (default) or perZone (prod).
	NatGateways NatMode `json:"natGateways,omitempty"`
	// NatEipAllocationIDs are Elastic IPs the NAT gateways use instead of ones the stack creates
	// (created VPC only): one per NAT gateway, in zone order (one with natGateways single, three
	// with perZone), such as the bootstrap project's natEipAllocationIds output. Allocated outside
	// the stack, their addresses are known before the first up, so the database's allowlist can
	// hold them before the API first connects, and they outlive a destroy, so a rebuilt stack keeps
	// them. Default none: the stack creates the addresses, new ones on every rebuild.
	NatEipAllocationIDs []string `json:"natEipAllocationIds,omitempty"`
	// VpcID selects an existing VPC instead of creating one. Default "" (create).
	VpcID string `json:"vpcId,omitempty"`
	// PublicSubnetIDs are the existing VPC's public subnets (one per zone, in availabilityZones
	// order), for internet-facing load balancers. Required with VpcID; they must carry the tag
	// kubernetes.io/role/elb=1.
	PublicSubnetIDs []string `json:"publicSubnetIds,omitempty"`
	// PrivateSubnetIDs are the existing VPC's private subnets (one per zone, in availabilityZones
	// order: the EFS mount targets are named after those zones), for nodes, pods and EFS. Required
	// with VpcID; they must carry the tag kubernetes.io/role/internal-elb=1 and route to a NAT.
	PrivateSubnetIDs []string `json:"privateSubnetIds,omitempty"`
	// Endpoints are VPC endpoints that keep AWS traffic off the NAT gateways.
	Endpoints Endpoints `json:"endpoints,omitempty"`
	// FlowLogs records the VPC's traffic (accepted and rejected flows) in CloudWatch Logs.
	FlowLogs FlowLogs `json:"flowLogs,omitempty"`
}

// Endpoints configures VPC endpoints (created VPC only).
type Endpoints struct {
	// S3 adds a gateway endpoint for S3 to the private route tables: S3 traffic (dataset exports,
	// image layers from ECR) stops paying NAT processing. Gateway endpoints are free. Default true.
	S3 *bool `json:"s3,omitempty"`
	// ECR adds interface endpoints for ecr.api and ecr.dkr in every private subnet (private DNS, a
	// security group open to HTTPS from the private subnets): image pulls from ECR (EKS add-ons,
	// cluster.dockerHubCache, mirrored images) stop paying NAT processing, for an hourly charge per
	// zone and endpoint (6 endpoint-zones; make render writes the price to cost.txt). Needs s3 (the
	// layers come from S3). Worth it when many GB of images come from ECR. Default false.
	ECR bool `json:"ecr,omitempty"`
}

// FlowLogs configures VPC flow logs.
type FlowLogs struct {
	// Enabled turns flow logs on (EKS Best Practices, network security). Default true.
	Enabled *bool `json:"enabled,omitempty"`
	// TrafficType is ALL (default), ACCEPT or REJECT.
	TrafficType string `json:"trafficType,omitempty"`
	// RetentionDays is how long CloudWatch keeps them. Default 90.
	RetentionDays int `json:"retentionDays,omitempty"`
}

// S3EndpointEnabled reports whether the S3 gateway endpoint is on (defaults applied).
func (n Network) S3EndpointEnabled() bool { return n.Endpoints.S3 != nil && *n.Endpoints.S3 }

// FlowLogsEnabled reports whether VPC flow logs are on (defaults applied).
func (n Network) FlowLogsEnabled() bool { return n.FlowLogs.Enabled != nil && *n.FlowLogs.Enabled }

// NatCount is the number of NAT gateways of a created VPC.
func (n Network) NatCount() int {
	if n.NatGateways == NatPerZone {
		return ZoneCount
	}
	return 1
}

// eipAllocationRE is an Elastic IP's allocation id.
var eipAllocationRE = regexp.MustCompile(`^eipalloc-[0-9a-f]{8,17}$`)

func (n Network) validateNatAddresses(v *validator) {
	ids := n.NatEipAllocationIDs
	if len(ids) == 0 {
		return
	}
	if n.UsesExistingVPC() {
		v.addf("network.natEipAllocationIds", "are the NAT gateways' addresses of the VPC the program creates, but network.vpcId names an existing one; remove them")
		return
	}
	if len(ids) != n.NatCount() {
		v.addf("network.natEipAllocationIds", "lists %d addresses but network.natGateways %s has %d NAT gateway(s); list one allocation id per gateway, in zone order", len(ids), n.NatGateways, n.NatCount())
	}
	seen := map[string]bool{}
	for i, id := range ids {
		path := fmt.Sprintf("network.natEipAllocationIds[%d]", i)
		switch {
		case !eipAllocationRE.MatchString(id):
			v.addf(path, "%q is not an Elastic IP allocation id; write it like eipalloc-0123456789abcdef0 (aws ec2 describe-addresses --query 'Addresses[].AllocationId')", id)
		case seen[id]:
			v.addf(path, "%q is listed twice; a NAT gateway needs an address of its own", id)
		}
		seen[id] = true
	}
}

// ZoneCount is the number of availability zones the network spans.
const ZoneCount = 3

func (n *Network) applyDefaults(env Env, c Cluster) {
	if c.Mode != ModeEKS {
		return // existing mode builds no network
	}
	if n.CIDR == "" {
		n.CIDR = "10.0.0.0/16"
	}
	if len(n.AvailabilityZones) == 0 && env.Region != "" {
		n.AvailabilityZones = []string{env.Region + "a", env.Region + "b", env.Region + "c"}
	}
	if n.NatGateways == "" {
		n.NatGateways = NatSingle
	}
	if n.UsesExistingVPC() {
		return
	}
	if n.Endpoints.S3 == nil {
		n.Endpoints.S3 = boolPtr(true)
	}
	if n.FlowLogs.Enabled == nil {
		n.FlowLogs.Enabled = boolPtr(true)
	}
	setDefault(&n.FlowLogs.TrafficType, "ALL")
	if n.FlowLogs.RetentionDays == 0 {
		n.FlowLogs.RetentionDays = 90
	}
}

// UsesExistingVPC reports whether the stack brings its own VPC.
func (n Network) UsesExistingVPC() bool { return n.VpcID != "" }

func (n Network) validate(v *validator, env Env, c Cluster) {
	if c.Mode != ModeEKS {
		return
	}
	if ipnet := v.cidr("network.cidr", n.CIDR); ipnet != nil {
		if ones, _ := ipnet.Mask.Size(); ones < 16 || ones > 20 {
			v.addf("network.cidr", "%q is a /%d; use a block between /16 and /20 so that three private /%d subnets fit", n.CIDR, ones, ones+3)
		}
	}
	if len(n.AvailabilityZones) != ZoneCount {
		v.addf("network.availabilityZones", "has %d zones; list exactly %d, e.g. us-east-1a, us-east-1b, us-east-1c", len(n.AvailabilityZones), ZoneCount)
	}
	ids := 0
	for _, az := range n.AvailabilityZones {
		if IsZoneID(az) {
			ids++
		}
	}
	if ids != 0 && ids != len(n.AvailabilityZones) {
		v.addf("network.availabilityZones", "mixes zone names and zone IDs; list three names (us-east-1a) or three IDs (use1-az1)")
	}
	seen := map[string]bool{}
	for i, az := range n.AvailabilityZones {
		if !IsZoneID(az) && !zoneNameRE.MatchString(az) {
			v.addf(fmt.Sprintf("network.availabilityZones[%d]", i), "%q is neither a zone name (us-east-1a) nor a zone ID (use1-az1)", az)
		}
		if env.Region != "" && (IsZoneID(az) || zoneNameRE.MatchString(az)) && !zoneInRegion(az, env.Region) {
			v.addf(fmt.Sprintf("network.availabilityZones[%d]", i), "%q is not a zone of aws:region %s; list that region's zones (aws ec2 describe-availability-zones --region %s --query 'AvailabilityZones[].[ZoneName,ZoneId]')", az, env.Region, env.Region)
		}
		if seen[az] {
			v.addf(fmt.Sprintf("network.availabilityZones[%d]", i), "%q is listed twice; use three different zones", az)
		}
		seen[az] = true
	}
	v.oneOf("network.natGateways", string(n.NatGateways), string(NatSingle), string(NatPerZone))
	n.validateNatAddresses(v)
	if n.UsesExistingVPC() {
		if n.Endpoints.S3 != nil || n.Endpoints.ECR || n.FlowLogs != (FlowLogs{}) {
			v.addf("network.endpoints", "endpoints and flowLogs belong to the VPC the program creates, but network.vpcId names an existing one; remove them and manage that VPC's endpoints and flow logs where it is managed")
		}
	} else if n.Endpoints.ECR && !n.S3EndpointEnabled() {
		v.addf("network.endpoints.ecr", "ECR serves image layers from S3, so without network.endpoints.s3 the layers still take the NAT gateways and the ECR endpoints save next to nothing; turn network.endpoints.s3 on or remove network.endpoints.ecr")
	}
	if !n.UsesExistingVPC() && n.FlowLogsEnabled() {
		v.oneOf("network.flowLogs.trafficType", n.FlowLogs.TrafficType, "ALL", "ACCEPT", "REJECT")
		if !containsInt(logRetentionValues, n.FlowLogs.RetentionDays) {
			v.addf("network.flowLogs.retentionDays", "%d is not a CloudWatch retention period; use one of %v", n.FlowLogs.RetentionDays, logRetentionValues)
		}
	}
	if n.UsesExistingVPC() {
		if len(n.PublicSubnetIDs) != ZoneCount || len(n.PrivateSubnetIDs) != ZoneCount {
			v.addf("network.vpcId", "is set, so list %d publicSubnetIds and %d privateSubnetIds of that VPC, one per zone", ZoneCount, ZoneCount)
		}
	} else if len(n.PublicSubnetIDs)+len(n.PrivateSubnetIDs) > 0 {
		v.addf("network.publicSubnetIds", "subnet ids are only used with network.vpcId; set vpcId or remove the subnet ids")
	}
}
