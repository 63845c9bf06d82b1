package edgefs

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
	"github.com/openneuro/openneuro-infra/stacks"
)

// requirements converts config resources into requests and limits, each quantity in canonical form
// (2048Mi becomes 2Gi): the operator writes the Cluster back through resource.Quantity, which
// canonicalises, and a value that changed on the way would move the field away from Pulumi.
func requirements(r stacks.Resources) (*edgefsv1.ResourceRequirements, error) {
	list := func(q stacks.Quantities) (map[string]edgefsv1.Quantity, error) {
		out := map[string]edgefsv1.Quantity{}
		for name, v := range map[string]string{"cpu": q.CPU, "memory": q.Memory} {
			parsed, err := resource.ParseQuantity(v)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", name, v, err)
			}
			out[name] = edgefsv1.Quantity(parsed.String())
		}
		return out, nil
	}
	requests, err := list(r.Requests)
	if err != nil {
		return nil, fmt.Errorf("requests: %w", err)
	}
	limits, err := list(r.Limits)
	if err != nil {
		return nil, fmt.Errorf("limits: %w", err)
	}
	return &edgefsv1.ResourceRequirements{Requests: requests, Limits: limits}, nil
}

// containerResources is the same as the SDK's ResourceRequirements, for the operator's container.
func containerResources(r *edgefsv1.ResourceRequirements) corev1.ResourceRequirementsArgs {
	list := func(m map[string]edgefsv1.Quantity) pulumi.StringMap {
		out := pulumi.StringMap{}
		for k, v := range m {
			out[k] = pulumi.String(string(v))
		}
		return out
	}
	return corev1.ResourceRequirementsArgs{Requests: list(r.Requests), Limits: list(r.Limits)}
}

// Memory thresholds of the operator's resource profiles for the target daemon (rook v1.5.12
// pkg/operator/edgefs/cluster/cluster.go validateClusterSpec).
var (
	performanceMinRequest = resource.MustParse("2048Mi")
	performanceMinLimit   = resource.MustParse("8192Mi")
)

// resourceProfile picks the target's profile from its memory: performance when the request is at
// least 2048Mi and the limit at least 8192Mi, else embedded (small caches, CCOW_EMBEDDED). The operator
// would switch to embedded silently; spelling it out shows the choice in the diff. (Embedded needs
// 256Mi/1024Mi, which stacks validation enforces.)
func resourceProfile(r *edgefsv1.ResourceRequirements) string {
	req := resource.MustParse(string(r.Requests["memory"]))
	lim := resource.MustParse(string(r.Limits["memory"]))
	if req.Cmp(performanceMinRequest) >= 0 && lim.Cmp(performanceMinLimit) >= 0 {
		return "performance"
	}
	return "embedded"
}
