package infratest

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra"
	"github.com/openneuro/openneuro-infra/infra/preflight"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Option changes what a run sees.
type Option func(*runSettings) error

type runSettings struct {
	stackconfig.Values
	program pulumi.RunFunc
	account mockAccount
	preview bool
}

// WithCaller makes the run's AWS identity arn (e.g. an assumed-role session
// arn:aws:sts::123456789012:assumed-role/Admin/me) of account. By default it is a session of the
// stack's cluster.deployRoleArn.
func WithCaller(arn, account string) Option {
	return func(s *runSettings) error { s.account.callerARN, s.account.callerAccount = arn, account; return nil }
}

// WithExistingCluster makes an EKS cluster of that name exist before the run (a later pulumi up
// rather than the first).
func WithExistingCluster(name string) Option {
	return func(s *runSettings) error { s.account.clusters = append(s.account.clusters, name); return nil }
}

// WithAvailabilityZones sets the region's zones (names and IDs, in the same order). By default they
// are the stack's network.availabilityZones.
func WithAvailabilityZones(names, ids []string) Option {
	return func(s *runSettings) error { s.account.azNames, s.account.azIDs = names, ids; return nil }
}

// WithPreview runs the program as `pulumi preview` does (ctx.DryRun() is true).
func WithPreview() Option {
	return func(s *runSettings) error { s.preview = true; return nil }
}

// WithHostedZone gives the mock account a Route 53 hosted zone (id like Z0123456789ABC, name like
// openneuro.org).
func WithHostedZone(id, name string, private bool) Option {
	return func(s *runSettings) error {
		s.account.zones = append(s.account.zones, hostedZone{id: id, name: name, private: private})
		return nil
	}
}

// WithElasticIP gives the mock account's region an Elastic IP (allocation id eipalloc-..., its
// public address), allocated outside the stack.
func WithElasticIP(allocationID, publicIP string) Option {
	return func(s *runSettings) error { put(&s.account.elasticIPs, allocationID, publicIP); return nil }
}

// WithLiveNodeGroup makes the mocked EKS API report an existing node group (EKS name, e.g.
// cluster-default-abc1234) with its current desired, min and max size, as on a later pulumi up.
func WithLiveNodeGroup(name string, desired, minSize, maxSize int) Option {
	return func(s *runSettings) error {
		put(&s.account.nodeGroups, name, [3]int{desired, minSize, maxSize})
		return nil
	}
}

// WithClusterVersion makes an existing EKS cluster (WithExistingCluster) run a Kubernetes version.
func WithClusterVersion(name, version string) Option {
	return func(s *runSettings) error { put(&s.account.clusterVersions, name, version); return nil }
}

// WithLiveNodeGroupVersion gives a live node group (WithLiveNodeGroup) its Kubernetes version.
func WithLiveNodeGroupVersion(name, version string) Option {
	return func(s *runSettings) error { put(&s.account.nodeGroupVersions, name, version); return nil }
}

// put sets a key of a mock account's map, making the map on first use.
func put[V any](m *map[string]V, key string, value V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[key] = value
}

// WithValue sets one nested config value (stackconfig.WithValue).
func WithValue(path string, value any) Option { return withConfig(stackconfig.WithValue(path, value)) }

// WithoutValue removes a config value or secret (stackconfig.WithoutValue).
func WithoutValue(path string) Option { return withConfig(stackconfig.WithoutValue(path)) }

// WithSecret sets a secret config value (stackconfig.WithSecret).
func WithSecret(key, value string) Option { return withConfig(stackconfig.WithSecret(key, value)) }

// withConfig makes a config change an option of a run.
func withConfig(change stackconfig.Option) Option {
	return func(s *runSettings) error { return change(&s.Values) }
}

// WithProgram runs fn instead of the whole program (to test one layer with the stack's config).
func WithProgram(fn pulumi.RunFunc) Option {
	return func(s *runSettings) error { s.program = fn; return nil }
}

// RunStack evaluates the program for the named stack under mocks, with the stack's real config and
// placeholder secrets, and returns what it registered. The error is the program's (e.g. validation).
func RunStack(stack string, opts ...Option) (*Recorder, error) {
	values, err := stackconfig.Read(stack)
	if err != nil {
		return nil, err
	}
	s := &runSettings{Values: values, program: infra.Run}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	rec := newRecorder(stack, s.Config["aws:region"])
	rec.account = defaultAccount(s.account, s.Config)
	issueConfigured(s.Config)
	err = pulumi.RunErr(s.program,
		pulumi.WithMocks(stacks.Project, stack, rec),
		func(info *pulumi.RunInfo) {
			info.Config = s.Config
			info.ConfigSecretKeys = s.SecretKeys
			info.DryRun = s.preview
		})
	return rec, err
}

// Run is RunStack that fails the test on error.
func Run(t testing.TB, stack string, opts ...Option) *Recorder {
	t.Helper()
	rec, err := RunStack(stack, opts...)
	if err != nil {
		t.Fatalf("stack %s: %v", stack, err)
	}
	return rec
}

// RunPlatform runs the AWS platform layers for a stack exactly as the program wires them
// (preflight.Check, then infra.BuildAWS) and calls inspect inside the program, where a test can read the layers' Go
// handles and await their outputs. It fails the test on error.
func RunPlatform(t testing.TB, stack string, inspect func(ctx *pulumi.Context, aws *infra.AWS) error, opts ...Option) (*Recorder, *stacks.Config) {
	t.Helper()
	var cfg *stacks.Config
	program := WithProgram(func(ctx *pulumi.Context) error {
		var err error
		if cfg, err = stacks.Load(ctx); err != nil {
			return err
		}
		facts, err := preflight.Check(ctx, cfg)
		if err != nil {
			return err
		}
		aws, err := infra.BuildAWS(ctx, cfg, facts)
		if err != nil {
			return err
		}
		return inspect(ctx, aws)
	})
	return Run(t, stack, append(opts, program)...), cfg
}

// defaultAccount fills what a test did not set from the stack's config: the caller is a session of
// cluster.deployRoleArn, and the region's zones are the configured ones.
func defaultAccount(a mockAccount, config map[string]string) mockAccount {
	var cluster struct {
		DeployRoleARN string `json:"deployRoleArn"`
	}
	var network struct {
		Zones []string `json:"availabilityZones"`
	}
	_ = json.Unmarshal([]byte(config[stacks.Project+":cluster"]), &cluster)
	_ = json.Unmarshal([]byte(config[stacks.Project+":network"]), &network)
	if a.callerARN == "" {
		a.callerARN, a.callerAccount = "arn:aws:iam::"+AccountID+":user/ci", AccountID
		if arn := cluster.DeployRoleARN; arn != "" {
			account := strings.Split(arn, ":")[4]
			a.callerARN = "arn:aws:sts::" + account + ":assumed-role/" + arn[strings.LastIndex(arn, "/")+1:] + "/GitHubActions"
			a.callerAccount = account
		}
	}
	if a.azNames == nil {
		region := config["aws:region"]
		for i, z := range network.Zones {
			if stacks.IsZoneID(z) {
				a.azIDs = append(a.azIDs, z)
				a.azNames = append(a.azNames, region+string(rune('a'+i)))
			} else {
				a.azNames = append(a.azNames, z)
				a.azIDs = append(a.azIDs, fmt.Sprintf("mock-az%d", i+1))
			}
		}
		if len(network.Zones) == 0 && region != "" {
			for i, l := range []string{"a", "b", "c"} {
				a.azNames = append(a.azNames, region+l)
				a.azIDs = append(a.azIDs, fmt.Sprintf("mock-az%d", i+1))
			}
		}
	}
	return a
}

// RunProgram runs fn under the mocks as stack of another Pulumi project (e.g. the bootstrap
// project), with the given config (keys fully qualified, values JSON-encoded for objects).
func RunProgram(project, stack string, config map[string]string, fn pulumi.RunFunc) (*Recorder, error) {
	rec := newRecorder(stack, config["aws:region"])
	rec.project = project
	rec.account = defaultAccount(mockAccount{}, config)
	err := pulumi.RunErr(fn, pulumi.WithMocks(project, stack, rec), func(info *pulumi.RunInfo) { info.Config = config })
	return rec, err
}

// CurrentStack is the stack the tests render for the current generation (stackconfig.CurrentStack).
const CurrentStack = stackconfig.CurrentStack

// CurrentWorkerZone is the workers' zone of the current-generation test stack.
const CurrentWorkerZone = stackconfig.CurrentWorkerZone

// Current returns the options that turn CurrentStack into the current generation
// (stackconfig.Current), then opts.
func Current(opts ...Option) []Option {
	var out []Option
	for _, change := range stackconfig.Current() {
		out = append(out, withConfig(change))
	}
	return append(out, opts...)
}

// The program's runs here have no public DNS: preflight's delegation check of app.dns gets the
// answer of a resolver that cannot be reached, so it warns and goes on (infra/preflight's own
// test covers its answers).
func init() {
	preflight.LookupNS = func(name string) ([]*net.NS, error) {
		return nil, &net.DNSError{Err: "infratest: no DNS", Name: name}
	}
}
