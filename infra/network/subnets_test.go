package network_test

import (
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/infra/network"
)

func TestSubnetCIDRs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		vpc           string
		zones         int
		private, pub  []string
		wantErrSubstr string
	}{
		{
			name: "/16: /19 private, /22 public", vpc: "10.10.0.0/16", zones: 3,
			private: []string{"10.10.0.0/19", "10.10.32.0/19", "10.10.64.0/19"},
			pub:     []string{"10.10.96.0/22", "10.10.100.0/22", "10.10.104.0/22"},
		},
		{
			name: "host bits in the block are ignored", vpc: "10.20.7.9/16", zones: 3,
			private: []string{"10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"},
			pub:     []string{"10.20.96.0/22", "10.20.100.0/22", "10.20.104.0/22"},
		},
		{
			name: "/20: /23 private, /26 public", vpc: "172.16.16.0/20", zones: 3,
			private: []string{"172.16.16.0/23", "172.16.18.0/23", "172.16.20.0/23"},
			pub:     []string{"172.16.22.0/26", "172.16.22.64/26", "172.16.22.128/26"},
		},
		{
			name: "/22: smallest block, /28 public", vpc: "192.168.4.0/22", zones: 3,
			private: []string{"192.168.4.0/25", "192.168.4.128/25", "192.168.5.0/25"},
			pub:     []string{"192.168.5.128/28", "192.168.5.144/28", "192.168.5.160/28"},
		},
		{
			name: "two zones", vpc: "10.0.0.0/16", zones: 2,
			private: []string{"10.0.0.0/19", "10.0.32.0/19"},
			pub:     []string{"10.0.96.0/22", "10.0.100.0/22"},
		},
		{name: "/23 is too small", vpc: "10.0.0.0/23", zones: 3, wantErrSubstr: "too small"},
		{name: "IPv6", vpc: "2001:db8::/56", zones: 3, wantErrSubstr: "not an IPv4 CIDR"},
		{name: "garbage", vpc: "10.0.0.0", zones: 3, wantErrSubstr: "not an IPv4 CIDR"},
		{name: "four zones", vpc: "10.0.0.0/16", zones: 4, wantErrSubstr: "zones do not fit"},
		{name: "no zone", vpc: "10.0.0.0/16", zones: 0, wantErrSubstr: "zones do not fit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			private, pub, err := network.SubnetCIDRs(tc.vpc, tc.zones)
			if tc.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSubstr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(private, tc.private) || !reflect.DeepEqual(pub, tc.pub) {
				t.Errorf("SubnetCIDRs(%s) =\n private %v\n public  %v\nwant\n private %v\n public  %v", tc.vpc, private, pub, tc.private, tc.pub)
			}
		})
	}
}

// TestSubnetCIDRsFitAndDoNotOverlap checks every VPC size the config allows (and down to /22): all
// subnets lie inside the VPC and no two overlap.
func TestSubnetCIDRsFitAndDoNotOverlap(t *testing.T) {
	t.Parallel()
	for _, vpc := range []string{"10.0.0.0/16", "10.1.0.0/17", "10.2.0.0/18", "10.3.0.0/19", "10.4.0.0/20", "10.5.0.0/21", "10.6.0.0/22"} {
		private, pub, err := network.SubnetCIDRs(vpc, 3)
		if err != nil {
			t.Fatalf("%s: %v", vpc, err)
		}
		_, block, _ := net.ParseCIDR(vpc)
		all := append(append([]string{}, private...), pub...)
		var nets []*net.IPNet
		for _, c := range all {
			_, n, err := net.ParseCIDR(c)
			if err != nil {
				t.Fatalf("%s: subnet %q: %v", vpc, c, err)
			}
			if !block.Contains(n.IP) || !block.Contains(lastIP(n)) {
				t.Errorf("%s: subnet %s is outside the VPC", vpc, c)
			}
			for _, o := range nets {
				if o.Contains(n.IP) || n.Contains(o.IP) {
					t.Errorf("%s: subnets %s and %s overlap", vpc, o, n)
				}
			}
			nets = append(nets, n)
		}
		pOnes, _ := nets[0].Mask.Size()
		qOnes, _ := nets[3].Mask.Size()
		if pOnes >= qOnes {
			t.Errorf("%s: private /%d not larger than public /%d", vpc, pOnes, qOnes)
		}
	}
}

func lastIP(n *net.IPNet) net.IP {
	ip := n.IP.To4()
	out := make(net.IP, 4)
	for i := range out {
		out[i] = ip[i] | ^n.Mask[i]
	}
	return out
}
