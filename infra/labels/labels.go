// Package labels builds the Kubernetes recommended labels every object of the program carries.
package labels

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/internal/imageref"
)

// Fixed values of the recommended labels.
const (
	PartOf    = "openneuro"
	ManagedBy = "pulumi"
)

// Keys of the recommended labels.
const (
	NameKey      = "app.kubernetes.io/name"
	InstanceKey  = "app.kubernetes.io/instance"
	ComponentKey = "app.kubernetes.io/component"
	PartOfKey    = "app.kubernetes.io/part-of"
	ManagedByKey = "app.kubernetes.io/managed-by"
	VersionKey   = "app.kubernetes.io/version"
)

// Set identifies one component of one deployment.
type Set struct {
	// Name is the application or tool, e.g. openneuro, rook-edgefs, aws-load-balancer-controller.
	Name string
	// Instance is the deployment, e.g. the release openneuro-staging.
	Instance string
	// Component is the part, e.g. api, web, dataset-worker, operator.
	Component string
	// Version is what runs, usually the image tag, e.g. v3.14.2.
	Version string
}

// Labels returns all six recommended labels.
func (s Set) Labels() pulumi.StringMap {
	return pulumi.StringMap{
		NameKey:      pulumi.String(s.Name),
		InstanceKey:  pulumi.String(s.Instance),
		ComponentKey: pulumi.String(s.Component),
		PartOfKey:    pulumi.String(PartOf),
		ManagedByKey: pulumi.String(ManagedBy),
		VersionKey:   pulumi.String(s.Version),
	}
}

// Common returns the recommended labels without the version: the labels of objects whose content
// does not depend on the version that runs (Services, ServiceAccounts, budgets, claims, config), so
// that an upgrade touches only the workloads whose image changes.
func (s Set) Common() pulumi.StringMap {
	m := s.Labels()
	delete(m, VersionKey)
	return m
}

// Selector returns the stable subset used in selectors (name, instance, component): it never
// contains the version, because Deployment and StatefulSet selectors cannot change after creation.
func (s Set) Selector() pulumi.StringMap {
	return pulumi.StringMap{
		NameKey:      pulumi.String(s.Name),
		InstanceKey:  pulumi.String(s.Instance),
		ComponentKey: pulumi.String(s.Component),
	}
}

// Value makes s a valid label value: at most 63 characters of [A-Za-z0-9._-], starting and ending
// alphanumeric (an image tag may be 128 characters long).
func Value(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '-'
	}, s)
	return strings.Trim(s[:min(63, len(s))], "-_.")
}

// Version is the version label of what runs image: its tag or, for an image pinned by its digest
// alone, sha256- and the digest's first 12 hex digits; "" for an image with neither.
func Version(image string) string {
	v := imageref.Tag(image)
	if _, digest, ok := strings.Cut(image, "@sha256:"); ok && v == "" {
		v = "sha256-" + digest[:min(12, len(digest))]
	}
	return Value(v)
}
