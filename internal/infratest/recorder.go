// Package infratest is the test harness of the program: it runs the real Pulumi program (or one
// layer) for a stack under Pulumi mocks, records every resource with its inputs and options, and turns
// the Kubernetes ones into the manifests the provider would apply. Tests and cmd/render use it.
package infratest

import (
	"context"
	"sort"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/openneuro/openneuro-infra/internal/recorded"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Resource is one registered resource as the engine would see it.
type Resource = recorded.Resource

// Recorder implements pulumi.MockResourceMonitor and keeps every registration. Registrations arrive
// concurrently, hence the mutex.
type Recorder struct {
	mu        sync.Mutex
	project   string
	stack     string
	region    string
	resources []Resource
	calls     []Call
	// account is what the mocked AWS account holds beyond the program's own resources.
	account mockAccount
}

// mockAccount is what the mocked AWS account holds that the program reads but does not create.
type mockAccount struct {
	zones []hostedZone
	// callerARN and callerAccount are who runs the program (sts get-caller-identity).
	callerARN, callerAccount string
	// clusters are the EKS clusters that exist in the region before the run.
	clusters []string
	// azNames and azIDs are the region's availability zones.
	azNames, azIDs []string
	// nodeGroups are the EKS node groups the EKS API reports as existing: name -> desired, min,
	// max. Empty means the cluster does not exist yet.
	nodeGroups map[string][3]int
	// clusterVersions are the Kubernetes versions of existing clusters (name -> version).
	clusterVersions map[string]string
	// nodeGroupVersions are the Kubernetes versions of live node groups (name -> version; none:
	// EKS's answer leaves it out).
	nodeGroupVersions map[string]string
	// elasticIPs are the region's Elastic IPs: allocation id -> public address.
	elasticIPs map[string]string
}

type hostedZone struct {
	id, name string
	private  bool
}

// Call is one recorded invoke (data-source call).
type Call struct {
	Token string
	Args  resource.PropertyMap
}

// Calls returns the recorded invokes of a token, in the order they were made.
func (r *Recorder) Calls(token string) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Call
	for _, c := range r.calls {
		if c.Token == token {
			out = append(out, c)
		}
	}
	return out
}

func newRecorder(stack, region string) *Recorder {
	return &Recorder{project: stacks.Project, stack: stack, region: region}
}

// Region is the AWS region the stack's config names ("" for a stack without one).
func (r *Recorder) Region() string { return r.region }

// Resources returns every recorded resource, sorted by URN. They are copies: a caller may change
// them without changing what the recorder holds, which tests may share (Memo, RunShared).
func (r *Recorder) Resources() []Resource {
	return r.matching(func(Resource) bool { return true })
}

// ByType returns the resources of one type token, sorted by URN.
func (r *Recorder) ByType(typ string) []Resource {
	return r.matching(func(res Resource) bool { return res.Type == typ })
}

// Find returns the resource with the given type and logical name, or nil.
func (r *Recorder) Find(typ, name string) *Resource {
	if found := r.matching(func(res Resource) bool { return res.Type == typ && res.Name == name }); len(found) > 0 {
		return &found[0]
	}
	return nil
}

// matching returns copies of the resources keep accepts, sorted by URN.
func (r *Recorder) matching(keep func(Resource) bool) []Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Resource
	for _, res := range r.resources {
		if keep(res) {
			out = append(out, copyResource(res))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// ChildOptions are the options a child of type typ and name would end with if the component with
// the given URN registered it (as a packaged component's provider does, out of the mocks' sight):
// the component's protect, which the SDKs copy to a child that sets none, then the transforms of the
// component and of its ancestors applied, nearest first.
func (r *Recorder) ChildOptions(componentURN, typ, name string) pulumi.ResourceOptions {
	byURN := map[string]Resource{}
	for _, res := range r.Resources() {
		byURN[res.URN] = res
	}
	args := &pulumi.ResourceTransformArgs{Custom: true, Type: typ, Name: name, Props: pulumi.Map{}}
	args.Opts.Protect = byURN[componentURN].Protect
	for urn := componentURN; urn != ""; urn = byURN[urn].Parent {
		for _, transform := range byURN[urn].Transforms {
			if res := transform(context.Background(), args); res != nil {
				args.Props, args.Opts = res.Props, res.Opts
			}
		}
	}
	return args.Opts
}

// NewResource records a registration and answers with a fake id and realistic outputs.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Provider: args.Provider, Inputs: args.Inputs, Transforms: args.Transforms}
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
		rec.CreateTimeout = req.GetCustomTimeouts().GetCreate()
	}
	rec.URN = r.urn(rec.Parent, rec.Type, rec.Name)
	if req := args.RegisterRPC; req != nil {
		// The SDK sends alias specs or, to a monitor without that feature, the URNs it computed.
		rec.AliasURNs = append(rec.AliasURNs, req.GetAliasURNs()...)
		for _, a := range req.GetAliases() {
			rec.AliasURNs = append(rec.AliasURNs, r.aliasURN(rec, a))
		}
	}
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

// aliasURN is the URN an alias names: its URN, or its spec with every field it leaves out taken from
// the resource itself (the engine's rule, sdk/go/pulumi/alias.go).
func (r *Recorder) aliasURN(res Resource, a *pulumirpc.Alias) string {
	if urn := a.GetUrn(); urn != "" {
		return urn
	}
	spec := a.GetSpec()
	name, typ, parent := res.Name, res.Type, res.Parent
	if spec.GetName() != "" {
		name = spec.GetName()
	}
	if spec.GetType() != "" {
		typ = spec.GetType()
	}
	if spec.GetParentUrn() != "" {
		parent = spec.GetParentUrn()
	}
	if spec.GetNoParent() {
		parent = ""
	}
	return r.urn(parent, typ, name)
}

// Call records and answers the invokes the program uses.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	r.mu.Lock()
	r.calls = append(r.calls, Call{Token: args.Token, Args: args.Args})
	r.mu.Unlock()
	return r.invoke(args)
}
