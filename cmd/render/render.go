package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/deploygraph"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// render runs the stack under mocks and writes resources.json and manifests/ into out. The options
// change the stack's config (tests use them).
func render(stack, out string, opts ...infratest.Option) error {
	rec, err := infratest.RunStack(stack, opts...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	resources, err := json.MarshalIndent(rec.Records(), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "resources.json"), append(resources, '\n'), 0o644); err != nil {
		return err
	}
	if err := writeGraph(rec, out); err != nil {
		return err
	}
	dir := filepath.Join(out, "manifests")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for _, m := range rec.Manifests(true) {
		data, err := yaml.Marshal(m.Object)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, manifestPath(m))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("two objects render to %s", path)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// manifestPath is <namespace>/<kind>-<name>.yaml, or _cluster/<kind>-<name>.yaml for cluster-scoped
// objects: stable across renders, so `diff -r` between two renders reads like kubectl diff.
func manifestPath(m infratest.Manifest) string {
	ns := m.Namespace()
	if ns == "" {
		ns = "_cluster"
	}
	return filepath.Join(ns, strings.ToLower(m.Kind())+"-"+m.Name()+".yaml")
}

// writeGraph writes graph.json, graph.mmd (mermaid), the deploy-time estimate (estimate.json and a
// readable estimate.txt) and the monthly cost estimate (cost.txt).
func writeGraph(rec *infratest.Recorder, out string) error {
	g := deploygraph.FromResources(rec.Resources())
	est, err := g.Estimate()
	if err != nil {
		return err
	}
	graph, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	estimate, err := json.MarshalIndent(est, "", "  ")
	if err != nil {
		return err
	}
	var txt strings.Builder
	fmt.Fprintf(&txt, "First pulumi up, estimated: %s on the critical path (%s if every resource were created one at a time).\n\n", minutes(est.CriticalSeconds), minutes(est.SerialSeconds))
	txt.WriteString("Critical path (start-end, resource):\n")
	for _, s := range est.CriticalPath {
		fmt.Fprintf(&txt, "  %6s - %6s  %s %s\n", minutes(s.Start), minutes(s.End), s.Type, s.Name)
	}
	txt.WriteString("\nTimes per resource type, with their sources: internal/deploygraph/times.go.\n")
	files := map[string][]byte{
		"cost.txt":      []byte(writeCost(rec, rec.Region())),
		"graph.json":    append(graph, '\n'),
		"graph.mmd":     []byte(g.Mermaid()),
		"estimate.json": append(estimate, '\n'),
		"estimate.txt":  []byte(txt.String()),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func minutes(seconds int) string { return fmt.Sprintf("%dm%02ds", seconds/60, seconds%60) }
