package network

import (
	"encoding/binary"
	"fmt"
	"net"
)

// Subnet layout inside the VPC block (a /P):
//
//   - the block is cut in 8 equal parts (/P+3); zone i's private subnet is part i (i < 3). A /16 VPC
//     gives three /19 private subnets of 8,187 usable addresses each: the VPC CNI gives every pod a
//     VPC address, so the pod-carrying subnets get most of the space;
//   - part 3 is cut in 8 again (/P+6); zone i's public subnet is sub-part i. A /16 VPC gives three
//     /22 public subnets, room for the NAT gateways and the load balancers' ENIs (an ALB needs at
//     least 8 free addresses per subnet);
//   - parts 4-7 and the rest of part 3 stay free for later subnets.
//
// The layout depends only on the VPC block and the zone's position in network.availabilityZones:
// reordering the zones in a stack file moves (and so replaces) the subnets.
const (
	privateBits   = 3 // private subnet = VPC prefix + 3
	publicBits    = 6 // public subnet = VPC prefix + 6
	publicPart    = 3 // the /P+3 part that holds the public subnets
	maxZones      = 3 // parts 0..2 are private, so at most three zones fit this layout
	minSubnetBits = 28
)

// SubnetCIDRs returns the private and public subnet blocks of zones zones of the VPC block vpcCIDR,
// in zone order.
func SubnetCIDRs(vpcCIDR string, zones int) (private, public []string, err error) {
	_, vpc, err := net.ParseCIDR(vpcCIDR)
	if err != nil || vpc.IP.To4() == nil {
		return nil, nil, fmt.Errorf("network: %q is not an IPv4 CIDR block", vpcCIDR)
	}
	ones, _ := vpc.Mask.Size()
	if ones+publicBits > minSubnetBits {
		return nil, nil, fmt.Errorf("network: %q is too small: its public subnets would be /%d, AWS allows at most /%d", vpcCIDR, ones+publicBits, minSubnetBits)
	}
	if zones < 1 || zones > maxZones {
		return nil, nil, fmt.Errorf("network: %d zones do not fit the subnet layout; use 1 to %d", zones, maxZones)
	}
	base := binary.BigEndian.Uint32(vpc.IP.To4())
	privateSize := uint32(1) << (32 - ones - privateBits)
	publicSize := uint32(1) << (32 - ones - publicBits)
	for i := range uint32(zones) {
		private = append(private, block(base+i*privateSize, ones+privateBits))
		public = append(public, block(base+publicPart*privateSize+i*publicSize, ones+publicBits))
	}
	return private, public, nil
}

func block(addr uint32, prefix int) string {
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, addr)
	return fmt.Sprintf("%s/%d", ip, prefix)
}
