// Package cluster reads what a PodSecurityPolicy migration needs from a
// live cluster: PSPs, RBAC, namespaces, service accounts and every kind
// that makes pods. It yields manifest.Documents exactly as the file reader
// does, so everything downstream (psp.FromDocuments,
// inventory.FromDocuments, plan.Build) works on a cluster unchanged, and a
// snapshot is those documents written as one List file.
//
// The reader only ever gets and lists, and never reads Secrets.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/psp2psa/psp2psa/manifest"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Defaults for Options.
const (
	DefaultConcurrency = 4
	DefaultPageSize    = 500
)

// ErrNamespaceNotFound is returned when Options.Namespace names a
// namespace the cluster does not have.
var ErrNamespaceNotFound = errors.New("namespace not found")

// ErrReadTimeout is the cause of a read that ran past Options.Timeout.
var ErrReadTimeout = errors.New("the read timeout passed")

// Options are the choices of one Read.
type Options struct {
	// Namespace restricts namespaced objects to one namespace; "" reads
	// all. Cluster-scoped objects (PSPs, ClusterRoles, ClusterRoleBindings)
	// are read either way, since they decide what the namespace may use.
	Namespace string
	// Concurrency bounds how many kinds are listed at once (default 4).
	Concurrency int
	// PageSize is the limit of one list request (default 500).
	PageSize int64
	// Progress, when set, receives a single updating status line (carriage
	// returns, no newline): give it a terminal only.
	Progress io.Writer
	// PoliciesOnly reads PodSecurityPolicies and nothing else.
	PoliciesOnly bool
	// Source is Source.File of every Document; default "cluster " and the
	// server URL.
	Source string
	// Timeout bounds the whole read; 0 is none. Each single request is
	// bounded by the rest.Config's Timeout.
	Timeout time.Duration
	// Retry is how requests that failed transiently are repeated.
	Retry Retry
	// AllowIncomplete makes a kind that still fails after the retries (or
	// that the Timeout cut short) an Incomplete entry instead of an
	// error, so that the rest is read.
	AllowIncomplete bool
}

// Result is what Read found.
type Result struct {
	// Documents are the objects, grouped by kind in a fixed order
	// (PSPs, RBAC, namespaces, service accounts, then workloads) and in
	// the server's order within a kind.
	Documents []manifest.Document
	// Warnings are for the user: resources the reader may not list (with
	// the server's message), PSP no longer being served, and the server's
	// own warnings.
	Warnings []string
	// Incomplete names what could not be read, and why, e.g.
	// "rbac.authorization.k8s.io/v1 rolebindings: forbidden" or
	// "apps/v1 deployments: page 2, after 6 attempts: ... (500 of 1204
	// read)". A plan made from an incomplete read must say so.
	Incomplete []string
	// ServerVersion is the apiserver's git version, e.g. "v1.24.17".
	ServerVersion string
	// Retries counts the requests sent again after a transient failure or
	// a page that failed the reader's checks; Restarts the lists begun
	// again from their first page after the server expired their
	// continue token.
	Retries, Restarts int
}

// Read lists every kind a migration plan needs from the cluster cfg
// points at. A resource the user may not list, or that the server does not
// serve, makes the result incomplete rather than failing, as does a page
// the server answers wrongly (a list cut short, objects of another kind).
// Transient failures are retried (opts.Retry); one that persists, an
// unreachable server or any other error fails the whole read, unless
// opts.AllowIncomplete makes it an Incomplete entry.
func Read(ctx context.Context, cfg *rest.Config, opts Options) (*Result, error) {
	cfg = rest.CopyConfig(cfg)
	serverWarnings := &warningCollector{}
	cfg.WarningHandler = serverWarnings
	if cfg.QPS == 0 {
		// client-go's default of 5 requests a second would make paging
		// through a large cluster needlessly slow.
		cfg.QPS, cfg.Burst = 50, 100
	}
	rc, err := restClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("building a client for %s: %w", cfg.Host, err)
	}
	if opts.Source == "" {
		opts.Source = "cluster " + cfg.Host
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, fmt.Errorf("%w (%s)", ErrReadTimeout, opts.Timeout))
		defer cancel()
	}
	res, err := read(ctx, rc, opts)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, serverWarnings.all()...)
	return res, nil
}

// restClient is one client for every request of a read, through which
// client-go repeats nothing by itself (see noRetries). It is set up as
// the dynamic client sets up its own.
func restClient(cfg *rest.Config) (rest.Interface, error) {
	cfg = dynamic.ConfigFor(cfg)
	cfg.GroupVersion = nil
	cfg.APIPath = "/" // every request gives its absolute path
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	rc, err := rest.UnversionedRESTClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	return noRetries{rc}, nil
}

func read(ctx context.Context, rc rest.Interface, opts Options) (*Result, error) {
	opts = withDefaults(opts)
	retry := &retrier{Retry: opts.Retry}
	info, err := serverVersion(ctx, rc, retry)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	retry.answered.Store(true)
	res := &Result{ServerVersion: info.GitVersion}
	kinds := resources
	if opts.PoliciesOnly {
		kinds = []resource{podSecurityPolicies}
	}
	required := len(kinds)
	if !opts.PoliciesOnly {
		optional, err := admissionPolicyKinds(ctx, rc, retry)
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		if err != nil {
			res.Warnings = append(res.Warnings, unreadPolicies(err.Error()))
		}
		kinds = append(kinds[:required:required], optional...)
	}
	l := lister{optionalFrom: required, dyn: dynamic.New(rc), opts: opts, retry: retry, restarts: &atomic.Int64{}}
	outcomes, err := listConcurrently(ctx, l, kinds)
	res.Retries, res.Restarts = int(retry.retries.Load()), int(l.restarts.Load())
	if err != nil {
		return nil, err
	}
	for i, o := range outcomes {
		switch {
		case i >= required:
			res.admissionPolicies(kinds[i], o, opts.Namespace)
		case o.notServed:
			res.notServed(kinds[i])
			continue
		case o.forbidden != nil:
			res.forbidden(kinds[i], o.version, opts.Namespace, o.forbidden)
		case o.missing != "":
			res.Incomplete = append(res.Incomplete, o.missing)
		}
		for _, d := range o.docs {
			d.Source = manifest.Source{File: opts.Source, Index: len(res.Documents)}
			res.Documents = append(res.Documents, d)
		}
	}
	return res, nil
}

// serverVersion asks the server for its version: the first contact, and
// the check that it is reachable at all.
func serverVersion(ctx context.Context, rc rest.Interface, retry *retrier) (*version.Info, error) {
	var info version.Info
	_, err := retry.do(ctx, func(ctx context.Context) error {
		raw, err := rc.Get().AbsPath("/version").Do(ctx).Raw()
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &info); err != nil {
			return fmt.Errorf("decoding the server's version: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &info, nil
}

func withDefaults(opts Options) Options {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	opts.Retry = opts.Retry.withDefaults()
	return opts
}

// notServed records a kind that no group/version of the server serves.
// For PSP that is the normal state of a 1.25+ cluster, and the user is told
// where the PSPs must come from instead.
func (r *Result) notServed(k resource) {
	if k.plural == podSecurityPolicies.plural {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"this cluster (%s) no longer serves PodSecurityPolicy; take a snapshot with psp2psa snapshot before upgrading, or plan from manifests / --from-snapshot FILE",
			r.ServerVersion))
		r.Incomplete = append(r.Incomplete, fmt.Sprintf("podsecuritypolicies: not served by this cluster (%s)", r.ServerVersion))
		return
	}
	r.Incomplete = append(r.Incomplete, fmt.Sprintf("%s: not served by this cluster (%s)", k.plural, r.ServerVersion))
}

// admissionPolicies records what reading an admission policy kind
// missed, as a warning: the plan does not rest on them.
func (r *Result) admissionPolicies(k resource, o outcome, namespace string) {
	switch {
	case o.forbidden != nil:
		r.Warnings = append(r.Warnings, unreadPolicies(fmt.Sprintf("%s %s%s: %v", o.version, k.plural, inNamespace(k, namespace), o.forbidden)))
	case o.missing != "":
		r.Warnings = append(r.Warnings, unreadPolicies(o.missing))
	}
}

// unreadPolicies is the warning about admission policies not read.
func unreadPolicies(what string) string {
	return "cannot read every admission policy (" + what + "): review does not count what those keep"
}

func inNamespace(k resource, namespace string) string {
	if k.namespaced && namespace != "" {
		return " in namespace " + namespace
	}
	return ""
}

func (r *Result) forbidden(k resource, version, namespace string, err error) {
	what := version + " " + k.plural + inNamespace(k, namespace)
	r.Incomplete = append(r.Incomplete, what+": forbidden")
	r.Warnings = append(r.Warnings, fmt.Sprintf("cannot read %s: %v", what, err))
}
