package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/psp2psa/psp2psa/artifacts"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/report"
)

type patchCmd struct {
	planFlags
	Paths     []string `arg:"" name:"path" help:"Manifests holding workloads (and the PSPs and RBAC that admit them); files or directories."`
	OutputDir string   `name:"output-dir" required:"" help:"Write a patched copy of every input file that holds a workload here, under the same base name." type:"path"`
}

func (c *patchCmd) Run(g *Globals) error {
	opts, err := c.options(g)
	if err != nil {
		return err
	}
	if err := refuseStdin("patch", c.Paths); err != nil {
		return err
	}
	if err := refuseOutputInInputs("--output-dir", c.OutputDir, c.Paths); err != nil {
		return err
	}
	g.progress = startProgress(g.stderr)
	defer g.progress.finish()
	in := readInputs(g, c.Paths, c.Namespace)
	if opts.Target, opts.Version, err = g.versions(in.serverVersion, in.versionFrom); err != nil {
		return err
	}
	g.progress.begin("planning", "workloads", len(in.plan.Inventory.Workloads))
	opts.Planned = g.progress.add
	p := plan.Build(in.plan, opts)
	in.plan.Inventory = nil // the plan holds what it needs of it
	g.progress.begin("rewriting", "files", 0)
	files, err := artifacts.Copies(p, in.docs, c.OutputDir, os.ReadFile)
	if err != nil {
		return usageError(err)
	}
	if err := writeFiles(files); err != nil {
		return err
	}
	if err := g.report(func(w io.Writer) error { return report.Patches(w, g.format(), p, filepath.Clean(c.OutputDir)) }); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return in.finish(g)
}

func dirOf(path string) string { return filepath.Dir(path) }
