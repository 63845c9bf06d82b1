// Command dev deploys the program onto a development cluster through the real Pulumi engine, with
// the local stack's settings (Pulumi.local.yaml) and development secrets, and takes it down again:
//
//	dev up sim       a simulated cluster on this machine (internal/sim), no cloud, no Docker (make sim),
//	                 with both generations: the local stack's settings (2020) as stack sim, and the
//	                 current generation (e2e/testdata/Pulumi.current.yaml) as stack sim-current
//	dev down sim     destroy those stacks, stop the cluster, delete its folder (make sim-down)
//	dev up local     the kind cluster that scripts/local-up.sh made (make local)
//	dev down local   destroy and remove the local stack (make local-down, before it deletes kind)
//	dev start|stop   start or stop the simulated cluster alone
//
// The stack's config file, with its encryption salt and secrets, is kept outside the repository:
// in $OPENNEURO_SIM_DIR (default ~/.cache/openneuro-infra/sim) for sim, with a file backend of its
// own, and in ~/.local/state/openneuro-infra/local for local, whose state goes to the backend you
// are logged into (pulumi login --local). The passphrase is PULUMI_CONFIG_PASSPHRASE(_FILE) when
// exported, otherwise one generated into that folder. `pulumi up` runs through the pulumi CLI when
// the Go language plugin is installed, as for any user of the CLI, otherwise through the Automation
// API with the program inline. The simulated cluster's tools come from $OPENNEURO_SIM_BIN, the
// folder `scripts/tools.sh sim` prints (the Makefile sets it).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optremove"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/openneuro/openneuro-infra/infra"
	"github.com/openneuro/openneuro-infra/internal/engine"
	"github.com/openneuro/openneuro-infra/internal/sim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

// run runs the command of os.Args; main exits only after its deferred calls ran.
func run() error {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd := os.Args[1]; cmd {
	case "up", "down":
		if len(os.Args) != 3 {
			usage()
		}
		var t *target
		if t, err = targetNamed(os.Args[2]); err == nil {
			if cmd == "up" {
				err = t.up(ctx)
			} else {
				err = t.down(ctx)
			}
		}
	case "start":
		var c *sim.Cluster
		if c, err = startSim(ctx); err == nil {
			fmt.Printf("export KUBECONFIG=%s\n", c.Kubeconfig)
		}
	case "stop":
		err = sim.Stop(simClusterDir())
	case "controllers": // the detached controllers process of the simulated cluster
		if len(os.Args) != 3 {
			usage()
		}
		err = controllers(ctx, os.Args[2])
	default:
		usage()
	}
	return err
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: dev up|down sim|local, dev start|stop")
	os.Exit(2)
}

// target is a development cluster and the stacks deployed onto it.
type target struct {
	stacks []devStack
	// dir holds the stack's config file, passphrase and (ownBackend) state.
	dir        string
	ownBackend bool
	// connect returns the cluster's kubeconfig overrides and a REST config to list its pods.
	connect func(ctx context.Context) (overrides map[string]any, cfg *rest.Config, err error)
	// afterDown runs once the stack is gone.
	afterDown func() error
	// running says whether the cluster is there to destroy from.
	running func() bool
	// hint is printed after a successful up.
	hint string
}

func targetNamed(name string) (*target, error) {
	switch name {
	case "sim":
		return &target{
			stacks: []devStack{{"sim", "Pulumi.local.yaml"}, {"sim-current", filepath.Join("e2e", "testdata", "Pulumi.current.yaml")}},
			dir:    filepath.Join(simDir(), "pulumi"), ownBackend: true,
			connect: func(ctx context.Context) (map[string]any, *rest.Config, error) {
				c, err := startSim(ctx)
				if err != nil {
					return nil, nil, err
				}
				return map[string]any{"openneuro:cluster": map[string]any{"kubeconfig": c.Kubeconfig, "context": sim.ContextName}}, c.Config, nil
			},
			running: func() bool { return sim.Running(simClusterDir()) },
			afterDown: func() error {
				if err := sim.Stop(simClusterDir()); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "dev: removing %s\n", simDir())
				return os.RemoveAll(simDir())
			},
			hint: `What this proves: every object of both stacks was accepted by a real API server, created
in order, scheduled onto the simulated nodes (3 default, 3 tainted storage nodes in 3 zones), awaited
by Pulumi until ready, and exported. No container runs: kwok marks the pods Running and Ready.

Look around:
  export KUBECONFIG=` + filepath.Join(simClusterDir(), "kubeconfig") + `
  kubectl get pods,pvc,ingress -A
Change Pulumi.local.yaml (namespace openneuro, generation 2020) or e2e/testdata/Pulumi.current.yaml
(namespace openneuro-current, the current generation) and run make sim again to see an update;
make sim-down removes everything.`,
		}, nil
	case "local":
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		state := os.Getenv("XDG_STATE_HOME")
		if state == "" {
			state = filepath.Join(home, ".local", "state")
		}
		return &target{
			stacks: []devStack{{"local", "Pulumi.local.yaml"}},
			dir:    filepath.Join(state, "openneuro-infra", "local"),
			connect: func(context.Context) (map[string]any, *rest.Config, error) {
				cfg, err := kindConfig()
				return nil, cfg, err
			},
			running:   kindRunning,
			afterDown: func() error { return os.RemoveAll(filepath.Join(state, "openneuro-infra", "local")) },
			hint: `OpenNeuro is at http://openneuro.localhost (flower: kubectl -n openneuro port-forward svc/openneuro-local-flower 5555).
make local-down destroys the stack and deletes the kind cluster.`,
		}, nil
	}
	return nil, fmt.Errorf("unknown target %q: use sim or local", name)
}

// devStack is a stack of a development cluster and the stack file (relative to the repository)
// its settings come from.
type devStack struct{ name, file string }

func (t *target) open(ctx context.Context, st devStack, overrides map[string]any) (*engine.Stack, error) {
	repo, err := repoRoot()
	if err != nil {
		return nil, err
	}
	return engine.Open(ctx, engine.Options{
		Dir: t.dir, Stack: st.name, OwnBackend: t.ownBackend,
		ProjectFile: filepath.Join(repo, "Pulumi.yaml"),
		StackFile:   filepath.Join(repo, st.file),
		Overrides:   overrides, Program: infra.Run,
	})
}

func (t *target) up(ctx context.Context) error {
	start := time.Now()
	overrides, cfg, err := t.connect(ctx)
	if err != nil {
		return err
	}
	for _, st := range t.stacks {
		s, err := t.open(ctx, st, overrides)
		if err != nil {
			return err
		}
		if ok, err := s.HasSecrets(); err != nil {
			return err
		} else if !ok {
			if err := loadDevSecrets(ctx, s); err != nil {
				return err
			}
		}
		if err := deploy(ctx, s); err != nil {
			return fmt.Errorf("stack %s (%s): %w", st.name, st.file, err)
		}
		if err := printOutputs(ctx, s); err != nil {
			return err
		}
	}
	if err := printPods(ctx, cfg); err != nil {
		return err
	}
	fmt.Printf("\nDone in %s. %s\n", time.Since(start).Round(time.Second), t.hint)
	return nil
}

// down destroys the target's stacks, last first, then runs afterDown.
func (t *target) down(ctx context.Context) error {
	running := t.running()
	var overrides map[string]any
	if running {
		var err error
		if overrides, _, err = t.connect(ctx); err != nil {
			return err
		}
	}
	for i := len(t.stacks) - 1; i >= 0; i-- {
		if err := t.downStack(ctx, t.stacks[i], running, overrides); err != nil {
			return err
		}
	}
	return t.afterDown()
}

func (t *target) downStack(ctx context.Context, st devStack, running bool, overrides map[string]any) error {
	if _, err := os.Stat(filepath.Join(t.dir, "work", "Pulumi."+st.name+".yaml")); err != nil {
		fmt.Fprintf(os.Stderr, "dev: no %s stack here (%s)\n", st.name, t.dir)
		return nil
	}
	if !running {
		// Its objects went with the cluster: forget the stack's state without destroying.
		fmt.Fprintf(os.Stderr, "dev: the cluster is not running; removing the %s stack without a destroy\n", st.name)
		s, err := t.open(ctx, st, nil)
		if err != nil {
			return err
		}
		return s.Workspace().RemoveStack(ctx, st.name, optremove.Force())
	}
	s, err := t.open(ctx, st, overrides)
	if err != nil {
		return err
	}
	if _, err := s.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout)); err != nil {
		return fmt.Errorf("destroy %s: %w (nothing else was removed; fix the cause and run it again)", st.name, err)
	}
	return s.Workspace().RemoveStack(ctx, st.name)
}

// kindContext is the context Pulumi.local.yaml pins; the provider reads the ambient kubeconfig.
const kindContext = "kind-openneuro"

func kindConfig() (*rest.Config, error) {
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(),
		&clientcmd.ConfigOverrides{CurrentContext: kindContext}).ClientConfig()
}

// kindRunning reports whether the kind cluster's API server answers.
func kindRunning() bool {
	cfg, err := kindConfig()
	if err != nil {
		return false
	}
	cfg.Timeout = 5 * time.Second
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return false
	}
	_, err = client.Discovery().ServerVersion()
	return err == nil
}

// deploy runs `pulumi up`: through the pulumi CLI when the Go language plugin is installed, as a
// user of the CLI would, else through the Automation API with the program inline.
func deploy(ctx context.Context, s *engine.Stack) error {
	if _, err := exec.LookPath("pulumi-language-go"); err == nil {
		repo, err := repoRoot()
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "dev: pulumi up (pulumi CLI, Go language plugin)")
		cmd := exec.CommandContext(ctx, "pulumi", "up", "--yes", "--stack", s.Name(), "--config-file", s.ConfigFile)
		cmd.Dir = repo
		cmd.Env = os.Environ()
		for k, v := range s.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}
	fmt.Fprintln(os.Stderr, "dev: pulumi up (Automation API, inline program: pulumi-language-go is not installed)")
	_, err := s.Up(ctx, optup.ProgressStreams(os.Stdout), optup.ErrorProgressStreams(os.Stderr))
	return err
}

// loadDevSecrets generates the development secrets (scripts/local-secrets.sh) and loads them the
// way make secrets does: one `pulumi config set --secret` per value, on standard input.
func loadDevSecrets(ctx context.Context, s *engine.Stack) error {
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, filepath.Join(repo, "scripts", "local-secrets.sh")).Output()
	if err != nil {
		return fmt.Errorf("scripts/local-secrets.sh: %w", err)
	}
	fmt.Fprintf(os.Stderr, "dev: development secrets generated (scripts/local-secrets.sh) into %s\n", s.ConfigFile)
	return s.LoadSecrets(ctx, out)
}

func printOutputs(ctx context.Context, s *engine.Stack) error {
	outputs, err := s.Outputs(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("\nStack %s outputs:\n", s.Name())
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := outputs[k]; v.Secret {
			fmt.Printf("  %-24s [secret]\n", k)
		} else {
			fmt.Printf("  %-24s %v\n", k, v.Value)
		}
	}
	return nil
}

func printPods(ctx context.Context, cfg *rest.Config) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		a, b := pods.Items[i], pods.Items[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	fmt.Println("\nPods:")
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	if _, err := fmt.Fprintln(w, "  NAMESPACE\tNAME\tREADY\tSTATUS\tNODE"); err != nil {
		return err
	}
	for _, p := range pods.Items {
		if _, err := fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", p.Namespace, p.Name, readyCount(p), p.Status.Phase, p.Spec.NodeName); err != nil {
			return err
		}
	}
	return w.Flush()
}

func readyCount(p corev1.Pod) string {
	ready := 0
	for _, s := range p.Status.ContainerStatuses {
		if s.Ready {
			ready++
		}
	}
	return fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers))
}

// --- the simulated cluster ----------------------------------------------------------------------------

func simDir() string {
	if d := os.Getenv("OPENNEURO_SIM_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "openneuro-sim")
	}
	return filepath.Join(home, ".cache", "openneuro-infra", "sim")
}

func simClusterDir() string { return filepath.Join(simDir(), "cluster") }

// simBin is the tools folder; it goes first on PATH, for the pulumi CLI and its plugins.
func simBin() (string, error) {
	dir := os.Getenv("OPENNEURO_SIM_BIN")
	if dir == "" {
		return "", errors.New("OPENNEURO_SIM_BIN is not set: run `make sim`, or export OPENNEURO_SIM_BIN=\"$(scripts/tools.sh sim)\"")
	}
	return dir, os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func startSim(ctx context.Context) (*sim.Cluster, error) {
	bin, err := simBin()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return sim.Start(ctx, sim.Options{
		Dir: simClusterDir(), BinDir: bin, Detach: true,
		ControllersCommand: []string{self, "controllers"},
		Log:                func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) },
	})
}

func controllers(ctx context.Context, kubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	log := funcr.New(func(prefix, args string) {
		fmt.Println(time.Now().Format(time.RFC3339), prefix, args)
	}, funcr.Options{})
	return sim.RunControllers(ctx, cfg, log)
}

// repoRoot is the repository this command runs from (the Makefile runs it at the top).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "Pulumi.yaml")); err == nil {
			return d, nil
		}
		if d == filepath.Dir(d) {
			return "", fmt.Errorf("no Pulumi.yaml in %s or above: run this from the repository", dir)
		}
	}
}
