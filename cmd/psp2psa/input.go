package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
)

// inputs is everything read from the command line's paths, or from the
// cluster.
type inputs struct {
	docs     []manifest.Document
	plan     plan.Input
	skipped  map[string]int
	problems []error
	warnings []error
	// serverVersion is the cluster's version where the input tells it (a
	// live cluster, a snapshot), and versionFrom says which
	// (apiserver.FromCluster, apiserver.FromSnapshot).
	serverVersion, versionFrom string
}

// readInputs reads the paths and sorts what they hold into PSPs and the
// inventory. Problems are collected, not fatal: the rest is still planned.
func readInputs(g *Globals, paths []string, namespace string) *inputs {
	// Each object is decoded as soon as its file is read, and only what a
	// plan reads of it is kept.
	dec := inventory.NewDecoder(inventoryOptions(namespace))
	g.progress.begin("reading", "objects", 0)
	docs, readErrs := manifest.ReadWith(paths, g.stdin, manifest.ReadOptions{Each: func(d *manifest.Document) {
		dec.Decode(d)
		g.progress.add()
	}})
	in := inputsWith(dec, docs, readErrs)
	in.warnings = append(in.warnings, emptyInputs(paths, docs, readErrs)...)
	return in
}

// inputsOf sorts documents, wherever they were read, into PSPs and the
// inventory. What a snapshot among them records about its read (what it
// could not see, its warnings) comes with them: the inventory has it.
func inputsOf(docs []manifest.Document, readErrs []error, namespace string) *inputs {
	return inputsWith(inventory.NewDecoder(inventoryOptions(namespace)), docs, readErrs)
}

// inventoryOptions keep of each object what a plan reads: of a pod
// template its security view, and of the JSON nothing (only where each
// object was read, to rewrite it there).
func inventoryOptions(namespace string) inventory.Options {
	return inventory.Options{DefaultNamespace: namespace, SecurityViews: true, DropJSON: true}
}

func inputsWith(dec *inventory.Decoder, docs []manifest.Document, readErrs []error) *inputs {
	load := psp.FromDocuments(docs)
	inv, invErrs := dec.Inventory(docs)
	in := &inputs{
		docs:     docs,
		plan:     plan.Input{Policies: load.Policies, Inventory: inv},
		skipped:  inv.Unknown,
		warnings: load.Warnings,
	}
	for _, w := range inv.Warnings {
		in.warnings = append(in.warnings, errors.New(w))
	}
	if inv.ServerVersion != "" {
		in.serverVersion, in.versionFrom = inv.ServerVersion, apiserver.FromSnapshot
	}
	in.problems = append(append(in.problems, readErrs...), load.Errors...)
	for _, err := range invErrs {
		// The same object read twice (a kustomize base beside its overlay,
		// say) is planned as the later one, as applying them in order would
		// leave it, and an unknown field is read without it: worth a
		// warning, not a failed run.
		if inventory.IsWarning(err) {
			in.warnings = append(in.warnings, err)
			continue
		}
		in.problems = append(in.problems, err)
	}
	return in
}

func problemsOf(errs []error) []manifest.Problem {
	out := make([]manifest.Problem, 0, len(errs))
	for _, err := range errs {
		out = append(out, manifest.ProblemOf(err))
	}
	return out
}

// finish prints the input problems and decides the exit code.
func (in *inputs) finish(g *Globals) error {
	printProblems(g, in.problems, in.warnings)
	if len(in.problems) > 0 {
		return inputError(len(in.problems))
	}
	return nil
}

func levelFlag(name, value string) error {
	return usageError(fmt.Errorf("--%s %q: want privileged, baseline or restricted", name, value))
}

// emptyInputs warns of each named file (or standard input) that holds no
// object and no error, and of an input that holds nothing at all: an
// empty plan must not pass for a plan of an empty cluster.
func emptyInputs(paths []string, docs []manifest.Document, readErrs []error) []error {
	if len(readErrs) > 0 {
		return nil
	}
	if len(docs) == 0 {
		return []error{errors.New("the input holds no Kubernetes objects")}
	}
	read := map[string]bool{}
	for i := range docs {
		read[docs[i].Source.File] = true
	}
	var out []error
	for _, p := range paths {
		file := p
		if p == manifest.Stdin {
			file = manifest.StdinFile
		} else if info, err := os.Stat(p); err != nil || info.IsDir() {
			continue
		}
		if !read[file] {
			out = append(out, &manifest.Error{Source: manifest.Source{File: file, Index: manifest.FileIndex}, Err: errors.New("holds no Kubernetes objects")})
		}
	}
	return out
}
