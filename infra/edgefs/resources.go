package edgefs

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	k8scorev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/openneuro/openneuro-infra/infra/edgefs/edgefsv1"
	"github.com/openneuro/openneuro-infra/stacks"
)

// requirements converts config resources into requests and limits, each quantity in canonical form
// (2048Mi becomes 2Gi): the operator writes the Cluster back through resource.Quantity, which
// canonicalises, and a value that changed on the way would move the field away from Pulumi.
func requirements(r stacks.Resources) (*k8scorev1.ResourceRequirements, error) {
	list := func(q stacks.Quantities) (k8scorev1.ResourceList, error) {
		out := k8scorev1.ResourceList{}
		for name, v := range map[k8scorev1.ResourceName]string{k8scorev1.ResourceCPU: q.CPU, k8scorev1.ResourceMemory: q.Memory} {
			parsed, err := resource.ParseQuantity(v)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", name, v, err)
			}
			out[name] = parsed
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
	return &k8scorev1.ResourceRequirements{Requests: requests, Limits: limits}, nil
}

// containerResources is the same as the SDK's ResourceRequirements, for the operator's container.
func containerResources(r *k8scorev1.ResourceRequirements) corev1.ResourceRequirementsArgs {
	list := func(m k8scorev1.ResourceList) pulumi.StringMap {
		out := pulumi.StringMap{}
		for k, v := range m {
			out[string(k)] = pulumi.String(v.String())
		}
		return out
	}
	return corev1.ResourceRequirementsArgs{Requests: list(r.Requests), Limits: list(r.Limits)}
}

var (
	performanceMinRequest = resource.MustParse(edgefsv1.PerformanceMinMemoryRequest)
	performanceMinLimit   = resource.MustParse(edgefsv1.PerformanceMinMemoryLimit)
)

// resourceProfile picks the target's profile from its memory: performance from the operator's
// thresholds (edgefsv1.PerformanceMinMemory*), else embedded (small caches, CCOW_EMBEDDED). The
// operator would switch to embedded silently; spelling it out shows the choice in the diff. (Stacks
// validation enforces the embedded minimum.)
func resourceProfile(r *k8scorev1.ResourceRequirements) string {
	if r.Requests.Memory().Cmp(performanceMinRequest) >= 0 && r.Limits.Memory().Cmp(performanceMinLimit) >= 0 {
		return "performance"
	}
	return "embedded"
}
