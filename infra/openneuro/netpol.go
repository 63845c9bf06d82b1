package openneuro

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Network policies. The namespace denies every connection in and out; each component then gets
// one policy with exactly its flows, in both directions, and every pod may resolve names. The
// NetworkPolicy API only allows: whatever no policy names stays closed.

// fromIngress is the source of the site's traffic: the ingress controller (Exposure.Sources).
const fromIngress = "ingress-controller"

// flow is one connection the application makes: from a component (or fromIngress) to a
// component's pods on a TCP port.
type flow struct {
	from, to string
	port     int
}

// topology is a generation's network: its components, its flows between them, and the components
// that also reach the world outside the namespace.
type topology struct {
	components []string
	flows      []flow
	// external components talk to services the program does not run and whose addresses it
	// cannot know (MongoDB, Elasticsearch, S3, GitHub, ORCID, SMTP), inside the cluster or out.
	external []string
}

// topology2020 is who talks to whom in v3.14.2: the ALB to the API and web; the DataLad service
// and the workers post to the API's GraphQL endpoint (GRAPHQL_ENDPOINT); the API calls the DataLad
// service (DATALAD_SERVICE_URI) and caches in the cache redis (REDIS_HOST of its env); the DataLad
// service, the workers, beat and flower share the Celery broker. web (nginx, static files) and
// redis make no connection at all; the indexer reaches the API through the public URL
// (GRAPHQL_URI) and Elasticsearch.
func topology2020() topology {
	return topology{
		components: []string{compAPI, compWeb, compDatalad, compWorker, compBeat, compFlower, compIndexer, compRedis, redisCacheSuffix},
		flows: []flow{
			{fromIngress, compAPI, apiPort},
			{fromIngress, compWeb, webPort},
			{compDatalad, compAPI, apiPort},
			{compWorker, compAPI, apiPort},
			{compAPI, compDatalad, dataladPort},
			{compAPI, redisCacheSuffix, redisPort},
			{compDatalad, compRedis, redisPort},
			{compWorker, compRedis, redisPort},
			{compBeat, compRedis, redisPort},
			{compFlower, compRedis, redisPort},
		},
		external: []string{compAPI, compDatalad, compWorker, compIndexer},
	}
}

// topologyCurrent is who talks to whom in the current generation (v5.5.1): the ALB to the API, web
// and each dataset worker (/uploads/<n>, /git/<n>); the API calls the workers
// (<DATALAD_SERVICE_URI>-<n>) and keeps its cache, locks and queues in redis; the workers and the
// scheduler use redis DB 8 (taskiq) and post task events to the API (GRAPHQL_ENDPOINT); the
// indexer reads the API inside the cluster (GRAPHQL_URI). web and redis make no connection. The
// API (MongoDB, Elasticsearch, S3, mail, DataCite), the workers (S3, the GCS backup bucket,
// GitHub) and the indexer (Elasticsearch) also reach the outside.
func topologyCurrent() topology {
	return topology{
		components: []string{compAPI, compWeb, compWorker, compScheduler, compIndexer, compRedis},
		flows: []flow{
			{fromIngress, compAPI, apiPort},
			{fromIngress, compWeb, webPort},
			{fromIngress, compWorker, workerPort},
			{compAPI, compWorker, workerPort},
			{compAPI, compRedis, redisPort},
			{compWorker, compRedis, redisPort},
			{compScheduler, compRedis, redisPort},
			{compWorker, compAPI, apiPort},
			{compScheduler, compAPI, apiPort},
			{compIndexer, compAPI, apiPort},
		},
		external: []string{compAPI, compWorker, compIndexer},
	}
}

// instanceMetadataCIDR is EC2's instance metadata service: no pod needs the node's credentials
// (the AWS keys of the application are its own secrets), so external egress excludes it.
const instanceMetadataCIDR = "169.254.169.254/32"

// newNetworkPolicies creates one policy per component of t, the DNS allowance, and the
// namespace's default deny last, so that an update that brings the policies to running pods
// never leaves them denied without their flows.
func newNetworkPolicies(k *kit, t topology) error {
	all := &metav1.LabelSelectorArgs{}
	both := pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")}
	var allows []pulumi.Resource
	for _, c := range t.components {
		p, err := k.networkPolicy(c, k.objectName(c), networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: k.labelSet(c, "").Selector()},
			PolicyTypes: both,
			Ingress:     k.ingressRules(t, c),
			Egress:      k.egressRules(t, c),
		})
		if err != nil {
			return err
		}
		allows = append(allows, p)
	}
	// Port 53 to any address: kube-dns's labels and address differ between clusters (and
	// NodeLocal DNSCache answers on a link-local address), and every pod needs names.
	dns, err := k.networkPolicy("dns", k.objectName("dns"), networkingv1.NetworkPolicySpecArgs{
		PodSelector: all,
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
			Ports: networkingv1.NetworkPolicyPortArray{port(53, "UDP"), port(53, "TCP")},
		}},
	})
	if err != nil {
		return err
	}
	_, err = k.networkPolicy("default-deny", k.objectName("default-deny"), networkingv1.NetworkPolicySpecArgs{
		PodSelector: all, PolicyTypes: both,
	}, pulumi.DependsOn(append(allows, dns)))
	return err
}

// ingressRules admits each flow into c from its source, one rule per flow.
func (k *kit) ingressRules(t topology, c string) networkingv1.NetworkPolicyIngressRuleArray {
	var rules networkingv1.NetworkPolicyIngressRuleArray
	for _, f := range t.flows {
		if f.to != c {
			continue
		}
		from := networkingv1.NetworkPolicyPeerArray{k.componentPeer(f.from)}
		if f.from == fromIngress {
			from = k.args.Exposure.Sources
		}
		rules = append(rules, networkingv1.NetworkPolicyIngressRuleArgs{
			From: from, Ports: networkingv1.NetworkPolicyPortArray{port(f.port, "TCP")},
		})
	}
	return rules
}

// egressRules lets c open each of its flows, and reach anything but the instance metadata when
// it is external.
func (k *kit) egressRules(t topology, c string) networkingv1.NetworkPolicyEgressRuleArray {
	var rules networkingv1.NetworkPolicyEgressRuleArray
	for _, f := range t.flows {
		if f.from != c {
			continue
		}
		rules = append(rules, networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{k.componentPeer(f.to)}, Ports: networkingv1.NetworkPolicyPortArray{port(f.port, "TCP")},
		})
	}
	for _, e := range t.external {
		if e != c {
			continue
		}
		// An ipBlock alone does not reach pods on every CNI (Cilium matches it against addresses
		// outside the cluster only), and MongoDB or Elasticsearch may run in another namespace.
		rules = append(rules, networkingv1.NetworkPolicyEgressRuleArgs{To: networkingv1.NetworkPolicyPeerArray{
			networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{
				Cidr: pulumi.String("0.0.0.0/0"), Except: pulumi.StringArray{pulumi.String(instanceMetadataCIDR)},
			}},
			networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{}},
		}})
	}
	return rules
}

// componentPeer selects a component's pods in the application's namespace.
func (k *kit) componentPeer(c string) networkingv1.NetworkPolicyPeerArgs {
	return networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: k.labelSet(c, "").Selector()}}
}

func port(n int, protocol string) networkingv1.NetworkPolicyPortArgs {
	return networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(n), Protocol: pulumi.String(protocol)}
}

// networkPolicy creates the policy name, labelled with the component it is for (or what it
// does, for the namespace-wide ones).
func (k *kit) networkPolicy(component, name string, spec networkingv1.NetworkPolicySpecArgs, opts ...pulumi.ResourceOption) (*networkingv1.NetworkPolicy, error) {
	p, err := networkingv1.NewNetworkPolicy(k.ctx, k.logical("netpol-"+component), &networkingv1.NetworkPolicyArgs{
		Metadata: k.meta(name, k.labelSet(component, "")),
		Spec:     spec,
	}, append([]pulumi.ResourceOption{k.parent}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("network policy %s: %w", name, err)
	}
	return p, nil
}
