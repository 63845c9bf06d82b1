// Package sim runs a simulated Kubernetes cluster on this machine from binaries alone: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler of the pinned Kubernetes version, kwok
// (fake nodes whose pods become Running and Ready without any container runtime), and the two
// controllers of ours that a kind cluster has and a bare control plane lacks: a volume provisioner
// for the default StorageClass and an Ingress status writer (see controllers.go).
//
// The nodes are those of an EKS stack: three of the default pool and three of the tainted
// edgefs-target storage pool, spread over three zones, each with the allocatable CPU and memory of
// its instance type. Every object the program creates is therefore admitted, scheduled, bound and
// garbage-collected by the real Kubernetes code; only the containers do not run.
//
// Start and Stop are used by the e2e tests (tier 4) and by cmd/sim (make sim, make sim-down). A
// second Start on the same folder reuses the running cluster.
package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ContextName is the kubeconfig context of the simulated cluster.
const ContextName = "openneuro-sim"

// serviceCIDR is the Service cluster IP range; serviceClusterIP is its first address, the
// kubernetes Service, which the serving certificate names.
const (
	serviceCIDR      = "10.96.0.0/16"
	serviceClusterIP = "10.96.0.1"
	podCIDR          = "10.244.0.0/16"
)

// Options configure a simulated cluster.
type Options struct {
	// Dir holds everything of the cluster: certificates, etcd data, logs, pids, the kubeconfig.
	Dir string
	// BinDir holds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and
	// kwok-stages.yaml (scripts/tools.sh sim prints it).
	BinDir string
	// Detach starts the processes in their own session, to outlive the caller (make sim). The
	// controllers then run as ControllersCommand; attached, they run inside the caller.
	Detach bool
	// ControllersCommand runs the controllers as a process of their own when Detach is set; the
	// kubeconfig path is appended as the last argument.
	ControllersCommand []string
	// Log receives progress lines. Default: nothing.
	Log func(format string, args ...any)
}

// Cluster is a running simulated cluster.
type Cluster struct {
	// Dir is the cluster's folder (Options.Dir).
	Dir string
	// Kubeconfig is the path of the admin kubeconfig, context ContextName.
	Kubeconfig string
	// Config is the admin REST config.
	Config *rest.Config
	// Reused says that Start found the cluster already running.
	Reused bool

	stopControllers context.CancelFunc
	controllersDone chan struct{}
}

// ports are chosen once per folder and kept, so that the kubeconfig stays valid across restarts.
type ports struct {
	Etcd, EtcdPeer, APIServer, ControllerManager, Scheduler, Kwok int
}

// components in start order; stop goes in reverse.
var components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "controllers"}

// Start starts the cluster in opts.Dir, or reuses it when it is running already, and returns when
// the API server is ready and every node is Ready.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.Close() }() // closing releases the lock

	pk := pkiIn(dir)
	if err := pk.ensure(); err != nil {
		return nil, fmt.Errorf("sim: certificates: %w", err)
	}
	pt, err := loadPorts(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Kubeconfig: filepath.Join(dir, "kubeconfig")}
	if err := writeKubeconfig(c.Kubeconfig, pt.APIServer, pk); err != nil {
		return nil, err
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return nil, err
	}
	c.Config.QPS, c.Config.Burst = 100, 200
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	if allRunning(dir, opts.Detach) && apiReady(ctx, client) == nil {
		c.Reused = true
		opts.Log("sim: reusing the running cluster in %s", dir)
	} else {
		// Whatever is left of an earlier run (a crashed component, a reboot) is stopped first; the
		// etcd data, and with it every object, is kept.
		for i := len(components) - 1; i >= 0; i-- {
			if err := (process{components[i], dir}).stop(10 * time.Second); err != nil {
				return nil, err
			}
		}
		if err := startControlPlane(ctx, opts, dir, pt, pk, client); err != nil {
			return nil, err
		}
	}
	if err := ensureClusterObjects(ctx, client); err != nil {
		return nil, err
	}
	if err := c.startControllers(ctx, opts); err != nil {
		return nil, err
	}
	if err := waitNodesReady(ctx, client, 2*time.Minute); err != nil {
		return nil, fmt.Errorf("%w\nkwok log:\n%s", err, process{"kwok", dir}.tail(20))
	}
	if !c.Reused {
		opts.Log("sim: cluster ready in %s (%s)", time.Since(start).Round(100*time.Millisecond), dir)
	}
	return c, nil
}

// Stop stops the processes of the cluster in c.Dir (and the controllers of this process). The
// folder, and with it every object, stays for the next Start.
func (c *Cluster) Stop() error {
	if c.stopControllers != nil {
		c.stopControllers()
		<-c.controllersDone
	}
	return Stop(c.Dir)
}

// Stop stops every process of the cluster in dir, whoever started it.
func Stop(dir string) error {
	var errs []error
	for i := len(components) - 1; i >= 0; i-- {
		errs = append(errs, process{components[i], dir}.stop(15*time.Second))
	}
	return errors.Join(errs...)
}

// Running reports whether the cluster in dir has its API server process running.
func Running(dir string) bool { return process{"kube-apiserver", dir}.running() }

func allRunning(dir string, detach bool) bool {
	for _, name := range components {
		if name == "controllers" && !detach {
			continue // attached controllers run inside the caller: started below
		}
		if !(process{name, dir}).running() {
			return false
		}
	}
	return true
}

func startControlPlane(ctx context.Context, opts Options, dir string, pt ports, pk *pki, client kubernetes.Interface) error {
	bin := func(name string) string { return filepath.Join(opts.BinDir, name) }
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kwok-stages.yaml"} {
		if _, err := os.Stat(bin(name)); err != nil {
			return fmt.Errorf("sim: %s is missing in %s; run `scripts/tools.sh sim`, which builds it", name, opts.BinDir)
		}
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(pt.Etcd)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(pt.EtcdPeer)
	argv := map[string][]string{
		"etcd": {bin("etcd"), "--name=sim", "--data-dir=" + filepath.Join(dir, "etcd"),
			"--listen-client-urls=" + etcdURL, "--advertise-client-urls=" + etcdURL,
			"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=sim=" + peerURL,
			// A simulation: durability is not worth a disk flush per write.
			"--unsafe-no-fsync=true", "--log-level=warn"},
		"kube-apiserver": {bin("kube-apiserver"), "--etcd-servers=" + etcdURL,
			"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(pt.APIServer),
			"--tls-cert-file=" + pk.servingCert, "--tls-private-key-file=" + pk.servKey, "--client-ca-file=" + pk.caCert,
			"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file=" + pk.saPub,
			"--service-account-signing-key-file=" + pk.saKey, "--service-cluster-ip-range=" + serviceCIDR,
			"--authorization-mode=Node,RBAC", "--allow-privileged=true", "--v=1"},
		"kube-controller-manager": {bin("kube-controller-manager"), "--kubeconfig=" + kubeconfig,
			"--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig,
			"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(pt.ControllerManager),
			"--service-account-private-key-file=" + pk.saKey, "--root-ca-file=" + pk.caCert,
			"--cluster-signing-cert-file=" + pk.caCert, "--cluster-signing-key-file=" + pk.caKey,
			"--service-cluster-ip-range=" + serviceCIDR, "--controllers=*", "--v=1",
			// Node heartbeats come from kwok's leases (below). A busy machine can still starve kwok
			// for longer than the default 50 s, and then the node lifecycle controller marks every
			// pod NotReady, which no kwok stage ever reverses: allow two minutes.
			"--node-monitor-grace-period=2m"},
		"kube-scheduler": {bin("kube-scheduler"), "--kubeconfig=" + kubeconfig,
			"--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig,
			"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(pt.Scheduler), "--v=1"},
		"kwok": {bin("kwok"), "--kubeconfig=" + kubeconfig, "--config=" + bin("kwok-stages.yaml"),
			"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
			"--cidr=" + podCIDR, "--node-ip=10.0.0.1",
			// Renew each node's Lease, as a kubelet does: the node-heartbeat-with-lease stage only
			// refreshes the node's status every ten minutes, and without a Lease the node lifecycle
			// controller took the nodes for dead within a minute (measured: "all Nodes are
			// not-Ready", every pod marked NotReady and left so).
			"--node-lease-duration-seconds=40",
			"--server-address=127.0.0.1:" + strconv.Itoa(pt.Kwok)},
	}
	for _, name := range components[:len(components)-1] {
		p := process{name, dir}
		if err := p.start(argv[name], opts.Detach); err != nil {
			return err
		}
		var err error
		switch name {
		case "etcd":
			err = waitHTTP(ctx, etcdURL+"/health", 30*time.Second)
		case "kube-apiserver":
			err = waitFor(ctx, 2*time.Minute, func() error { return apiReady(ctx, client) })
		}
		if err != nil {
			return fmt.Errorf("sim: %s did not become ready: %w\n%s log:\n%s", name, err, name, p.tail(20))
		}
		opts.Log("sim: %s started", name)
	}
	return nil
}

func apiReady(ctx context.Context, client kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("%w: %s", err, body)
	}
	return nil
}

func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	return waitFor(ctx, timeout, func() error {
		resp, err := http.Get(url) //nolint:gosec,noctx // loopback health check of our own etcd
		if err != nil {
			return err
		}
		_ = resp.Body.Close() // only the status is read
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	})
}

// waitFor polls check until it succeeds or the timeout passes, and returns its last error.
func waitFor(ctx context.Context, timeout time.Duration, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w", timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func loadPorts(dir string) (ports, error) {
	path := filepath.Join(dir, "ports.json")
	var pt ports
	if data, err := os.ReadFile(path); err == nil {
		return pt, json.Unmarshal(data, &pt)
	}
	free := make([]int, 6)
	for i := range free {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return pt, err
		}
		defer func() { _ = l.Close() }() // held until all six ports are picked, so none repeats
		free[i] = l.Addr().(*net.TCPAddr).Port
	}
	pt = ports{free[0], free[1], free[2], free[3], free[4], free[5]}
	data, err := json.Marshal(pt)
	if err != nil {
		return pt, err
	}
	return pt, os.WriteFile(path, data, 0o644)
}

func writeKubeconfig(path string, port int, pk *pki) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[ContextName] = &clientcmdapi.Cluster{
		Server: "https://127.0.0.1:" + strconv.Itoa(port), CertificateAuthorityData: pk.caPEM,
	}
	cfg.AuthInfos[ContextName] = &clientcmdapi.AuthInfo{ClientCertificateData: pk.adminPEM, ClientKeyData: pk.akPEM}
	cfg.Contexts[ContextName] = &clientcmdapi.Context{Cluster: ContextName, AuthInfo: ContextName}
	cfg.CurrentContext = ContextName
	return clientcmd.WriteToFile(*cfg, path)
}

// lockDir serialises Start calls on one folder (two terminals running make sim).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close() // the Flock error is the one to report
		return nil, err
	}
	return f, nil
}
