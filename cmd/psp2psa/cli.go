package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/psp2psa/psp2psa/report"
)

// Exit codes, decided here and nowhere else.
const (
	exitOK    = 0
	exitError = 1 // the tool could not do its job (a cluster unreachable, a write failed)
	exitInput = 2 // bad input or usage
	// exitWarnings: apply-labels --fail-on-warnings saw dry-run warnings.
	exitWarnings = 3
	// exitNotReady: review found what makes the cluster not ready.
	exitNotReady = 3
)

// Globals are the flags every command shares, and the process's streams.
type Globals struct {
	Output        string `short:"o" enum:"text,json,yaml,markdown,sarif,junit" default:"text" help:"Output format: text, json, yaml or markdown; review also writes sarif and junit."`
	PSSVersion    string `name:"pss-version" placeholder:"v1.N" help:"Pod Security Standards version to evaluate and pin labels to: latest or v1.N, from v1.22 to the newest this build knows, and no newer than the target server (default: the target server's version)."`
	ServerVersion string `name:"server-version" placeholder:"v1.N" help:"Kubernetes version of the kube-apiserver the plan is for: it decides the label pins, the form of the patches, how Pod Security admission sees a pod, and the files --write-dir writes (default: the live cluster's version, a snapshot's recorded version, else the newest this build knows)."`

	stdin          io.Reader
	stdout, stderr io.Writer
	// progress is the status line of a long run; nil draws nothing.
	progress *progress
}

func (g *Globals) format() report.Format { return report.Format(g.Output) }

// report writes a report to standard output through a buffer: a report of
// a large cluster is many lines, each otherwise a write of its own. It is
// flushed before anything else is printed.
func (g *Globals) report(write func(w io.Writer) error) error {
	g.progress.finish()
	bw := bufio.NewWriterSize(g.stdout, 64<<10)
	err := write(bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

type cli struct {
	Globals

	Version kong.VersionFlag `help:"Print the module version and VCS revision psp2psa was built from, and exit."`

	Convert  convertCmd  `cmd:"" help:"Map each PodSecurityPolicy to the Pod Security Standards level it allows, with the reason per field."`
	Plan     planCmd     `cmd:"" help:"Plan the migration: which PSP admits each workload, the patches that keep what it injected, the labels per namespace."`
	Patch    patchCmd    `cmd:"" help:"Write patched copies of the workload manifests and list what changed per workload."`
	Snapshot snapshotCmd `cmd:"" help:"Read the cluster (read-only) and write everything plan needs as one YAML List, to plan from once the cluster no longer serves PSPs."`

	ApplyLabels applyLabelsCmd `cmd:"" name:"apply-labels" help:"Put the planned Pod Security labels on the cluster's namespaces: a server-side dry run, then with --apply the patch."`
	Review      reviewCmd      `cmd:"" help:"The pre-upgrade verdict, READY or NOT READY (exit 3), with every finding: for CI and for people."`
}

// checkFormat refuses the CI formats for every command but review, which
// alone has findings to put in them.
func (c *cli) checkFormat(command string) error {
	f := report.Format(c.Output)
	if (f == report.SARIF || f == report.JUnit) && !strings.HasPrefix(command, "review") {
		return fmt.Errorf("-o %s: only review writes %s; %s writes text, json, yaml or markdown", f, f, strings.Fields(command)[0])
	}
	return nil
}

// codedError carries the exit code for an error.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func usageError(err error) error { return &codedError{code: exitInput, err: err} }

// inputError reports that some input was bad while the rest was processed
// and printed.
func inputError(n int) error {
	return &codedError{code: exitInput, err: fmt.Errorf("%d input problem(s), listed above", n)}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := cli{Globals: Globals{stdin: stdin, stdout: stdout, stderr: stderr}}
	exitCode := -1
	parser, err := kong.New(&c,
		kong.Name(programName),
		kong.Vars{"version": versionLine()},
		kong.Description("Move a Kubernetes cluster from PodSecurityPolicy to Pod Security Admission without breaking a workload or silently losing a restriction."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exitCode = code }),
		kong.UsageOnError(),
	)
	if err != nil {
		fmt.Fprintf(stderr, "psp2psa: %v\n", err)
		return exitError
	}
	ctx, err := parser.Parse(args)
	if exitCode >= 0 { // --help
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "psp2psa: %v\n", err)
		return exitInput
	}
	if err := c.checkFormat(ctx.Command()); err != nil {
		fmt.Fprintf(stderr, "psp2psa: %v\n", err)
		return exitInput
	}
	if err := ctx.Run(&c.Globals); err != nil {
		fmt.Fprintf(stderr, "psp2psa: %v\n", err)
		var coded *codedError
		if errors.As(err, &coded) {
			return coded.code
		}
		return exitError
	}
	return exitOK
}
