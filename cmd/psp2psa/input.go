package main

import (
	"errors"
	"fmt"

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
}

// readInputs reads the paths and sorts what they hold into PSPs and the
// inventory. Problems are collected, not fatal: the rest is still planned.
func readInputs(g *Globals, paths []string, namespace string) *inputs {
	docs, readErrs := manifest.Read(paths, g.stdin)
	return inputsOf(docs, readErrs, namespace)
}

// inputsOf sorts documents, wherever they were read, into PSPs and the
// inventory. What a snapshot among them records about its read (what it
// could not see, its warnings) comes with them: the inventory has it.
func inputsOf(docs []manifest.Document, readErrs []error, namespace string) *inputs {
	load := psp.FromDocuments(docs)
	inv, invErrs := inventory.FromDocuments(docs, namespace)
	in := &inputs{
		docs:     docs,
		plan:     plan.Input{Policies: load.Policies, Inventory: inv},
		skipped:  inv.Unknown,
		warnings: load.Warnings,
	}
	for _, w := range inv.Warnings {
		in.warnings = append(in.warnings, errors.New(w))
	}
	in.problems = append(append(in.problems, readErrs...), load.Errors...)
	for _, err := range invErrs {
		// The same object read twice (a kustomize base beside its overlay,
		// say) is planned as the later one, as applying them in order would
		// leave it: worth a warning, not a failed run.
		if errors.Is(err, inventory.ErrDuplicate) {
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
