package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/cluster"
	"github.com/psp2psa/psp2psa/manifest"
	"golang.org/x/term"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/transport"
)

// clusterFlags choose the cluster a command reads when it is given no
// manifest paths. Loading follows kubectl: --kubeconfig, else $KUBECONFIG,
// else ~/.kube/config, else the in-cluster config of a pod.
type clusterFlags struct {
	Kubeconfig    string `help:"Kubeconfig of the cluster to read when no path is given (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster config)." type:"path"`
	Context       string `help:"Kubeconfig context to use (default: its current context)."`
	AllNamespaces bool   `short:"A" name:"all-namespaces" help:"Read every namespace of the cluster; the default unless -n names one."`
	readFlags
}

// readFlags bound a read of the live cluster, and say what to do with
// what cannot be read.
type readFlags struct {
	RequestTimeout  string        `name:"request-timeout" default:"60s" help:"How long one request to the cluster may take before it is retried, as kubectl's flag: a duration (30s, 1m) or whole seconds; 0 waits forever. The default, 60s, is the apiserver's own limit and ample for a 500-object page."`
	ReadTimeout     time.Duration `name:"read-timeout" default:"0" help:"Give up reading the cluster after this long in all (e.g. 10m); 0: no limit."`
	AllowIncomplete bool          `name:"allow-incomplete" help:"When a kind still fails after the retries (or --read-timeout ends the read), leave it out and mark the result incomplete, as for a kind you may not list, instead of failing."`
}

// readRetry is how every cluster read retries; tests shorten the waits.
var readRetry cluster.Retry

// wrapTransport, when set, wraps the transport of every cluster read:
// tests count the requests.
var wrapTransport transport.WrapperFunc

// requestTimeout parses --request-timeout as kubectl does.
func (f *readFlags) requestTimeout() (time.Duration, error) {
	d, err := clientcmd.ParseTimeout(f.RequestTimeout)
	if err == nil && d < 0 {
		err = errors.New("it must not be negative")
	}
	if err != nil {
		return 0, usageError(fmt.Errorf("--request-timeout %q: %w", f.RequestTimeout, err))
	}
	return d, nil
}

// readOptions are the cluster.Options the flags set.
func (f *readFlags) readOptions() (cluster.Options, error) {
	if f.ReadTimeout < 0 {
		return cluster.Options{}, usageError(fmt.Errorf("--read-timeout %s: it must not be negative", f.ReadTimeout))
	}
	return cluster.Options{Timeout: f.ReadTimeout, AllowIncomplete: f.AllowIncomplete, Retry: readRetry}, nil
}

// withRequestTimeout sets cfg's per-request timeout from the flag.
func (f *readFlags) withRequestTimeout(cfg *rest.Config) error {
	d, err := f.requestTimeout()
	if err != nil {
		return err
	}
	cfg.Timeout = d
	return nil
}

// snapshotFlag names a snapshot file: the same as giving it as a path, but
// says what it is.
type snapshotFlag struct {
	FromSnapshot string `name:"from-snapshot" placeholder:"FILE" help:"Read a file written by psp2psa snapshot instead of the live cluster (as if given as a path, but plan shows no diffs of it)." type:"path"`
}

// paths adds the snapshot to the positional paths.
func (s *snapshotFlag) paths(args []string) []string {
	if s.FromSnapshot == "" {
		return args
	}
	return append(append([]string{}, args...), s.FromSnapshot)
}

// forPaths rejects cluster flags when the input is files: silently
// planning from files while the user named a cluster would mislead.
func (f *clusterFlags) forPaths() error {
	if f.Kubeconfig != "" || f.Context != "" || f.AllNamespaces {
		return usageError(errors.New("--kubeconfig, --context and -A choose a cluster to read; they do not apply when manifest paths (or --from-snapshot) are given"))
	}
	return nil
}

// clusterRead is one read of the live cluster.
type clusterRead struct {
	*cluster.Result
	// name is the context (or, in a pod, the server) the read came from.
	name      string
	namespace string
}

// read reads the cluster; namespace "" is all of them. A cluster that
// cannot be reached is exit 1; flags that contradict each other, a
// kubeconfig that does not load and a namespace that does not exist are
// exit 2.
func (f *clusterFlags) read(g *Globals, namespace string, policiesOnly bool) (*clusterRead, error) {
	if f.AllNamespaces && namespace != "" {
		return nil, usageError(errors.New("-A/--all-namespaces and -n/--namespace exclude each other"))
	}
	opts, err := f.readOptions()
	if err != nil {
		return nil, err
	}
	cfg, name, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts.Namespace, opts.PoliciesOnly = namespace, policiesOnly
	opts.Progress, opts.Source = progressWriter(g.stderr), "cluster "+name
	res, err := cluster.Read(ctx, cfg, opts)
	if errors.Is(err, cluster.ErrNamespaceNotFound) {
		return nil, usageError(err)
	}
	var kindErr *cluster.KindError
	if errors.As(err, &kindErr) {
		return nil, fmt.Errorf("reading the cluster %s: %w (--allow-incomplete reads the rest and marks the result incomplete)", name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the cluster %s: %w", name, err)
	}
	return &clusterRead{Result: res, name: name, namespace: namespace}, nil
}

// restConfig loads the client configuration as kubectl does, and names
// the cluster after the context used (the server, for in-cluster config).
func (f *clusterFlags) restConfig() (*rest.Config, string, error) {
	cfg, name, err := loadRESTConfig(f.Kubeconfig, f.Context, "no cluster to read (give manifest paths or --from-snapshot FILE to work without one)")
	if err != nil {
		return nil, "", err
	}
	if wrapTransport != nil {
		cfg.Wrap(wrapTransport)
	}
	return cfg, name, f.withRequestTimeout(cfg)
}

// loadRESTConfig follows kubectl: the explicit kubeconfig, else
// $KUBECONFIG, else ~/.kube/config, else the in-cluster config; the context
// given, else the current one. The name is the context (the server for an
// in-cluster config), for reports. what prefixes a loading error.
func loadRESTConfig(kubeconfig, context, what string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", usageError(fmt.Errorf("%s: %w", what, err))
	}
	name := context
	if name == "" {
		if raw, err := loader.RawConfig(); err == nil {
			name = raw.CurrentContext
		}
	}
	if name == "" {
		name = cfg.Host
	}
	return cfg, name, nil
}

// progressWriter is stderr when it is a terminal: a status line that
// rewrites itself would only litter a log file or a pipe.
func progressWriter(stderr io.Writer) io.Writer {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}

// clusterInputs reads the cluster into the same inputs the paths give.
func clusterInputs(g *Globals, f *clusterFlags, namespace string) (*inputs, error) {
	r, err := f.read(g, namespace, false)
	if err != nil {
		return nil, err
	}
	in := inputsOf(r.Documents, nil, "")
	// What the read missed goes where a snapshot's record of it goes, so
	// that a plan from the cluster and one from its snapshot are one.
	inv := in.plan.Inventory
	inv.Incomplete = append(inv.Incomplete, r.Incomplete...)
	in.serverVersion, in.versionFrom = r.ServerVersion, apiserver.FromCluster
	for _, w := range r.Warnings {
		in.warnings = append(in.warnings, errors.New(w))
	}
	return in, nil
}

// loadInputs reads the paths, or the live cluster when there are none.
func loadInputs(g *Globals, paths []string, namespace string, f *clusterFlags) (*inputs, error) {
	if len(paths) == 0 {
		return clusterInputs(g, f, namespace)
	}
	if err := f.forPaths(); err != nil {
		return nil, err
	}
	return readInputs(g, paths, namespace), nil
}

// read reads convert's PSPs: from the paths, or from the live cluster
// when there are none (then read is not nil).
func (c *convertCmd) read(g *Globals) (docs []manifest.Document, readErrs []error, read *clusterRead, err error) {
	paths := c.paths(c.Paths)
	if len(paths) > 0 {
		if err := c.forPaths(); err != nil {
			return nil, nil, nil, err
		}
		docs, readErrs = manifest.Read(paths, g.stdin)
		return docs, readErrs, nil, nil
	}
	read, err = c.clusterFlags.read(g, "", true)
	if err != nil {
		return nil, nil, nil, err
	}
	return read.Documents, nil, read, nil
}

// printClusterRead says on stderr what a cluster read could not see, for
// reports that have no place for it.
func printClusterRead(g *Globals, read *clusterRead) {
	if read == nil {
		return
	}
	for _, m := range read.Incomplete {
		fmt.Fprintf(g.stderr, "incomplete: %s\n", m)
	}
	for _, m := range read.Warnings {
		fmt.Fprintf(g.stderr, "warning: %s\n", m)
	}
}
