package openneuro_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/openneuro/openneuro-infra/infra/exposure"
	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/netpolicy"
	"github.com/openneuro/openneuro-infra/stacks"
)

// allowedFlows is every connection the 2020 application needs inside its namespace, written out
// from the upstream code (not from the program's own table): source, destination, port.
var allowedFlows = map[[2]string][]int{
	{"ingress", "api"}:           {8111},
	{"ingress", "web"}:           {80},
	{"datalad-service", "api"}:   {8111},
	{"dataset-worker", "api"}:    {8111},
	{"api", "datalad-service"}:   {9877},
	{"api", "redis-cache"}:       {6379},
	{"datalad-service", "redis"}: {6379},
	{"dataset-worker", "redis"}:  {6379},
	{"beat-scheduler", "redis"}:  {6379},
	{"flower", "redis"}:          {6379},
}

// externalComponents reach services outside the namespace (MongoDB, Elasticsearch, S3, GitHub).
var externalComponents = []string{"api", "datalad-service", "dataset-worker", "indexer"}

// TestNetworkFlows evaluates the rendered NetworkPolicies for every pair of endpoints on every
// port the application listens on: exactly the table's flows pass; the outside world is reachable
// only from the components that need it, the instance metadata from none; DNS from all.
func TestNetworkFlows(t *testing.T) {
	// The ALB sends from addresses of the stack's VPC (network.cidr of Pulumi.<stack>.yaml).
	for _, tc := range []struct {
		name    string
		stack   string
		mutate  func(*openneuro.Args)
		ingress netpolicy.Endpoint
	}{
		{"staging behind the ALB", "staging", nil, netpolicy.Outside("10.10.3.17")},
		{"prod behind the ALB", "prod", nil, netpolicy.Outside("10.20.3.17")},
		{"existing cluster's ingress-nginx", "staging", func(a *openneuro.Args) {
			a.Exposure = exposure.Existing(stacks.Ingress{ClassName: "nginx", ControllerNamespace: "ingress-nginx"})
		}, netpolicy.Pod("ingress-nginx", map[string]string{"app.kubernetes.io/name": "ingress-nginx"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := layerObjects(t, run(t, tc.stack, tc.mutate))
			cluster := netpolicy.New(policiesOf(t, o), nil)
			pods := podsByComponent(t, o)
			if len(pods) != 9 {
				t.Fatalf("%d components with pods, want 9: %v", len(pods), slices.Sorted(maps.Keys(pods)))
			}
			sources := map[string]netpolicy.Endpoint{
				"ingress":         tc.ingress,
				"other-namespace": netpolicy.Pod("monitoring", map[string]string{"app.kubernetes.io/component": "api"}),
				"internet":        netpolicy.Outside("203.0.113.10"),
			}
			for c, p := range pods {
				sources[c] = p
			}
			ports := []int{80, 5555, 6379, 8111, 9877}
			for from, src := range sources {
				for to, dst := range pods {
					for _, port := range ports {
						got := allowed(t, cluster, src, dst, port, "TCP")
						want := slices.Contains(allowedFlows[[2]string{from, to}], port)
						if got != want {
							t.Errorf("%s -> %s:%d allowed=%v, want %v", from, to, port, got, want)
						}
					}
				}
			}
			dns := netpolicy.Pod("kube-system", map[string]string{"k8s-app": "kube-dns"})
			for c, p := range pods {
				external := slices.Contains(externalComponents, c)
				for what, check := range map[string]struct {
					to    netpolicy.Endpoint
					port  int
					proto string
					want  bool
				}{
					"DNS over UDP":             {dns, 53, "UDP", true},
					"DNS over TCP":             {dns, 53, "TCP", true},
					"HTTPS on the internet":    {netpolicy.Outside("198.51.100.7"), 443, "TCP", external},
					"MongoDB in the cluster":   {netpolicy.Pod("mongodb", map[string]string{"app": "mongodb"}), 27017, "TCP", external},
					"instance metadata":        {netpolicy.Outside("169.254.169.254"), 80, "TCP", false},
					"kube-dns on another port": {dns, 8080, "TCP", external},
				} {
					if got := allowed(t, cluster, p, check.to, check.port, check.proto); got != check.want {
						t.Errorf("%s: %s allowed=%v, want %v", c, what, got, check.want)
					}
				}
			}
		})
	}
}

// TestDefaultDenyComesLast: the namespace-wide deny is created after every allowance, so pods
// already running never lose their flows while an update adds the policies.
func TestDefaultDenyComesLast(t *testing.T) {
	rec := run(t, "staging", nil)
	deny := rec.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "openneuro-netpol-default-deny")
	if deny == nil {
		t.Fatal("no default deny")
	}
	allows := 0
	for _, r := range rec.ByType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		if r.URN == deny.URN {
			continue
		}
		allows++
		if !slices.Contains(deny.DependsOn, r.URN) {
			t.Errorf("the default deny does not wait for %s", r.Name)
		}
	}
	if allows != 10 {
		t.Errorf("%d allowances, want 10 (9 components and DNS)", allows)
	}
}

func allowed(t *testing.T, c *netpolicy.Cluster, from, to netpolicy.Endpoint, port int, proto string) bool {
	t.Helper()
	ok, err := c.Allowed(from, to, port, proto)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func policiesOf(t *testing.T, o objects) []networkingv1.NetworkPolicy {
	t.Helper()
	var out []networkingv1.NetworkPolicy
	for key, res := range o {
		if strings.HasPrefix(key, "NetworkPolicy/") {
			out = append(out, *decode[networkingv1.NetworkPolicy](t, res))
		}
	}
	return out
}

// podsByComponent are the pods the workloads create, by component label, as they would run.
func podsByComponent(t *testing.T, o objects) map[string]netpolicy.Endpoint {
	t.Helper()
	out := map[string]netpolicy.Endpoint{}
	for key, res := range o {
		kind, name, _ := strings.Cut(key, "/")
		if kind != "Deployment" && kind != "StatefulSet" && kind != "CronJob" {
			continue
		}
		tmpl := o.podTemplate(t, name)
		ns, _ := res.Plain(false)["metadata"].(map[string]any)["namespace"].(string)
		out[tmpl.Labels["app.kubernetes.io/component"]] = netpolicy.Pod(ns, tmpl.Labels)
	}
	return out
}

// allowedFlowsCurrent is every connection the current generation needs inside its namespace,
// written out from the v5.5.1 code: the ALB to the API, web and each worker (/uploads/<n>,
// /git/<n>); the API to the workers (libs/datalad-service.ts) and redis (cache, locks, redis-smq
// queues); the workers' and the scheduler's taskiq to redis DB 8 and their task events to the
// API's GraphQL (GRAPHQL_ENDPOINT); the indexer to the API (GRAPHQL_URI inside the cluster).
var allowedFlowsCurrent = map[[2]string][]int{
	{"ingress", "api"}:            {8111},
	{"ingress", "web"}:            {80},
	{"ingress", "dataset-worker"}: {80},
	{"api", "dataset-worker"}:     {80},
	{"api", "redis"}:              {6379},
	{"dataset-worker", "redis"}:   {6379},
	{"scheduler", "redis"}:        {6379},
	{"dataset-worker", "api"}:     {8111},
	{"scheduler", "api"}:          {8111},
	{"indexer", "api"}:            {8111},
}

// externalCurrent reach MongoDB, Elasticsearch, S3, the GCS backup bucket, GitHub, mail, DataCite.
var externalCurrent = []string{"api", "dataset-worker", "indexer"}

// TestNetworkFlowsCurrent is TestNetworkFlows for the current generation.
func TestNetworkFlowsCurrent(t *testing.T) {
	o := layerObjects(t, run(t, infratest.CurrentStack, nil, infratest.Current()...))
	cluster := netpolicy.New(policiesOf(t, o), nil)
	pods := podsByComponent(t, o)
	if want := []string{"api", "dataset-worker", "indexer", "redis", "scheduler", "web"}; !slices.Equal(slices.Sorted(maps.Keys(pods)), want) {
		t.Fatalf("components with pods %v, want %v", slices.Sorted(maps.Keys(pods)), want)
	}
	sources := map[string]netpolicy.Endpoint{
		"ingress":  netpolicy.Outside("10.10.3.17"), // the ALB, from staging's VPC
		"internet": netpolicy.Outside("203.0.113.10"),
	}
	for c, p := range pods {
		sources[c] = p
	}
	for from, src := range sources {
		for to, dst := range pods {
			for _, port := range []int{80, 6379, 8111} {
				got := allowed(t, cluster, src, dst, port, "TCP")
				want := slices.Contains(allowedFlowsCurrent[[2]string{from, to}], port)
				if got != want {
					t.Errorf("%s -> %s:%d allowed=%v, want %v", from, to, port, got, want)
				}
			}
		}
	}
	for c, p := range pods {
		external := slices.Contains(externalCurrent, c)
		if got := allowed(t, cluster, p, netpolicy.Outside("198.51.100.7"), 443, "TCP"); got != external {
			t.Errorf("%s: HTTPS on the internet allowed=%v, want %v", c, got, external)
		}
		if allowed(t, cluster, p, netpolicy.Outside("169.254.169.254"), 80, "TCP") {
			t.Errorf("%s reaches the instance metadata", c)
		}
	}
}
