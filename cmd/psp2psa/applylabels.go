package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/psp2psa/psp2psa/nslabels"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/report"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

type applyLabelsCmd struct {
	planFlags
	Paths          []string `arg:"" optional:"" name:"path" help:"Manifests to plan from, as for plan: PSPs, RBAC, namespaces, service accounts and workloads."`
	Kubeconfig     string   `help:"Kubeconfig of the cluster to label (default: $KUBECONFIG, then ~/.kube/config)." type:"path"`
	Context        string   `help:"Kubeconfig context to use (default: its current context)."`
	Apply          bool     `help:"Patch the namespaces. Without it only a server-side dry run is made and the cluster is not changed."`
	FailOnWarnings bool     `name:"fail-on-warnings" help:"Exit 3 when a dry run returns warnings (existing pods the new enforce level would reject); with --apply, then apply nothing."`
}

func (c *applyLabelsCmd) Run(g *Globals) error {
	if len(c.Paths) == 0 {
		return usageError(errors.New("apply-labels needs the manifests to plan from (planning from the live cluster is not wired up yet)"))
	}
	opts, err := c.options(g)
	if err != nil {
		return err
	}
	in := readInputs(g, c.Paths, c.Namespace)
	if len(in.problems) > 0 {
		// A plan over bad input may put the wrong level on a namespace.
		return in.finish(g)
	}
	p := plan.Build(in.plan, opts)
	if c.Apply && len(p.Incomplete) > 0 {
		return usageError(fmt.Errorf("the plan is incomplete, so --apply is refused: %v", p.Incomplete))
	}
	cfg, err := c.restConfig()
	if err != nil {
		return err
	}
	labeler, err := nslabels.NewLabeler(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	targets, skipped := nslabels.Targets(p)
	r := labeler.Run(ctx, targets, nslabels.Options{Overwrite: c.Overwrite, Apply: c.Apply, HoldOnWarnings: c.FailOnWarnings})
	r.Skipped, r.Incomplete = skipped, p.Incomplete
	if err := report.Labels(g.stdout, g.format(), r); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := in.finish(g); err != nil {
		return err
	}
	return labelsOutcome(r, c.FailOnWarnings)
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

// restConfig loads the client configuration as kubectl does: --kubeconfig,
// else $KUBECONFIG, else ~/.kube/config; --context, else the current one.
func (c *applyLabelsCmd) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: c.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, usageError(fmt.Errorf("loading the kubeconfig: %w", err))
	}
	return cfg, nil
}
