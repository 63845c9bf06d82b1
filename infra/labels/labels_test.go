package labels

import (
	"strings"
	"testing"
)

func TestVersionAndValue(t *testing.T) {
	long := strings.Repeat("a", 70)
	for _, tc := range []struct{ image, want string }{
		{"openneuro/server:v5.5.1", "v5.5.1"},
		{"registry.k8s.io/kubectl:v1.35.4", "v1.35.4"},
		{"localhost:5000/redis:7.2@sha256:0123456789abcdef", "7.2"},
		{"edgefs/edgefs@sha256:0123456789abcdef0123", "sha256-0123456789ab"},
		{"openneuro/server", ""},
		{"openneuro/server:" + long, strings.Repeat("a", 63)},
		{"openneuro/server:v1-", "v1"},
	} {
		if got := Version(tc.image); got != tc.want {
			t.Errorf("Version(%q) = %q, want %q", tc.image, got, tc.want)
		}
	}
	if got := Value("3.14.2+build/7"); got != "3.14.2-build-7" {
		t.Errorf("Value maps characters a label value cannot hold to '-': got %q", got)
	}
}
