package stacks_test

import (
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

const cacheSecret = "arn:aws:secretsmanager:us-west-2:488777458602:secret:ecr-pullthroughcache/docker-hub-AbCdEf"

func TestDockerHubRewrite(t *testing.T) {
	cache := stacks.DockerHubCache{CredentialARN: cacheSecret, RepositoryPrefix: "docker-hub"}
	reg := "488777458602.dkr.ecr.us-west-2.amazonaws.com/docker-hub/"
	for in, want := range map[string]string{
		"openneuro/server:v3.14.2":                      "openneuro/server:v3.14.2",
		"redis:7.4.2":                                   "library/redis:7.4.2",
		"kong":                                          "library/kong",
		"docker.io/kubernetesui/dashboard-api":          "kubernetesui/dashboard-api",
		"registry-1.docker.io/library/redis:7":          "library/redis:7",
		"rook/edgefs@sha256:" + strings.Repeat("a", 64): "rook/edgefs@sha256:" + strings.Repeat("a", 64),
	} {
		if got := cache.Rewrite(in); got != reg+want {
			t.Errorf("Rewrite(%s) = %s, want %s", in, got, reg+want)
		}
	}
	for _, other := range []string{"public.ecr.aws/eks/aws-load-balancer-controller:v2.14.0", "quay.io/org/img:1", "localhost:5000/img:1", "ghcr.io/org/img:1"} {
		if got := cache.Rewrite(other); got != other {
			t.Errorf("Rewrite(%s) = %s; not a Docker Hub image", other, got)
		}
	}
	cn := stacks.DockerHubCache{CredentialARN: "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:ecr-pullthroughcache/hub-x", RepositoryPrefix: "hub"}
	if got := cn.Registry(); got != "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn" {
		t.Errorf("China registry %s", got)
	}
}

// TestDockerHubCacheRewritesEveryImage: with the cache, no image of the stack pulls from Docker Hub.
func TestDockerHubCacheRewritesEveryImage(t *testing.T) {
	cfg, err := load("prod", stackconfig.WithoutValue("cluster.dockerHubAnonymous"), stackconfig.WithValue("cluster.dockerHubCache", map[string]any{"credentialArn": cacheSecret}),
		stackconfig.WithValue("app.images.redis", "docker.io/library/redis:7.4.2"))
	if err != nil {
		t.Fatal(err)
	}
	reg := "488777458602.dkr.ecr.us-west-2.amazonaws.com/docker-hub/"
	images := map[string]string{
		"server": cfg.OpenNeuro.Images.Server, "app": cfg.OpenNeuro.Images.App, "datalad": cfg.OpenNeuro.Images.DataladService,
		"indexer": cfg.OpenNeuro.Images.Indexer, "content": cfg.OpenNeuro.Images.Content, "redis": cfg.OpenNeuro.Images.Redis,
		"operator": cfg.EdgeFS.OperatorImage, "edgefs": cfg.EdgeFS.Image,
	}
	for name, ref := range images {
		if !strings.HasPrefix(ref, reg) {
			t.Errorf("%s image %s does not come through the cache", name, ref)
		}
	}
	if images["redis"] != reg+"library/redis:7.4.2" || images["server"] != reg+"openneuro/server:v3.14.2" {
		t.Errorf("redis %s, server %s", images["redis"], images["server"])
	}
	if w := cfg.Warnings(); len(w) != 0 {
		t.Errorf("warnings with the cache: %v", w)
	}
}

func TestDockerHubCacheValidation(t *testing.T) {
	cases := []struct {
		cache map[string]any
		want  string
	}{
		{map[string]any{"credentialArn": "arn:aws:secretsmanager:us-west-2:488777458602:secret:dockerhub-AbCdEf"},
			`cluster.dockerHubCache.credentialArn: "arn:aws:secretsmanager:us-west-2:488777458602:secret:dockerhub-AbCdEf" is not the ARN of a Secrets Manager secret named ecr-pullthroughcache/...`},
		{map[string]any{"credentialArn": strings.Replace(cacheSecret, "us-west-2", "us-east-1", 1)},
			"cluster.dockerHubCache.credentialArn: the secret is in us-east-1 but aws:region is us-west-2"},
		{map[string]any{"credentialArn": strings.Replace(cacheSecret, "488777458602", "111122223333", 1)},
			"cluster.dockerHubCache.credentialArn: the secret is in account 111122223333 but the stack deploys into account 488777458602"},
		{map[string]any{"credentialArn": cacheSecret, "repositoryPrefix": "Docker_Hub"},
			`cluster.dockerHubCache.repositoryPrefix: "Docker_Hub" is not an ECR repository prefix`},
	}
	for _, c := range cases {
		_, err := load("prod", stackconfig.WithValue("cluster.dockerHubCache", c.cache))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
	if _, err := load("local", stackconfig.WithValue("cluster.dockerHubCache", map[string]any{"credentialArn": cacheSecret})); err == nil ||
		!strings.Contains(err.Error(), "cluster.dockerHubCache: is an EKS setting but cluster.mode is existing") {
		t.Errorf("existing mode accepted the cache: %v", err)
	}
}

// TestWarnsWithoutDockerHubCache: validation says what happens without the cache, with the numbers
// of the stack.
func TestWarnsWithoutDockerHubCache(t *testing.T) {
	staging, err := load("staging")
	if err != nil {
		t.Fatal(err)
	}
	w := staging.Warnings()
	want := "cluster.dockerHubCache: not set, so the nodes pull the 8 Docker Hub images (app.images.app, app.images.content, app.images.dataladService, app.images.indexer, app.images.redis, app.images.server, edgefs.image, edgefs.operatorImage) anonymously through 1 NAT address(es): up to 48 pulls on a first up (8 images on 6 nodes), and Docker Hub allows 10 anonymous pulls an hour per address."
	if len(w) != 1 || !strings.HasPrefix(w[0], want) {
		t.Errorf("warnings %q, want one starting %q", w, want)
	}
	local, err := load("local")
	if err != nil {
		t.Fatal(err)
	}
	if w := local.Warnings(); len(w) != 0 {
		t.Errorf("the local stack warns: %v", w)
	}
}
