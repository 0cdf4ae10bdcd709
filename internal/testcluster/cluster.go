// Package testcluster starts real etcd and kube-apiserver processes on
// loopback for end-to-end tests. The binaries come from
// hack/testservers/build.sh; no controller-manager or kubelet runs, so
// controllers never act: tests create ServiceAccounts themselves and
// Deployments never get pods.
package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// defaultStartTimeout bounds start-up when ctx has no deadline. A warm start
// takes a few seconds; the margin covers a loaded CI machine.
const defaultStartTimeout = 2 * time.Minute

// startAttempts covers the small window in which another process can take a
// port between freePorts releasing it and the server binding it.
const startAttempts = 3

// Cluster is one running etcd plus kube-apiserver.
type Cluster struct {
	minor, version string
	dir            string
	host           string
	pki            *pki
	kubeconfig     string
	etcd, server   *process
	// What starting kube-apiserver again needs.
	apiServerBin, etcdURL string
	port                  int
	// extraArgs are the apiserver flags Options add, after the defaults.
	extraArgs []string
	stopOnce  sync.Once
}

// Start launches etcd and kube-apiserver for version (see Versions) on
// free loopback ports and returns once /readyz succeeds. The caller must call
// Stop.
func Start(ctx context.Context, version string) (*Cluster, error) {
	return StartWith(ctx, version, Options{})
}

// StartWith is Start with apiserver flags and files added by opts.
func StartWith(ctx context.Context, version string, opts Options) (*Cluster, error) {
	bins, err := findBinaries(version)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	for attempt := 1; ; attempt++ {
		c, err := startOnce(ctx, version, bins, opts)
		if err == nil {
			return c, nil
		}
		if attempt == startAttempts || !errors.Is(err, errPortInUse) || ctx.Err() != nil {
			return nil, fmt.Errorf("start %s test cluster: %w", version, err)
		}
	}
}

// startOnce makes one attempt with fresh ports and a fresh directory; on
// failure it leaves nothing running or on disk.
func startOnce(ctx context.Context, version string, bins binaries, opts Options) (_ *Cluster, err error) {
	minor, exact, err := resolveVersion(version)
	if err != nil {
		return nil, err
	}
	// c is not the named result: "return nil, err" must not clear it before
	// the deferred clean-up runs.
	c := &Cluster{minor: minor, version: exact}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if c.dir, err = os.MkdirTemp("", "psp2psa-testcluster-"+minor+"-"); err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	if c.extraArgs, err = opts.apply(c.dir); err != nil {
		return nil, err
	}
	if c.pki, err = newPKI(); err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL, err := c.startEtcd(ctx, bins.Etcd, ports[0], ports[1])
	if err != nil {
		return nil, err
	}
	c.apiServerBin, c.etcdURL, c.port = bins.APIServer, etcdURL, ports[2]
	if err := c.startAPIServer(ctx); err != nil {
		return nil, err
	}
	if c.kubeconfig, err = c.writeKubeconfig(); err != nil {
		return nil, err
	}
	return c, nil
}

// Stop kills both servers (whole process groups) and removes the temporary
// directory with the etcd data, certificates, kubeconfig and logs. It is safe
// to call more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		// The apiserver goes first so it does not log a burst of etcd errors.
		c.server.stop()
		c.etcd.stop()
		if c.dir != "" {
			_ = os.RemoveAll(c.dir)
		}
	})
}

// KillAPIServer kills kube-apiserver at once (SIGKILL: no graceful
// shutdown, connections simply drop), leaving etcd and its data running,
// as an apiserver crash or a node going away would.
func (c *Cluster) KillAPIServer() {
	c.server.kill()
}

// StartAPIServer starts kube-apiserver again after KillAPIServer, on the
// same port with the same flags, and returns once it is ready.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	if !c.server.exited() {
		return errors.New("kube-apiserver is still running")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	if err := c.startAPIServer(ctx); err != nil {
		return fmt.Errorf("restart %s test cluster: %w", c.version, err)
	}
	return nil
}

// Version is the exact kube-apiserver release, e.g. "v1.24.17".
func (c *Cluster) Version() string { return c.version }

// Minor is the version as passed to Start's callers, e.g. "v1.24".
func (c *Cluster) Minor() string { return c.minor }

// Host is the apiserver URL, e.g. "https://127.0.0.1:41234".
func (c *Cluster) Host() string { return c.host }

// KubeconfigPath names a kubeconfig with contexts "admin" (current) and
// "limited"; it is removed by Stop.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// LogDir holds etcd.log and kube-apiserver.log until Stop.
func (c *Cluster) LogDir() string { return c.dir }

// AdminConfig returns a new client config for a member of system:masters.
func (c *Cluster) AdminConfig() *rest.Config { return c.restConfig(c.pki.Admin) }

// LimitedConfig returns a new client config for user psp2psa-limited in group
// psp2psa:limited, which has no RBAC bindings beyond system:authenticated.
func (c *Cluster) LimitedConfig() *rest.Config { return c.restConfig(c.pki.Limited) }

func (c *Cluster) restConfig(user keyPair) *rest.Config {
	return &rest.Config{
		Host: c.host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   c.pki.CA.CertPEM,
			CertData: user.CertPEM,
			KeyData:  user.KeyPEM,
		},
		// Tests create objects in bursts; the client default of 5 QPS only
		// slows them down against a private server.
		QPS:   100,
		Burst: 200,
	}
}
