package edgefs_test

import (
	"encoding/json"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/openneuro/openneuro-infra/internal/netpolicy"
)

// TestNetworkFlows evaluates the rendered policies: EdgeFS's pods talk among themselves and the
// operator reaches its cluster; a node (the kubelet mounting the export) reaches the NFS ports of
// the gateway and nothing else; pods of other namespaces reach the S3 gateway, when there is one,
// and nothing else; nothing reaches the operator's namespace.
func TestNetworkFlows(t *testing.T) {
	t.Parallel()
	for _, s3 := range []bool{false, true} {
		l := runLayer(t, "staging", false)
		if s3 {
			l = runLayer(t, "staging", false, withS3())
		}
		var policies []networkingv1.NetworkPolicy
		for _, m := range l.manifests() {
			if m["kind"] != "NetworkPolicy" {
				continue
			}
			b, _ := json.Marshal(m)
			var p networkingv1.NetworkPolicy
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			policies = append(policies, p)
		}
		c := netpolicy.New(policies, nil)
		// Labels as rook v1.5.12 gives the pods it creates (target, mgr, nfs and s3 getLabels).
		var (
			operator = netpolicy.Pod("rook-edgefs-system", map[string]string{"app": "rook-edgefs-operator"})
			discover = netpolicy.Pod("rook-edgefs-system", map[string]string{"app": "rook-discover"})
			target   = netpolicy.Pod("rook-edgefs", map[string]string{"app": "rook-edgefs-target", "rook_cluster": "rook-edgefs"})
			mgr      = netpolicy.Pod("rook-edgefs", map[string]string{"app": "rook-edgefs-mgr", "rook_cluster": "rook-edgefs"})
			nfs      = netpolicy.Pod("rook-edgefs", map[string]string{"app": "rook-edgefs-nfs", "rook_cluster": "rook-edgefs", "edgefs_svcname": "datasets", "edgefs_svctype": "nfs"})
			s3gw     = netpolicy.Pod("rook-edgefs", map[string]string{"app": "rook-edgefs-s3", "rook_cluster": "rook-edgefs", "edgefs_svcname": "s3", "edgefs_svctype": "s3"})
			node     = netpolicy.Outside("10.10.20.5")
			worker   = netpolicy.Pod("openneuro", map[string]string{"app.kubernetes.io/component": "dataset-worker"})
		)
		for _, f := range []struct {
			name     string
			from, to netpolicy.Endpoint
			port     int
			proto    string
			want     bool
		}{
			{"operator to the manager", operator, mgr, 6789, "TCP", true},
			{"operator to a target", operator, target, 4000, "TCP", true},
			{"target to target", target, target, 5405, "UDP", true},
			{"gateway to a target", nfs, target, 4000, "TCP", true},
			{"node mounts NFS", node, nfs, 2049, "TCP", true},
			{"node asks the portmapper", node, nfs, 111, "UDP", true},
			{"node asks mountd", node, nfs, 20048, "TCP", true},
			{"node to the gateway's gRPC port", node, nfs, 49000, "TCP", false},
			{"node to a target", node, target, 4000, "TCP", false},
			{"app pod to the manager", worker, mgr, 6789, "TCP", false},
			{"app pod to a target", worker, target, 4000, "TCP", false},
			{"app pod to the S3 gateway", worker, s3gw, 9982, "TCP", s3},
			{"app pod to the S3 gateway over TLS", worker, s3gw, 9443, "TCP", s3},
			{"outside to the S3 gateway", node, s3gw, 9982, "TCP", false},
			{"app pod to the operator", worker, operator, 9443, "TCP", false},
			{"cluster pod to rook-discover", target, discover, 8080, "TCP", false},
		} {
			got, err := c.Allowed(f.from, f.to, f.port, f.proto)
			if err != nil {
				t.Fatal(err)
			}
			if got != f.want {
				t.Errorf("s3=%v %s (port %d/%s): allowed=%v, want %v", s3, f.name, f.port, f.proto, got, f.want)
			}
		}
	}
}
