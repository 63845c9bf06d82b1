// Package infratest is the test harness of the program: it runs the real Pulumi program (or one
// layer) for a stack under Pulumi mocks, records every resource with its inputs and options, and turns
// the Kubernetes ones into the manifests the provider would apply. Tests and cmd/render use it.
package infratest

import (
	"sort"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one registered resource as the engine would see it.
type Resource struct {
	Type   string
	Name   string
	URN    string
	Parent string
	// Provider is the provider reference ("<urn>::<id>") the resource was registered with, "" for the
	// default provider.
	Provider string
	// Custom is false for component resources.
	Custom bool
	// DependsOn are the URNs of the explicit and implicit (input) dependencies.
	DependsOn []string
	// PropertyDependencies are, per input property, the URNs that property's value came from.
	PropertyDependencies map[string][]string
	Protect              bool
	RetainOnDelete       bool
	DeleteBeforeReplace  bool
	IgnoreChanges        []string
	Aliases              int
	// Inputs are the resource's inputs; secret values are marked secret.
	Inputs resource.PropertyMap
	// Outputs are what the mocks returned (inputs plus canned outputs).
	Outputs resource.PropertyMap
	// ID is the fake physical id the mocks gave the resource.
	ID string
}

// Recorder implements pulumi.MockResourceMonitor and keeps every registration. Registrations arrive
// concurrently, hence the mutex.
type Recorder struct {
	mu        sync.Mutex
	project   string
	stack     string
	region    string
	resources []Resource
	// liveNodeGroups are the EKS node groups the mocked AWS API reports as existing: name ->
	// desired, min, max. Empty means the cluster does not exist yet.
	liveNodeGroups map[string][3]int
}

func newRecorder(stack, region string) *Recorder {
	return &Recorder{project: "openneuro", stack: stack, region: region}
}

// Resources returns every registered resource, sorted by URN.
func (r *Recorder) Resources() []Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Resource(nil), r.resources...)
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// ByType returns the resources of one type token, sorted by URN.
func (r *Recorder) ByType(typ string) []Resource {
	var out []Resource
	for _, res := range r.Resources() {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// Find returns the resource with the given type and logical name, or nil.
func (r *Recorder) Find(typ, name string) *Resource {
	for _, res := range r.Resources() {
		if res.Type == typ && res.Name == name {
			return &res
		}
	}
	return nil
}

// NewResource records a registration and answers with a fake id and realistic outputs.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Provider: args.Provider, Inputs: args.Inputs}
	if req := args.RegisterRPC; req != nil {
		rec.Parent = req.GetParent()
		rec.DependsOn = append([]string(nil), req.GetDependencies()...)
		sort.Strings(rec.DependsOn)
		rec.PropertyDependencies = map[string][]string{}
		for prop, deps := range req.GetPropertyDependencies() {
			urns := append([]string(nil), deps.GetUrns()...)
			sort.Strings(urns)
			rec.PropertyDependencies[prop] = urns
		}
		rec.Protect = req.GetProtect()
		rec.RetainOnDelete = req.GetRetainOnDelete()
		rec.DeleteBeforeReplace = req.GetDeleteBeforeReplace()
		rec.IgnoreChanges = req.GetIgnoreChanges()
		rec.Aliases = len(req.GetAliases())
	}
	rec.URN = r.urn(rec.Parent, rec.Type, rec.Name)
	rec.ID = fakeID(rec.Type, rec.URN)
	rec.Outputs = r.outputs(rec)
	r.mu.Lock()
	r.resources = append(r.resources, rec)
	r.mu.Unlock()
	return rec.ID, rec.Outputs, nil
}

// urn builds the URN the same way the engine (and the SDK's mock monitor) does.
func (r *Recorder) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(r.stack), tokens.PackageName(r.project), parentType, tokens.Type(typ), name))
}

// Call answers the invokes the program uses.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return r.invoke(args)
}
