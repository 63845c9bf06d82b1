package imageref

import "testing"

func TestTagAndUnpinned(t *testing.T) {
	for _, tc := range []struct {
		ref, tag, unpinned string
	}{
		{"openneuro/server:v4.20.0", "v4.20.0", ""},
		{"redis", "", "has no tag"},
		{"redis:latest", "latest", "uses the latest tag"},
		{"registry.example.invalid:5000/team/app", "", "has no tag"},
		{"registry.example.invalid:5000/team/app:1.2", "1.2", ""},
		{"busybox@sha256:" + sixtyFour, "", ""},
		{"busybox:latest@sha256:" + sixtyFour, "latest", ""},
	} {
		if got := Tag(tc.ref); got != tc.tag {
			t.Errorf("Tag(%q) = %q, want %q", tc.ref, got, tc.tag)
		}
		if got := Unpinned(tc.ref); got != tc.unpinned {
			t.Errorf("Unpinned(%q) = %q, want %q", tc.ref, got, tc.unpinned)
		}
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
