package deploygraph

import (
	"slices"
	"sort"
	"testing"
)

func TestEstimateCriticalPathAndSerialSum(t *testing.T) {
	// vpc(5) -> cluster(600) -> nodegroup(180) -> deployment(60); kms(25) -> cluster; efs(12) alone.
	g := Graph{
		Nodes: []Node{
			{URN: "vpc", Seconds: 5}, {URN: "kms", Seconds: 25}, {URN: "cluster", Seconds: 600},
			{URN: "ng", Seconds: 180}, {URN: "deploy", Seconds: 60}, {URN: "efs", Seconds: 12},
		},
		Edges: []Edge{{"vpc", "cluster"}, {"kms", "cluster"}, {"cluster", "ng"}, {"ng", "deploy"}},
	}
	est, err := g.Estimate()
	if err != nil {
		t.Fatal(err)
	}
	if est.CriticalSeconds != 25+600+180+60 {
		t.Errorf("critical %d, want %d", est.CriticalSeconds, 25+600+180+60)
	}
	if est.SerialSeconds != 5+25+600+180+60+12 {
		t.Errorf("serial %d", est.SerialSeconds)
	}
	var path []string
	for _, s := range est.CriticalPath {
		path = append(path, s.URN)
	}
	if len(path) != 4 || path[0] != "kms" || path[3] != "deploy" {
		t.Errorf("critical path %v, want kms cluster ng deploy", path)
	}
	if got := g.LongestChain(func(n Node) bool { return n.URN == "ng" || n.URN == "deploy" }); got != 240 {
		t.Errorf("longest chain %d, want 240", got)
	}
}

func TestCycleIsAnError(t *testing.T) {
	g := Graph{Nodes: []Node{{URN: "a"}, {URN: "b"}}, Edges: []Edge{{"a", "b"}, {"b", "a"}}}
	if _, err := g.Estimate(); err == nil {
		t.Error("a cycle must be reported")
	}
}

func TestCreateSeconds(t *testing.T) {
	cases := []struct {
		typ    string
		custom bool
		want   int
	}{
		{"eks:index:Cluster", false, 600}, // a remote component: its hidden children take the time
		{"openneuro:cluster:Cluster", false, 0},
		{"pulumi:providers:kubernetes", true, 0},
		{"kubernetes:core/v1:ConfigMap", true, 2},
		{"aws:ec2/natGateway:NatGateway", true, 105},
		{"aws:ec2/vpcEndpoint:VpcEndpoint", true, 600},                 // the provider's bound
		{"kubernetes:autoscaling/v2:HorizontalPodAutoscaler", true, 2}, // not awaited
		{"aws:cloudwatch/metricAlarm:MetricAlarm", true, 2},            // one create call
	}
	for _, c := range cases {
		if got := CreateSeconds(c.typ, c.custom); got != c.want {
			t.Errorf("%s: %d, want %d", c.typ, got, c.want)
		}
	}
}

func TestRequiresIsTransitive(t *testing.T) {
	// ingress -> controller -> nodegroup -> vpc; efs alone.
	g := Graph{
		Nodes: []Node{{URN: "vpc"}, {URN: "ng"}, {URN: "controller"}, {URN: "ingress"}, {URN: "efs"}},
		Edges: []Edge{{"vpc", "ng"}, {"ng", "controller"}, {"controller", "ingress"}},
	}
	req := g.Requires()
	for _, tc := range []struct {
		node string
		want []string
	}{
		{"ingress", []string{"controller", "ng", "vpc"}},
		{"ng", []string{"vpc"}},
		{"vpc", nil},
		{"efs", nil},
	} {
		var got []string
		for urn := range req[tc.node] {
			got = append(got, urn)
		}
		sort.Strings(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s requires %v, want %v", tc.node, got, tc.want)
		}
	}
}
