package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/stacks"
)

// dockerHubCache creates the ECR pull-through cache rule for Docker Hub (cluster.dockerHubCache)
// and lets the nodes fill it: the first pull of an image through a rule imports it and creates its
// repository, which needs ecr:BatchImportUpstreamImage and ecr:CreateRepository beyond the node
// role's read-only ECR policy (ECR user guide, "IAM permissions required to sync an upstream
// registry with an Amazon ECR private registry"). The node groups wait for both, so no pod pulls
// before the cache works. Without the cache it creates nothing.
func dockerHubCache(ctx *pulumi.Context, name string, cache *stacks.DockerHubCache, nodeRole *iam.Role, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
	if cache == nil {
		return nil, nil
	}
	rule, err := ecr.NewPullThroughCacheRule(ctx, name+"-dockerhub-cache", &ecr.PullThroughCacheRuleArgs{
		EcrRepositoryPrefix: pulumi.String(cache.RepositoryPrefix),
		UpstreamRegistryUrl: pulumi.String(stacks.DockerHubUpstream),
		CredentialArn:       pulumi.String(cache.CredentialARN),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("cluster: docker hub cache rule: %w", err)
	}
	repositories := fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s/*", cache.Partition(), cache.Region(), cache.Account(), cache.RepositoryPrefix)
	policy, err := irsa.Document{Statement: []irsa.Statement{{
		Sid:      "FillDockerHubCache",
		Effect:   "Allow",
		Action:   irsa.Values{"ecr:BatchImportUpstreamImage", "ecr:CreateRepository"},
		Resource: irsa.Values{repositories},
	}}}.JSON()
	if err != nil {
		return nil, err
	}
	fill, err := iam.NewRolePolicy(ctx, name+"-node-dockerhub-cache", &iam.RolePolicyArgs{
		Role:   nodeRole.Name,
		Policy: pulumi.String(policy),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("cluster: node role docker hub cache policy: %w", err)
	}
	return []pulumi.Resource{rule, fill}, nil
}
