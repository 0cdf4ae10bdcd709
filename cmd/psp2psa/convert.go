package main

import (
	"fmt"
	"io"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/report"
)

type convertCmd struct {
	clusterFlags
	snapshotFlag
	Paths []string `arg:"" optional:"" name:"path" help:"PSP manifests: files, directories (recursive) or - for standard input. None: the live cluster's PSPs."`
}

func (c *convertCmd) Run(g *Globals) error {
	if _, _, err := g.versions("", ""); err != nil {
		return err
	}
	docs, readErrs, read, err := c.read(g)
	if err != nil {
		return err
	}
	detected, from := snapshotVersion(docs), apiserver.FromSnapshot
	if read != nil {
		detected, from = read.ServerVersion, apiserver.FromCluster
	}
	_, version, err := g.versions(detected, from)
	if err != nil {
		return err
	}
	load := psp.FromDocuments(docs)
	result := &convert.Result{PSSVersion: version.String(), Skipped: load.Skipped}
	for _, p := range load.Policies {
		r := convert.Convert(p.PSP, version)
		r.Source, r.APIVersion = p.Source, p.APIVersion
		result.Policies = append(result.Policies, r)
	}
	problems := append(readErrs, load.Errors...)
	for _, err := range problems {
		result.Problems = append(result.Problems, manifest.ProblemOf(err))
	}
	for _, err := range load.Warnings {
		result.Warnings = append(result.Warnings, manifest.ProblemOf(err))
	}
	if read != nil {
		for _, w := range read.Warnings {
			result.Warnings = append(result.Warnings, manifest.Problem{Message: w})
		}
	}
	if err := g.report(func(w io.Writer) error { return report.Convert(w, g.format(), result) }); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	printProblems(g, problems, load.Warnings)
	printClusterRead(g, read)
	if len(problems) > 0 {
		return inputError(len(problems))
	}
	return nil
}

// printProblems lists input problems on stderr, where they do not mix with
// output meant for machines.
func printProblems(g *Globals, problems, warnings []error) {
	g.progress.finish()
	for _, err := range problems {
		fmt.Fprintf(g.stderr, "error: %v\n", err)
	}
	for _, err := range warnings {
		fmt.Fprintf(g.stderr, "warning: %v\n", err)
	}
}

// snapshotVersion is the server version a snapshot among docs recorded,
// or "".
func snapshotVersion(docs []manifest.Document) string {
	for i := range docs {
		if v := docs[i].ListAnnotations[inventory.ServerVersionAnnotation]; v != "" {
			return v
		}
	}
	return ""
}
