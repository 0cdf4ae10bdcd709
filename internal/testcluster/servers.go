package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// errPortInUse marks a start-up failure caused by losing a port race; Start
// retries those with new ports.
var errPortInUse = errors.New("port already in use")

const pollInterval = 100 * time.Millisecond

// freePorts reserves n distinct loopback ports by holding all listeners open
// at once, then releases them for the servers to bind.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("reserve loopback port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startEtcd runs a single-member etcd on loopback. fsync is off because the
// data lives only as long as the test run.
func (c *Cluster) startEtcd(ctx context.Context, bin string, clientPort, peerPort int) (string, error) {
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	args := []string{
		"--name=testcluster",
		"--data-dir=" + filepath.Join(c.dir, "etcd-data"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		// The initial cluster must name our peer URL, or etcd refuses to
		// start because the default (localhost:2380) does not match.
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=testcluster=" + peerURL,
		"--unsafe-no-fsync",
	}
	p, err := startProcess(c.dir, "etcd", bin, args)
	if err != nil {
		return "", err
	}
	c.etcd = p
	client := &http.Client{Timeout: 2 * time.Second}
	if err := waitReady(ctx, p, func(ctx context.Context) error {
		return getOK(ctx, client, clientURL+"/health", `"health":"true"`)
	}); err != nil {
		return "", err
	}
	return clientURL, nil
}

// startAPIServer runs kube-apiserver against etcdURL and waits for /readyz,
// which includes the RBAC bootstrap policy that the admin user relies on.
func (c *Cluster) startAPIServer(ctx context.Context) error {
	files, err := c.pki.write(c.dir)
	if err != nil {
		return err
	}
	c.host = fmt.Sprintf("https://127.0.0.1:%d", c.port)
	p, err := startProcess(c.dir, "kube-apiserver", c.apiServerBin, c.apiServerArgs(files, c.etcdURL, c.port))
	if err != nil {
		return err
	}
	c.server = p
	client, err := rest.HTTPClientFor(c.AdminConfig())
	if err != nil {
		return fmt.Errorf("build readiness client: %w", err)
	}
	client.Timeout = 2 * time.Second
	return waitReady(ctx, p, func(ctx context.Context) error {
		if err := getOK(ctx, client, c.host+"/readyz", ""); err != nil {
			return err
		}
		// The system namespaces are created by a loop that may lag
		// /readyz; a test reading the whole cluster twice must not see
		// "default" appear between the reads.
		for _, ns := range systemNamespaces {
			if err := getOK(ctx, client, c.host+"/api/v1/namespaces/"+ns, ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// systemNamespaces are the namespaces every apiserver creates itself.
var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

func (c *Cluster) apiServerArgs(f pkiFiles, etcdURL string, port int) []string {
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		// Without a cert dir the server would try /var/run/kubernetes.
		"--cert-dir=" + c.dir,
		"--tls-cert-file=" + f.ServingCert,
		"--tls-private-key-file=" + f.ServingKey,
		"--client-ca-file=" + f.CACert,
		"--service-account-key-file=" + f.SAPubKey,
		"--service-account-signing-key-file=" + f.SAKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		// Nothing maintains endpoints for the kubernetes Service here, and
		// the service range is only a config value: no traffic uses it.
		"--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		"--profiling=false",
	}
	// v1.29 and v1.37 keep their defaults: PodSecurity is on (GA since
	// 1.25), the PodSecurityPolicy API is gone, and ValidatingAdmissionPolicy
	// is beta and off on 1.29, GA and on from 1.30.
	if c.minor == "v1.24" {
		// PodSecurityPolicy is not on by default; it is the whole point of
		// a 1.24 cluster here.
		args = append(args, "--enable-admission-plugins=PodSecurityPolicy")
	}
	// Last, so that a test's flag overrides a default of the same name.
	return append(args, c.extraArgs...)
}

// waitReady polls check until it succeeds, the process exits or ctx ends,
// returning an error with the server's log tail in the latter two cases.
func waitReady(ctx context.Context, p *process, check func(context.Context) error) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	lastErr := errors.New("not polled yet")
	for {
		if lastErr = check(ctx); lastErr == nil {
			return nil
		}
		select {
		case <-p.done:
			err := p.failure("exited during start-up")
			if strings.Contains(p.logTail(), "address already in use") {
				return fmt.Errorf("%w: %w", errPortInUse, err)
			}
			return err
		case <-ctx.Done():
			return p.failure("not ready (%v); last check: %v", ctx.Err(), lastErr)
		case <-ticker.C:
		}
	}
}

// getOK succeeds when url answers 200 and, if want is set, the body contains
// it.
func getOK(ctx context.Context, client *http.Client, url, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	if want != "" && !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: unexpected body %q", url, body)
	}
	return nil
}
