package deploygraph

import (
	"strconv"

	"github.com/openneuro/openneuro-infra/internal/recorded"
)

// createTimeoutSeconds are how long a create can wait before the provider gives up, per type: the
// longest a single resource can hold a `pulumi up` that is going wrong. Sources:
//   - pulumi-aws wraps the Terraform AWS provider and keeps its default timeouts
//     (hashicorp/terraform-provider-aws: internal/service/eks/cluster.go 30m;
//     website/docs/r/eks_node_group.html.markdown 60m; website/docs/r/eks_addon.html.markdown 20m;
//     internal/service/ec2/vpc_nat_gateway.go 10m; internal/service/ec2/vpc_endpoint.go 10m; website/docs/r/efs_mount_target.html.markdown
//     30m; internal/service/acm/certificate_validation.go 75m);
//   - pulumi-kubernetes awaits Deployments, StatefulSets, DaemonSets, Services, Ingresses, Jobs and
//     Pods for 10 minutes by default (provider/pkg/await: DefaultDeploymentTimeoutMins and its
//     siblings) and a Helm release for 300 s (provider/pkg/provider/helm_release.go,
//     defaultTimeoutSeconds), unless the object carries pulumi.com/timeoutSeconds.
var createTimeoutSeconds = map[string]int{
	"eks:index:Cluster":                                   30 * 60,
	"aws:eks/cluster:Cluster":                             30 * 60,
	"aws:eks/nodeGroup:NodeGroup":                         60 * 60,
	"aws:eks/addon:Addon":                                 20 * 60,
	"aws:ec2/natGateway:NatGateway":                       10 * 60,
	"aws:ec2/vpcEndpoint:VpcEndpoint":                     10 * 60,
	"aws:efs/mountTarget:MountTarget":                     30 * 60,
	"aws:acm/certificateValidation:CertificateValidation": 75 * 60,
	"kubernetes:helm.sh/v3:Release":                       300,
	"kubernetes:apps/v1:Deployment":                       10 * 60,
	"kubernetes:apps/v1:StatefulSet":                      10 * 60,
	"kubernetes:apps/v1:DaemonSet":                        10 * 60,
	"kubernetes:core/v1:Service":                          10 * 60,
	"kubernetes:core/v1:Pod":                              10 * 60,
	"kubernetes:batch/v1:Job":                             10 * 60,
	"kubernetes:networking.k8s.io/v1:Ingress":             10 * 60,
}

// TimeoutAnnotation overrides pulumi-kubernetes' await of one object, in seconds.
const TimeoutAnnotation = "pulumi.com/timeoutSeconds"

// CreateTimeoutSeconds is how long creating the resource can wait before it fails: its
// pulumi.com/timeoutSeconds annotation, or the provider's default for its type (0 when it has no
// wait worth counting).
func CreateTimeoutSeconds(r recorded.Resource) int {
	if md, ok := r.Plain(false)["metadata"].(map[string]any); ok {
		if annotations, ok := md["annotations"].(map[string]any); ok {
			if s, ok := annotations[TimeoutAnnotation].(string); ok {
				if n, err := strconv.Atoi(s); err == nil {
					return n
				}
			}
		}
	}
	return createTimeoutSeconds[r.Type]
}

// LongestWait is the resource whose create can wait the longest, and that wait in seconds.
func LongestWait(resources []recorded.Resource) (recorded.Resource, int) {
	var longest recorded.Resource
	var seconds int
	for _, r := range resources {
		if s := CreateTimeoutSeconds(r); s > seconds {
			longest, seconds = r, s
		}
	}
	return longest, seconds
}
