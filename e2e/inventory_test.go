//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
)

// volatile are kinds the cluster itself writes all the time; they say nothing about the program.
var volatile = map[string]bool{
	"Event": true, "Lease": true, "Endpoints": true, "EndpointSlice": true,
	"ControllerRevision": true, "Pod": true, "ReplicaSet": true,
	"Node": true, "ComponentStatus": true, "APIService": true,
	"FlowSchema": true, "PriorityLevelConfiguration": true,
	"CertificateSigningRequest": true, "ServiceCIDR": true, "IPAddress": true,
}

// object is one object of the cluster's inventory.
type object struct {
	Kind, Namespace, Name string
	Finalizers            []string
	Terminating           bool
	ClaimNamespace        string // a PersistentVolume's claim
}

func (o object) key() string { return fmt.Sprintf("%s %s/%s", o.Kind, o.Namespace, o.Name) }

// inventory lists every object of every listable kind, except the volatile ones.
func inventory(t *testing.T) map[string]object {
	t.Helper()
	ctx := context.Background()
	disc, err := discovery.NewDiscoveryClientForConfig(clusterOf(t).Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(clusterOf(t).Config)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := disc.ServerPreferredResources()
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	out := map[string]object{}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list.APIResources {
			if volatile[r.Kind] || strings.Contains(r.Name, "/") || !contains(r.Verbs, "list") {
				continue
			}
			items, err := dyn.Resource(gv.WithResource(r.Name)).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list %s: %v", r.Name, err)
			}
			for _, it := range items.Items {
				// A CronJob's Jobs come and go; the program's own Jobs have no owner.
				if r.Kind == "Job" && len(it.GetOwnerReferences()) > 0 {
					continue
				}
				o := object{Kind: r.Kind, Namespace: it.GetNamespace(), Name: it.GetName(),
					Finalizers: it.GetFinalizers(), Terminating: it.GetDeletionTimestamp() != nil}
				if r.Kind == "PersistentVolume" {
					o.ClaimNamespace, _ = unstructuredString(it.Object, "spec", "claimRef", "namespace")
				}
				out[o.key()] = o
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unstructuredString is the string at path in obj, and whether there is one.
func unstructuredString(obj map[string]any, path ...string) (string, bool) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = m[p]
	}
	s, ok := cur.(string)
	return s, ok
}

// added returns the keys of after that are not in before, sorted.
func added(before, after map[string]object) []object {
	var out []object
	for k, o := range after {
		if _, ok := before[k]; !ok {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}
