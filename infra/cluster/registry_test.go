package cluster_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

const cacheSecret = "arn:aws:secretsmanager:us-west-2:488777458602:secret:ecr-pullthroughcache/docker-hub-AbCdEf"

// TestDockerHubCache: the rule caches Docker Hub under the prefix with the operator's credential, the
// nodes may fill it (import and create repositories under the prefix only), and no node group starts
// before both exist.
func TestDockerHubCache(t *testing.T) {
	t.Parallel()
	r := run(t, "prod", infratest.WithoutValue("cluster.dockerHubAnonymous"), infratest.WithValue("cluster.dockerHubCache", map[string]any{"credentialArn": cacheSecret}))
	rule := r.rec.Find("aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "cluster-dockerhub-cache")
	if rule == nil {
		t.Fatal("no pull-through cache rule")
	}
	want := map[string]any{"ecrRepositoryPrefix": "docker-hub", "upstreamRegistryUrl": "registry-1.docker.io", "credentialArn": cacheSecret}
	if got := rule.Plain(false); !reflect.DeepEqual(got, want) {
		t.Errorf("rule %v, want %v", got, want)
	}
	fill := r.rec.Find("aws:iam/rolePolicy:RolePolicy", "cluster-node-dockerhub-cache")
	if fill == nil {
		t.Fatal("the node role cannot fill the cache")
	}
	var doc irsa.Document
	if err := json.Unmarshal([]byte(fill.Plain(false)["policy"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	wantDoc := []irsa.Statement{{Sid: "FillDockerHubCache", Effect: "Allow",
		Action:   irsa.Values{"ecr:BatchImportUpstreamImage", "ecr:CreateRepository"},
		Resource: irsa.Values{"arn:aws:ecr:us-west-2:488777458602:repository/docker-hub/*"}}}
	if !reflect.DeepEqual(doc.Statement, wantDoc) {
		t.Errorf("node policy %+v, want %+v", doc.Statement, wantDoc)
	}
	node := r.rec.Find("aws:iam/role:Role", "cluster-node")
	if fill.Plain(false)["role"] != node.Outputs["name"].StringValue() {
		t.Errorf("the cache policy is on role %v, not the node role", fill.Plain(false)["role"])
	}
	for _, ng := range r.rec.ByType(nodeGroupType) {
		if !slices.Contains(ng.DependsOn, rule.URN) || !slices.Contains(ng.DependsOn, fill.URN) {
			t.Errorf("node group %s may start before the cache works", ng.Name)
		}
	}
	if plain := run(t, "prod"); len(plain.rec.ByType("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")) != 0 {
		t.Error("a cache rule exists without cluster.dockerHubCache")
	}
}
