package preflight

import (
	"net"
	"strings"
	"testing"
)

// TestDelegated: a zone the public DNS sends to its hosted zone's name servers passes; one the DNS
// does not know, or sends elsewhere, is an error naming app.dns and the servers to set; a lookup
// that cannot be made only warns.
func TestDelegated(t *testing.T) {
	servers := []string{"ns-1.zone.test", "ns-2.zone.test."}
	for _, c := range []struct {
		name    string
		answer  []*net.NS
		err     error
		wantErr string
		warns   bool
	}{
		{"delegated", []*net.NS{{Host: "NS-2.zone.test."}, {Host: "ns-9.other.test."}}, nil, "", false},
		{"not delegated", nil, &net.DNSError{Err: "no such host", Name: "example.test", IsNotFound: true},
			"app.dns: the public DNS answers no NS records for example.test, so the hosted zone is not delegated: set its name servers (ns-1.zone.test, ns-2.zone.test.)", false},
		{"delegated elsewhere", []*net.NS{{Host: "ns1.registrar.test."}}, nil,
			"app.dns: the public DNS sends example.test to ns1.registrar.test, not to its hosted zone's name servers", false},
		{"no DNS here", nil, &net.DNSError{Err: "server misbehaving", Name: "example.test"}, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			saved := LookupNS
			defer func() { LookupNS = saved }()
			LookupNS = func(name string) ([]*net.NS, error) {
				if name != "example.test" {
					t.Errorf("looked up %s", name)
				}
				return c.answer, c.err
			}
			warned := false
			err := delegated("example.test", servers, func(string) { warned = true })
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case c.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantErr)):
				t.Errorf("error %v, want one starting %q", err, c.wantErr)
			}
			if warned != c.warns {
				t.Errorf("warned %v, want %v", warned, c.warns)
			}
		})
	}
}
