package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/nslabels"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/report"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// applyLabelsCmd always talks to a cluster, so unlike plan's cluster flags
// its --kubeconfig and --context apply with manifest paths too: the paths
// are what is planned, the cluster is what is labelled.
type applyLabelsCmd struct {
	planFlags
	snapshotFlag
	Paths          []string `arg:"" optional:"" name:"path" help:"Manifests to plan from, as for plan. None: plan from the live cluster being labelled."`
	Kubeconfig     string   `help:"Kubeconfig of the cluster to label, and to plan from when no path is given (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster config)." type:"path"`
	Context        string   `help:"Kubeconfig context to use (default: its current context)."`
	AllNamespaces  bool     `short:"A" name:"all-namespaces" help:"Planning from the cluster: read every namespace; the default unless -n names one."`
	Apply          bool     `help:"Patch the namespaces. Without it only a server-side dry run is made and the cluster is not changed."`
	FailOnWarnings bool     `name:"fail-on-warnings" help:"Exit 3 when a dry run returns warnings (existing pods the new enforce level would reject); with --apply, then apply nothing."`
	readFlags
}

func (c *applyLabelsCmd) Run(g *Globals) error {
	opts, err := c.options(g)
	if err != nil {
		return err
	}
	in, err := c.inputs(g)
	if err != nil {
		return err
	}
	if len(in.problems) > 0 {
		// A plan over bad input may put the wrong level on a namespace.
		return in.finish(g)
	}
	// Plan for the version the input or the flag names first: an
	// incomplete plan is refused before any cluster is contacted.
	if opts.Target, opts.Version, err = g.versions(in.serverVersion, in.versionFrom); err != nil {
		return err
	}
	p := plan.Build(in.plan, opts)
	incomplete := incompleteMessages(p)
	if c.Apply && len(incomplete) > 0 {
		// The plan's own record of what it lacks, wherever the input came
		// from: the cluster, a snapshot by any path, or manifests.
		printProblems(g, nil, in.warnings)
		return usageError(fmt.Errorf("the plan is incomplete, so --apply is refused (plan from input that holds what is missing): %s", strings.Join(incomplete, "; ")))
	}
	cfg, name, err := c.restConfig()
	if err != nil {
		return err
	}
	if in.serverVersion == "" && g.ServerVersion == "" {
		// Manifests say nothing of the cluster: the labels are for the
		// cluster being labelled, so the plan is made for its version.
		detected, err := serverVersionOf(cfg)
		if err != nil {
			return fmt.Errorf("reading the version of the cluster %s: %w", name, err)
		}
		planned := opts
		if opts.Target, opts.Version, err = g.versions(detected, apiserver.FromCluster); err != nil {
			return err
		}
		if opts.Target.Version != planned.Target.Version || opts.Version != planned.Version {
			p = plan.Build(in.plan, opts)
		} else {
			p.Target = opts.Target // the same plan; only where its version came from differs
		}
	}
	labeler, err := nslabels.NewLabeler(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	targets, skipped := nslabels.Targets(p)
	r := labeler.Run(ctx, targets, nslabels.Options{Overwrite: c.Overwrite, Apply: c.Apply, HoldOnWarnings: c.FailOnWarnings})
	r.Cluster, r.Skipped, r.Incomplete = name, skipped, incomplete
	if err := g.report(func(w io.Writer) error { return report.Labels(w, g.format(), r) }); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := in.finish(g); err != nil {
		return err
	}
	return labelsOutcome(r, c.FailOnWarnings)
}

// inputs reads the manifests (or a snapshot), or else the cluster that is
// to be labelled.
func (c *applyLabelsCmd) inputs(g *Globals) (*inputs, error) {
	paths := c.paths(c.Paths)
	if len(paths) > 0 {
		if c.AllNamespaces {
			return nil, usageError(errors.New("-A reads every namespace of the cluster; with manifest paths the namespaces they plan are labelled"))
		}
		return readInputs(g, paths, c.Namespace), nil
	}
	return clusterInputs(g, &clusterFlags{Kubeconfig: c.Kubeconfig, Context: c.Context, AllNamespaces: c.AllNamespaces, readFlags: c.readFlags}, c.Namespace)
}

func incompleteMessages(p *plan.Plan) []string {
	out := make([]string, 0, len(p.Incomplete))
	for _, m := range p.Incomplete {
		out = append(out, m.Message)
	}
	return out
}

// labelsOutcome turns the report into the exit code: a failed namespace
// outranks warnings.
func labelsOutcome(r *nslabels.Report, failOnWarnings bool) error {
	if n := r.Count(nslabels.Failed); n > 0 {
		return fmt.Errorf("%d namespace(s) failed, listed above", n)
	}
	if n := r.WithWarnings(); failOnWarnings && n > 0 {
		return &codedError{code: exitWarnings, err: fmt.Errorf("dry runs of %d namespace(s) returned warnings (--fail-on-warnings)", n)}
	}
	return nil
}

// restConfig is the cluster to label, named after its context; its
// requests are bounded by --request-timeout as the read's are.
func (c *applyLabelsCmd) restConfig() (*rest.Config, string, error) {
	cfg, name, err := loadRESTConfig(c.Kubeconfig, c.Context, "no cluster to label")
	if err != nil {
		return nil, "", err
	}
	return cfg, name, c.withRequestTimeout(cfg)
}

// serverVersion asks the cluster for its version (GET /version).
func serverVersionOf(cfg *rest.Config) (string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return "", err
	}
	info, err := dc.ServerVersion()
	if err != nil {
		return "", err
	}
	return info.GitVersion, nil
}
