package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/psp2psa/psp2psa/artifacts"
	"github.com/psp2psa/psp2psa/fsutil"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	"github.com/psp2psa/psp2psa/report"
	"github.com/psp2psa/psp2psa/rewrite"
)

// planFlags are the choices shared by plan and patch.
type planFlags struct {
	Namespace           string `short:"n" help:"With manifests: the namespace of workloads that name none (default \"default\"). Reading a cluster: read only this namespace (default: all)."`
	ToLevel             string `name:"to-level" enum:",privileged,baseline,restricted" default:"" help:"Also patch what this level needs where a securityContext change suffices."`
	EmptyNamespaceLevel string `name:"empty-namespace-level" enum:"privileged,baseline,restricted" default:"baseline" help:"Level enforced on namespaces without workloads."`
	ControllerIdentity  string `name:"controller-identity" default:"serviceaccounts" help:"Who creates controller-made pods: serviceaccounts (per-controller service accounts in kube-system, as with --use-service-account-credentials), manager (system:kube-controller-manager), user:NAME or sa:NAMESPACE:NAME."`
	PodCreator          string `name:"pod-creator" placeholder:"user:NAME|sa:NS:NAME" help:"Who created the bare Pods (those no controller makes): user:NAME or sa:NAMESPACE:NAME. Without it a Pod's kubernetes.io/psp annotation is taken as its creator's grant, and a Pod without one rests on its service account's grants alone."`
	IncludeSystem       bool   `name:"include-system" help:"Label kube-system, kube-public and kube-node-lease too."`
	Overwrite           bool   `help:"Replace existing pod-security.kubernetes.io labels."`
	PinIDs              bool   `name:"pin-ids" help:"Also patch the UID, GID and fsGroup a template leaves to its image, with values from the admitting PSP's ranges (opt-in: an image may expect other IDs)."`
}

// options are the plan's choices from the flags; the target and PSS
// version are set once the input says which cluster it is (forInput).
func (f *planFlags) options(g *Globals) (plan.Options, error) {
	if _, _, err := g.versions("", ""); err != nil {
		return plan.Options{}, err
	}
	opts := plan.Options{ControllerIdentity: f.ControllerIdentity, PodCreator: f.PodCreator, IncludeSystem: f.IncludeSystem, Overwrite: f.Overwrite, PinIDs: f.PinIDs}
	var err error
	if opts.EmptyNamespaceLevel, err = pss.ParseLevel(f.EmptyNamespaceLevel); err != nil {
		return opts, levelFlag("empty-namespace-level", f.EmptyNamespaceLevel)
	}
	if f.ToLevel != "" {
		if opts.ToLevel, err = pss.ParseLevel(f.ToLevel); err != nil {
			return opts, levelFlag("to-level", f.ToLevel)
		}
	}
	if _, err := psp.ControllerIdentity("Deployment", f.ControllerIdentity); err != nil && !errors.Is(err, psp.ErrNoController) {
		return opts, usageError(fmt.Errorf("--controller-identity: %w", err))
	}
	if f.PodCreator != "" {
		// A bare Pod has no controller, so only a literal identity names
		// its creator.
		if _, err := psp.ControllerIdentity("Pod", f.PodCreator); err != nil {
			return opts, usageError(fmt.Errorf("--pod-creator %q: want user:NAME or sa:NAMESPACE:NAME", f.PodCreator))
		}
	}
	return opts, nil
}

type planCmd struct {
	planFlags
	clusterFlags
	snapshotFlag
	Paths    []string `arg:"" optional:"" name:"path" help:"Manifests: PSPs, RBAC, namespaces, service accounts and workloads; files, directories or - for standard input. None: read the live cluster."`
	WriteDir string   `name:"write-dir" help:"Write DIR/patches/ (strategic-merge patches and a kustomization.yaml), DIR/rollout/ (the staged label changes, label-only patches), the cluster-wide PodSecurity configuration and the admission policies." type:"path"`
	InPlace  bool     `name:"in-place" help:"Rewrite the input manifests instead, keeping comments and key order."`
	DiffOnly bool     `name:"diff-only" help:"Print only the unified diffs of every change."`

	Exempt   exemptFlags `embed:"" prefix:"exempt-"`
	DenyGaps bool        `name:"deny-gaps" help:"Bind --write-dir's ValidatingAdmissionPolicies (what PSS cannot express, and who may change Pod Security labels) with Deny instead of Warn and Audit."`
	// LabelAdminGroups may change Pod Security labels under the guard.
	LabelAdminGroups []string `name:"label-admin-group" placeholder:"GROUP" help:"A group that may change namespaces' Pod Security labels, besides system:masters, in the ValidatingAdmissionPolicy --write-dir writes for 1.30+ targets (namespace-label-guard.yaml; repeatable)."`
	gapPolicyFlags
}

// exemptFlags are exemptions for the cluster-wide PodSecurity
// configuration, beyond the system namespaces the plan leaves unlabelled.
type exemptFlags struct {
	Namespace    []string `name:"namespace" help:"Exempt this namespace from the cluster-wide defaults (repeatable)."`
	User         []string `name:"user" help:"Exempt requests by this user (repeatable)."`
	RuntimeClass []string `name:"runtime-class" help:"Exempt pods of this RuntimeClass (repeatable)."`
}

func (c *planCmd) Run(g *Globals) error {
	if c.WriteDir != "" && c.InPlace {
		return usageError(errors.New("--write-dir and --in-place exclude each other"))
	}
	if c.WriteDir == "" && (c.GapPolicies != "" || c.DefaultsAsPolicy) {
		return usageError(errNoWriteDir)
	}
	opts, err := c.options(g)
	if err != nil {
		return err
	}
	paths := c.paths(c.Paths)
	if c.InPlace && len(c.Paths) == 0 {
		return usageError(errors.New("--in-place rewrites manifest files: give their paths"))
	}
	if c.InPlace {
		if err := refuseStdin("--in-place", c.Paths); err != nil {
			return err
		}
	}
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
	in.plan.Inventory = nil // the plan holds what it needs of it
	ch, err := c.changes(g, p, in)
	if err != nil {
		return err
	}
	if err := c.render(g, p, ch.shown); err != nil {
		return err
	}
	if c.WriteDir != "" || c.InPlace {
		if err := writeFiles(ch.written); err != nil {
			return err
		}
	}
	return in.finish(g)
}

// planChanges are the files a plan changes, as far as they are shown (a
// diff each) and written (their new contents).
type planChanges struct {
	shown   []report.FileChange
	written []artifacts.File
}

// changes are the files the plan changes: the write-dir's files, or else
// the input manifests rewritten (shown as diffs, written with --in-place).
// Of a rewritten manifest only its diff is kept, and its new contents when
// they are to be written; machine-readable output shows no diffs, so
// without --in-place the manifests are not rewritten for it at all.
func (c *planCmd) changes(g *Globals, p *plan.Plan, in *inputs) (planChanges, error) {
	if c.WriteDir != "" {
		files, err := c.writeDirFiles(p, in)
		return planChanges{shown: fileChanges(files), written: files}, err
	}
	showDiffs := c.DiffOnly || (g.format() != report.JSON && g.format() != report.YAML)
	if len(c.Paths) == 0 || (!showDiffs && !c.InPlace) {
		// A cluster or a snapshot: there are no manifests to show diffs of.
		return planChanges{}, nil
	}
	type rewritten struct {
		shown   report.FileChange
		written artifacts.File
	}
	g.progress.begin("rewriting", "files", 0)
	files, err := artifacts.RewritesEach(p, in.docs, true, os.ReadFile, func(f artifacts.File) (rewritten, error) {
		g.progress.add()
		var r rewritten
		if !f.Changed() {
			return r, nil
		}
		if showDiffs {
			r.shown = report.FileChange{Path: f.Path, Old: f.Old, New: f.New}.Diffed()
		}
		if c.InPlace {
			r.written = artifacts.File{Path: f.Path, New: f.New}
		}
		return r, nil
	})
	if err != nil && c.InPlace {
		return planChanges{}, rewriteError(err)
	}
	if err != nil {
		// Diffs are a courtesy when nothing is written (stdin input, say).
		g.progress.finish()
		fmt.Fprintf(g.stderr, "warning: no diffs: %v\n", err)
		return planChanges{}, nil
	}
	var out planChanges
	for _, f := range files {
		if f.shown.Path != "" {
			out.shown = append(out.shown, f.shown)
		}
		if f.written.Path != "" {
			out.written = append(out.written, f.written)
		}
	}
	return out, nil
}

func (c *planCmd) render(g *Globals, p *plan.Plan, changes []report.FileChange) error {
	err := g.report(func(w io.Writer) error {
		if c.DiffOnly {
			return report.Diffs(w, changes)
		}
		return report.Plan(w, g.format(), p, changes)
	})
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

func fileChanges(files []artifacts.File) []report.FileChange {
	var out []report.FileChange
	for _, f := range files {
		if f.Changed() {
			out = append(out, report.FileChange{Path: f.Path, Old: f.Old, New: f.New})
		}
	}
	return out
}

// writeFiles writes each changed file atomically, creating directories.
// Each write waits for the disk (fsync), so several go at once, and each
// directory is synced once, at the end; after a failure no more are
// started, and the error is the first in path order.
func writeFiles(files []artifacts.File) error {
	errs := make([]error, len(files))
	var failed atomic.Bool
	var next atomic.Int64
	var wg sync.WaitGroup
	var batch fsutil.Batch
	for range min(writers, len(files)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(files) && !failed.Load(); i = int(next.Add(1)) - 1 {
				if errs[i] = writeFile(&batch, files[i]); errs[i] != nil {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	batch.Sync()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// writers is how many files are written at once.
const writers = 8

func writeFile(batch *fsutil.Batch, f artifacts.File) error {
	if !f.Changed() {
		return nil
	}
	if err := os.MkdirAll(dirOf(f.Path), 0o755); err != nil {
		return fmt.Errorf("creating the directory of %s: %w", f.Path, err)
	}
	if err := batch.WriteFile(f.Path, f.New, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", f.Path, err)
	}
	return nil
}

// writeDirFiles are the patches and namespaces of --write-dir, the
// cluster-wide PodSecurity configuration, the policies that keep what PSS
// cannot express and, if asked, those writing the PSPs' defaults.
func (c *planCmd) writeDirFiles(p *plan.Plan, in *inputs) ([]artifacts.File, error) {
	server := p.Target.Version
	files, err := artifacts.WriteDir(p, c.WriteDir)
	if err != nil {
		return nil, err
	}
	config, err := artifacts.AdmissionConfigFile(p, c.WriteDir, artifacts.ConfigOptions{
		Server:     server,
		Exemptions: pss.Exemptions{Namespaces: c.Exempt.Namespace, Usernames: c.Exempt.User, RuntimeClasses: c.Exempt.RuntimeClass},
	})
	if err != nil {
		return nil, usageError(fmt.Errorf("the cluster-wide PodSecurity configuration: %w", err))
	}
	files = append(files, config)
	policies, err := c.gapPolicyFiles(p, in, p.Target)
	if err != nil {
		return nil, err
	}
	files = append(files, policies...)
	guard, ok, err := artifacts.LabelGuardFile(p, c.WriteDir, c.LabelAdminGroups, c.DenyGaps)
	if err != nil {
		return nil, err
	}
	if ok {
		files = append(files, guard)
	}
	return files, nil
}

// rewriteError is exit 2 when a file holds other objects than were read
// from it (it changed under the run): the input, not the tool, is wrong.
func rewriteError(err error) error {
	var wrong *rewrite.WrongObjectError
	if errors.As(err, &wrong) {
		return usageError(err)
	}
	return err
}

// loadAndPlan reads the paths (or the cluster) and plans them for the
// server the input or the flags name, with what the input said wrong on
// the plan.
func loadAndPlan(g *Globals, paths []string, namespace string, f *clusterFlags, opts plan.Options) (*plan.Plan, *inputs, error) {
	in, err := loadInputs(g, paths, namespace, f)
	if err != nil {
		return nil, nil, err
	}
	if opts.Target, opts.Version, err = g.versions(in.serverVersion, in.versionFrom); err != nil {
		return nil, nil, err
	}
	g.progress.begin("planning", "workloads", len(in.plan.Inventory.Workloads))
	opts.Planned = g.progress.add
	p := plan.Build(in.plan, opts)
	p.Skipped, p.Problems, p.Warnings = in.skipped, problemsOf(in.problems), problemsOf(in.warnings)
	return p, in, nil
}
