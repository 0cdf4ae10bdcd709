package main

import (
	"fmt"

	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/report"
	"github.com/psp2psa/psp2psa/review"
	"github.com/psp2psa/psp2psa/target"
)

// reviewCmd is the pre-upgrade verdict: READY or NOT READY, for CI and for
// people.
type reviewCmd struct {
	planFlags
	clusterFlags
	snapshotFlag
	Paths  []string `arg:"" optional:"" name:"path" help:"Manifests, as for plan: PSPs, RBAC, namespaces, service accounts, workloads and any admission policies; files, directories or - for standard input. None: read the live cluster."`
	FailOn string   `name:"fail-on" enum:"error,warning" default:"error" help:"Least severity that makes the review NOT READY (exit 3): error (the default) or warning."`
}

func (c *reviewCmd) Run(g *Globals) error {
	opts, err := c.options(g)
	if err != nil {
		return err
	}
	failOn, err := review.ParseSeverity(c.FailOn)
	if err != nil {
		return usageError(fmt.Errorf("--fail-on: %w", err))
	}
	paths := c.paths(c.Paths)
	in, err := loadInputs(g, paths, c.Namespace, &c.clusterFlags)
	if err != nil {
		return err
	}
	if opts.Target, opts.Version, err = g.versions(in.serverVersion, in.versionFrom); err != nil {
		return err
	}
	p := plan.Build(in.plan, opts)
	p.Skipped, p.Problems, p.Warnings = in.skipped, problemsOf(in.problems), problemsOf(in.warnings)
	r := review.Build(review.Input{
		Plan: p, Policies: in.plan.Policies, Inventory: in.plan.Inventory, Documents: in.docs, Read: readKind(paths, in),
	}, review.Options{FailOn: failOn})
	if err := report.Review(g.stdout, g.format(), r, report.ReviewOptions{}); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := in.finish(g); err != nil {
		return err
	}
	if !r.Verdict.Ready {
		return &codedError{code: exitNotReady, err: fmt.Errorf("%s", r.Verdict.Summary)}
	}
	return nil
}

// readKind says what the review's input was read from: a live cluster, a
// snapshot (named by --from-snapshot or recognised by what it records), or
// manifest files.
func readKind(paths []string, in *inputs) string {
	switch {
	case len(paths) == 0:
		return review.ReadCluster
	case in.versionFrom == target.FromSnapshot:
		return review.ReadSnapshot
	}
	return review.ReadFiles
}
