// Package deploygraph turns the recorded resources into the deployment's dependency graph and
// estimates how long a first `pulumi up` takes: the critical path through the graph, using typical
// creation times per resource type, next to the sum of all of them (a one-at-a-time run).
package deploygraph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/openneuro/openneuro-infra/internal/recorded"
)

// Node is one resource in the graph.
type Node struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	Name string `json:"name"`
	// Seconds is the typical creation time of the resource (0 for components and providers).
	Seconds int `json:"seconds"`
}

// Edge says To waits for From: To depends on From (and is deleted before it).
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Graph is the deployment's dependency graph.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// FromResources builds the graph: an edge for every dependency the engine sees (explicit DependsOn
// and every input that came from another resource's output), and one from each component to its
// children (a child is registered after its parent).
func FromResources(resources []recorded.Resource) Graph {
	var g Graph
	known := map[string]bool{}
	for _, r := range resources {
		known[r.URN] = true
	}
	for _, r := range resources {
		g.Nodes = append(g.Nodes, Node{URN: r.URN, Type: r.Type, Name: r.Name, Seconds: CreateSeconds(r.Type, r.Custom)})
		deps := map[string]bool{}
		for _, d := range r.DependsOn {
			deps[d] = true
		}
		for _, ds := range r.PropertyDependencies {
			for _, d := range ds {
				deps[d] = true
			}
		}
		if r.Parent != "" {
			deps[r.Parent] = true
		}
		for d := range deps {
			if known[d] && d != r.URN {
				g.Edges = append(g.Edges, Edge{From: d, To: r.URN})
			}
		}
	}
	sort.Slice(g.Edges, func(i, j int) bool {
		if g.Edges[i].From != g.Edges[j].From {
			return g.Edges[i].From < g.Edges[j].From
		}
		return g.Edges[i].To < g.Edges[j].To
	})
	return g
}

// Estimate is the deploy-time estimate of a graph.
type Estimate struct {
	// CriticalSeconds is the length of the longest chain: the wall time of a first pulumi up, as the
	// engine creates everything else in parallel.
	CriticalSeconds int `json:"criticalSeconds"`
	// CriticalPath are the resources on that chain with their start and end times, in order.
	CriticalPath []Step `json:"criticalPath"`
	// SerialSeconds is the sum of all creation times: a one-step-at-a-time run.
	SerialSeconds int `json:"serialSeconds"`
}

// Step is one resource on the critical path.
type Step struct {
	Node
	Start int `json:"start"`
	End   int `json:"end"`
}

// Estimate computes the critical path (longest path, node-weighted) and the serial sum.
func (g Graph) Estimate() (Estimate, error) {
	order, err := g.topoOrder()
	if err != nil {
		return Estimate{}, err
	}
	byURN := map[string]Node{}
	for _, n := range g.Nodes {
		byURN[n.URN] = n
	}
	preds := map[string][]string{}
	for _, e := range g.Edges {
		preds[e.To] = append(preds[e.To], e.From)
	}
	end := map[string]int{}
	via := map[string]string{}
	var est Estimate
	last := ""
	for _, urn := range order {
		start := 0
		for _, p := range preds[urn] {
			if end[p] > start || (end[p] == start && via[urn] == "") {
				start, via[urn] = end[p], p
			}
		}
		end[urn] = start + byURN[urn].Seconds
		est.SerialSeconds += byURN[urn].Seconds
		if last == "" || end[urn] > end[last] {
			last = urn
		}
	}
	for urn := last; urn != ""; urn = via[urn] {
		n := byURN[urn]
		if n.Seconds > 0 {
			est.CriticalPath = append([]Step{{Node: n, Start: end[urn] - n.Seconds, End: end[urn]}}, est.CriticalPath...)
		}
	}
	if last != "" {
		est.CriticalSeconds = end[last]
	}
	return est, nil
}

// LongestChain returns the longest node-weighted chain through the nodes that keep returns true,
// following only edges between such nodes.
func (g Graph) LongestChain(keep func(Node) bool) int {
	sub := Graph{}
	kept := map[string]bool{}
	for _, n := range g.Nodes {
		if keep(n) {
			sub.Nodes = append(sub.Nodes, n)
			kept[n.URN] = true
		}
	}
	for _, e := range g.Edges {
		if kept[e.From] && kept[e.To] {
			sub.Edges = append(sub.Edges, e)
		}
	}
	est, err := sub.Estimate()
	if err != nil {
		return 0
	}
	return est.CriticalSeconds
}

// topoOrder sorts the nodes so that every edge goes forward (Kahn's algorithm, ties by URN so the
// output is deterministic).
func (g Graph) topoOrder() ([]string, error) {
	indeg := map[string]int{}
	next := map[string][]string{}
	for _, n := range g.Nodes {
		indeg[n.URN] += 0
	}
	for _, e := range g.Edges {
		indeg[e.To]++
		next[e.From] = append(next[e.From], e.To)
	}
	var ready, order []string
	for urn, d := range indeg {
		if d == 0 {
			ready = append(ready, urn)
		}
	}
	for len(ready) > 0 {
		sort.Strings(ready)
		urn := ready[0]
		ready = ready[1:]
		order = append(order, urn)
		for _, m := range next[urn] {
			if indeg[m]--; indeg[m] == 0 {
				ready = append(ready, m)
			}
		}
	}
	if len(order) != len(indeg) {
		return nil, fmt.Errorf("deploygraph: the dependency graph has a cycle")
	}
	return order, nil
}

// Mermaid renders the custom resources and their dependencies as a mermaid flowchart.
func (g Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	id := map[string]string{}
	for i, n := range g.Nodes {
		id[n.URN] = fmt.Sprintf("n%d", i)
		fmt.Fprintf(&b, "  n%d[\"%s<br/>%s\"]\n", i, n.Name, n.Type)
	}
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "  %s --> %s\n", id[e.From], id[e.To])
	}
	return b.String()
}

// Requires returns, for every node, the nodes it waits for transitively: everything that exists
// before it and is deleted after it. It is how destroy-order tests read the graph.
func (g Graph) Requires() map[string]map[string]bool {
	direct := map[string][]string{}
	for _, e := range g.Edges {
		direct[e.To] = append(direct[e.To], e.From)
	}
	out := map[string]map[string]bool{}
	var visit func(urn string) map[string]bool
	visit = func(urn string) map[string]bool {
		if s, ok := out[urn]; ok {
			return s
		}
		s := map[string]bool{}
		out[urn] = s
		for _, d := range direct[urn] {
			s[d] = true
			for dd := range visit(d) {
				s[dd] = true
			}
		}
		return s
	}
	for _, n := range g.Nodes {
		visit(n.URN)
	}
	return out
}
