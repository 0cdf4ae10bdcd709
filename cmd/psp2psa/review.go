package main

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/artifacts"
	"github.com/psp2psa/psp2psa/report"
	"github.com/psp2psa/psp2psa/review"
)

// reviewCmd is the pre-upgrade verdict: READY or NOT READY, for CI and for
// people.
type reviewCmd struct {
	planFlags
	clusterFlags
	snapshotFlag
	Paths    []string `arg:"" optional:"" name:"path" help:"Manifests, as for plan: PSPs, RBAC, namespaces, service accounts, workloads and any admission policies; files, directories or - for standard input. None: read the live cluster."`
	FailOn   string   `name:"fail-on" enum:"error,warning" default:"error" help:"Least severity that makes the review NOT READY (exit 3): error (the default) or warning."`
	WriteDir string   `name:"write-dir" help:"Also write the full report, every namespace and finding, to DIR/review.md, review.json, review.sarif and review.junit.xml (-o markdown fits one pull-request comment and says what it left out)." type:"path"`
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
	if c.WriteDir != "" {
		if err := refuseOutputInInputs("--write-dir", c.WriteDir, paths); err != nil {
			return err
		}
	}
	g.progress = startProgress(g.stderr)
	defer g.progress.finish()
	p, in, err := loadAndPlan(g, paths, c.Namespace, &c.clusterFlags, opts)
	if err != nil {
		return err
	}
	r := review.Build(review.Input{
		Plan: p, Policies: in.plan.Policies, Inventory: in.plan.Inventory, Documents: in.docs, Read: readKind(paths, in),
	}, review.Options{FailOn: failOn})
	ropts := c.reportOptions()
	if err := report.Review(g.stdout, g.format(), r, ropts); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if c.WriteDir != "" {
		if err := writeReviewFiles(c.WriteDir, r, ropts); err != nil {
			return err
		}
	}
	if err := in.finish(g); err != nil {
		return err
	}
	if !r.Verdict.Ready {
		return &codedError{code: exitNotReady, err: fmt.Errorf("%s", r.Verdict.Summary)}
	}
	return nil
}

func (c *reviewCmd) reportOptions() report.ReviewOptions {
	version, revision, _ := buildVersion()
	if revision != "" {
		version += "+" + revision
	}
	o := report.ReviewOptions{Tool: report.ToolInfo{Name: "psp2psa", Version: version, InformationURI: projectURL}}
	if c.WriteDir != "" {
		o.FullReportHint = "The full report is in `" + filepath.ToSlash(filepath.Join(c.WriteDir, reviewFiles[0].name)) + "`"
	}
	return o
}

// reviewFiles are what review --write-dir writes, each in full.
var reviewFiles = []struct {
	name   string
	format report.Format
}{
	{"review.md", report.Markdown}, {"review.json", report.JSON}, {"review.sarif", report.SARIF}, {"review.junit.xml", report.JUnit},
}

// writeReviewFiles writes the full report in every format, atomically.
func writeReviewFiles(dir string, r *review.Review, o report.ReviewOptions) error {
	o.Full = true
	var files []artifacts.File
	for _, f := range reviewFiles {
		var buf bytes.Buffer
		if err := report.Review(&buf, f.format, r, o); err != nil {
			return fmt.Errorf("rendering %s: %w", f.name, err)
		}
		files = append(files, artifacts.File{Path: filepath.Join(dir, f.name), New: buf.Bytes()})
	}
	return writeFiles(files)
}

// readKind says what the review's input was read from: a live cluster, a
// snapshot (named by --from-snapshot or recognised by what it records), or
// manifest files.
func readKind(paths []string, in *inputs) string {
	switch {
	case len(paths) == 0:
		return review.ReadCluster
	case in.versionFrom == apiserver.FromSnapshot:
		return review.ReadSnapshot
	}
	return review.ReadFiles
}
