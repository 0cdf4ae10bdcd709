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
	"errors"
	"fmt"
	"io"

	"github.com/psp2psa/psp2psa/manifest"
	"k8s.io/client-go/discovery"
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
	// Incomplete names what could not be read, e.g.
	// "rbac.authorization.k8s.io/v1 rolebindings: forbidden". A plan made
	// from an incomplete read must say so.
	Incomplete []string
	// ServerVersion is the apiserver's git version, e.g. "v1.24.17".
	ServerVersion string
}

// Read lists every kind a migration plan needs from the cluster cfg
// points at. A resource the user may not list, or that the server does not
// serve, makes the result incomplete rather than failing; an unreachable
// server or any other error fails the whole read.
func Read(ctx context.Context, cfg *rest.Config, opts Options) (*Result, error) {
	cfg = rest.CopyConfig(cfg)
	serverWarnings := &warningCollector{}
	cfg.WarningHandler = serverWarnings
	if cfg.QPS == 0 {
		// client-go's default of 5 requests a second would make paging
		// through a large cluster needlessly slow.
		cfg.QPS, cfg.Burst = 50, 100
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building a client for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building a client for %s: %w", cfg.Host, err)
	}
	if opts.Source == "" {
		opts.Source = "cluster " + cfg.Host
	}
	res, err := read(ctx, clients{version: disco, dynamic: dyn}, opts)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, serverWarnings.all()...)
	return res, nil
}

// clients are what read talks to; tests pass fakes.
type clients struct {
	version discovery.ServerVersionInterface
	dynamic dynamic.Interface
}

func read(ctx context.Context, c clients, opts Options) (*Result, error) {
	opts = withDefaults(opts)
	info, err := c.version.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	res := &Result{ServerVersion: info.GitVersion}
	kinds := resources
	if opts.PoliciesOnly {
		kinds = []resource{podSecurityPolicies}
	}
	outcomes, err := listConcurrently(ctx, c.dynamic, kinds, opts)
	if err != nil {
		return nil, err
	}
	for i, o := range outcomes {
		if o.notServed {
			res.notServed(kinds[i])
			continue
		}
		if o.forbidden != nil {
			res.forbidden(kinds[i], o.version, opts.Namespace, o.forbidden)
			continue
		}
		for _, d := range o.docs {
			d.Source = manifest.Source{File: opts.Source, Index: len(res.Documents)}
			res.Documents = append(res.Documents, d)
		}
	}
	return res, nil
}

func withDefaults(opts Options) Options {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
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

func (r *Result) forbidden(k resource, version, namespace string, err error) {
	what := version + " " + k.plural
	if k.namespaced && namespace != "" {
		what += " in namespace " + namespace
	}
	r.Incomplete = append(r.Incomplete, what+": forbidden")
	r.Warnings = append(r.Warnings, fmt.Sprintf("cannot read %s: %v", what, err))
}
