package stacks

import (
	"fmt"
	"regexp"
	"strings"
)

// DockerHubCache routes the Docker Hub images through an ECR pull-through cache (eks mode): the
// program creates the cache rule, lets the nodes fill it, and rewrites every Docker Hub image of the
// stack (app.images, edgefs images, the optional dashboard's chart images) to the cache. Docker Hub
// then sees one authenticated pull per image and tag instead of one anonymous pull per node, and
// anonymous pulls are limited to 10 an hour per IPv4 address (https://docs.docker.com/docker-hub/usage/,
// docker/docs content/manuals/docker-hub/usage/_index.md), which staging's one NAT address exceeds
// on a first up.
type DockerHubCache struct {
	// CredentialARN is the Secrets Manager secret holding Docker Hub credentials, the keys username
	// and accessToken. AWS requires its name to begin with ecr-pullthroughcache/ and it to be in the
	// stack's account and region (ECR user guide, "Creating a pull through cache rule"). Required.
	CredentialARN string `json:"credentialArn"`
	// RepositoryPrefix is the ECR namespace of the cached images, 2 to 30 characters. Default
	// docker-hub.
	RepositoryPrefix string `json:"repositoryPrefix,omitempty"`
}

// DockerHubUpstream is Docker Hub's registry URL for a pull-through cache rule (ECR API reference,
// CreatePullThroughCacheRule, upstreamRegistryUrl).
const DockerHubUpstream = "registry-1.docker.io"

var (
	// ptcSecretRE is the credentialArn pattern of CreatePullThroughCacheRule; groups: partition,
	// region, account.
	ptcSecretRE = regexp.MustCompile(`^arn:(aws(?:-[a-z]+)*):secretsmanager:([a-z0-9-]+):([0-9]{12}):secret:ecr-pullthroughcache/[a-zA-Z0-9/_+=.@-]+$`)
	// ecrPrefixRE is the ecrRepositoryPrefix pattern of CreatePullThroughCacheRule.
	ecrPrefixRE = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
)

func (d *DockerHubCache) applyDefaults() {
	setDefault(&d.RepositoryPrefix, "docker-hub")
}

// Account is the cache's account, its credential's ("" with a malformed credentialArn).
func (d DockerHubCache) Account() string { return d.arnPart(3) }

// Region is the cache's region, its credential's.
func (d DockerHubCache) Region() string { return d.arnPart(2) }

// Partition is the cache's AWS partition (aws, aws-cn, ...), its credential's.
func (d DockerHubCache) Partition() string { return d.arnPart(1) }

func (d DockerHubCache) arnPart(i int) string {
	if m := ptcSecretRE.FindStringSubmatch(d.CredentialARN); m != nil {
		return m[i]
	}
	return ""
}

// Registry is the account's private ECR registry, <account>.dkr.ecr.<region>.amazonaws.com
// (amazonaws.com.cn in the China partition).
func (d DockerHubCache) Registry() string {
	suffix := "amazonaws.com"
	if d.Partition() == "aws-cn" {
		suffix += ".cn"
	}
	return d.Account() + ".dkr.ecr." + d.Region() + "." + suffix
}

// Rewrite returns a Docker Hub image reference (with or without tag) as pulled through the cache,
// and any other reference unchanged. Official images get their library/ namespace, which the cache
// requires (ECR user guide, "Pulling an image with a pull through cache rule").
func (d DockerHubCache) Rewrite(ref string) string {
	path, ok := dockerHubPath(ref)
	if !ok {
		return ref
	}
	return d.Registry() + "/" + d.RepositoryPrefix + "/" + path
}

// dockerHubPath returns the repository path (with tag or digest) of a Docker Hub reference, with
// library/ for official images; ok is false for references to other registries.
func dockerHubPath(ref string) (string, bool) {
	first, rest, hasSlash := strings.Cut(ref, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		switch first {
		case "docker.io", "index.docker.io", DockerHubUpstream:
			ref = rest
		default:
			return "", false
		}
	}
	if !strings.Contains(strings.SplitN(strings.SplitN(ref, "@", 2)[0], ":", 2)[0], "/") {
		ref = "library/" + ref
	}
	return ref, true
}

// IsDockerHub reports whether an image reference pulls from Docker Hub.
func IsDockerHub(ref string) bool {
	_, ok := dockerHubPath(ref)
	return ok
}

func (d DockerHubCache) validate(v *validator, env Env, c Cluster) {
	if !ptcSecretRE.MatchString(d.CredentialARN) {
		v.addf("cluster.dockerHubCache.credentialArn", "%q is not the ARN of a Secrets Manager secret named ecr-pullthroughcache/...; store the Docker Hub username and accessToken in such a secret (aws secretsmanager create-secret --name ecr-pullthroughcache/docker-hub ...) and give its ARN", d.CredentialARN)
		return
	}
	if env.Region != "" && d.Region() != env.Region {
		v.addf("cluster.dockerHubCache.credentialArn", "the secret is in %s but aws:region is %s; ECR needs the secret in the cache rule's region: create it in %s", d.Region(), env.Region, env.Region)
	}
	if m := iamRoleAccountRE.FindStringSubmatch(c.DeployRoleARN); m != nil && m[1] != d.Account() {
		v.addf("cluster.dockerHubCache.credentialArn", "the secret is in account %s but the stack deploys into account %s (cluster.deployRoleArn); ECR needs the secret in the cache rule's account", d.Account(), m[1])
	}
	if n := len(d.RepositoryPrefix); n < 2 || n > 30 || !ecrPrefixRE.MatchString(d.RepositoryPrefix) {
		v.addf("cluster.dockerHubCache.repositoryPrefix", "%q is not an ECR repository prefix; use 2-30 lower-case letters, digits and . _ - /", d.RepositoryPrefix)
	}
}

// validateDockerHubPulls requires the cache in eks mode while any image comes from Docker Hub, or
// the explicit choice to pull anonymously: through one NAT address a first up pulls more than
// Docker Hub allows anonymously in an hour (Warnings has the numbers).
func (c *Config) validateDockerHubPulls(v *validator) {
	cl := c.Cluster
	if !c.IsEKS() {
		return
	}
	switch {
	case cl.DockerHubCache != nil && cl.DockerHubAnonymous:
		v.addf("cluster.dockerHubAnonymous", "is true but cluster.dockerHubCache is set; remove one of the two")
	case cl.DockerHubCache == nil && !cl.DockerHubAnonymous && len(c.dockerHubImages()) > 0:
		v.addf("cluster.dockerHubCache", "is not set, so the nodes would pull %s from Docker Hub anonymously, which allows 10 pulls an hour per address: a first up can stall in ImagePullBackOff (toomanyrequests). Store your Docker Hub username and access token in a Secrets Manager secret named ecr-pullthroughcache/... and set cluster.dockerHubCache.credentialArn to its ARN (README, Deploying to AWS, step 4), or set cluster.dockerHubAnonymous: true on purpose",
			strings.Join(sortedKeys(c.dockerHubImages()), ", "))
	}
}

// iamRoleAccountRE finds the account of an IAM role ARN.
var iamRoleAccountRE = regexp.MustCompile(`^arn:aws[\w-]*:iam::([0-9]{12}):role/`)

// dockerHubImages are the stack's images that come from Docker Hub, by config path.
func (c *Config) dockerHubImages() map[string]*string {
	all := map[string]*string{
		"app.images.server": &c.OpenNeuro.Images.Server, "app.images.app": &c.OpenNeuro.Images.App,
		"app.images.dataladService": &c.OpenNeuro.Images.DataladService, "app.images.indexer": &c.OpenNeuro.Images.Indexer,
		"app.images.content": &c.OpenNeuro.Images.Content, "app.images.redis": &c.OpenNeuro.Images.Redis,
	}
	if c.EdgeFS.IsEnabled() {
		all["edgefs.operatorImage"] = &c.EdgeFS.OperatorImage
		all["edgefs.image"] = &c.EdgeFS.Image
	}
	out := map[string]*string{}
	for path, ref := range all {
		if *ref != "" && IsDockerHub(*ref) {
			out[path] = ref
		}
	}
	return out
}

// Warnings are what the config allows but an operator should know before a `pulumi up`.
func (c *Config) Warnings() []string {
	var out []string
	if c.IsEKS() && c.Cluster.DockerHubCache == nil && c.Cluster.DockerHubAnonymous {
		paths := sortedKeys(c.dockerHubImages())
		if len(paths) > 0 {
			nats, nodes := 1, c.Cluster.DefaultNodeGroup.DesiredSize
			if c.Network.NatGateways == NatPerZone {
				nats = ZoneCount
			}
			if c.Cluster.EdgeFSNodeGroup.IsEnabled() {
				nodes += c.Cluster.EdgeFSNodeGroup.DesiredSize
			}
			out = append(out, fmt.Sprintf("cluster.dockerHubCache: not set, so the nodes pull the %d Docker Hub images (%s) anonymously through %d NAT address(es): up to %d pulls on a first up (%d images on %d nodes), and Docker Hub allows 10 anonymous pulls an hour per address. Pods then wait in ImagePullBackOff (toomanyrequests) and the up can time out. Set cluster.dockerHubCache.credentialArn to route them through an ECR pull-through cache (README, Deploying to AWS, step 4) in place of cluster.dockerHubAnonymous.",
				len(paths), strings.Join(paths, ", "), nats, len(paths)*nodes, len(paths), nodes))
		}
	}
	return out
}
