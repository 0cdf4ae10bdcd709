package nslabels

import (
	"context"
	"fmt"

	"github.com/psp2psa/psp2psa/plan"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// FieldManager is the field manager the patches are recorded under, so
// managedFields and audit logs show which labels psp2psa set.
const FieldManager = "psp2psa"

// maxAttempts bounds how often a namespace is re-read and patched again
// after a conflict (someone else changed it in between).
const maxAttempts = 3

// Target is a namespace and the labels the plan wants on it.
type Target struct {
	Namespace string
	Labels    map[string]string
}

// Targets are the plan's namespaces that have labels to set, in plan
// order; skipped names the others (system namespaces without
// --include-system).
func Targets(p *plan.Plan) (targets []Target, skipped []string) {
	for i := range p.Namespaces {
		ns := &p.Namespaces[i]
		if len(ns.Labels) == 0 {
			skipped = append(skipped, ns.Name)
			continue
		}
		targets = append(targets, Target{Namespace: ns.Name, Labels: ns.Labels})
	}
	return targets, skipped
}

// Options are the choices of one run.
type Options struct {
	// Overwrite replaces live values that differ from the plan.
	Overwrite bool
	// Apply patches for real after the dry runs; without it the cluster
	// is not changed.
	Apply bool
	// HoldOnWarnings applies nothing when any dry run returned warnings.
	HoldOnWarnings bool
}

// Status is the outcome for one namespace.
type Status string

// Statuses.
const (
	// Missing: the namespace does not exist on the cluster; it is not
	// created.
	Missing Status = "missing"
	// Unchanged: nothing to set, no patch was sent.
	Unchanged Status = "unchanged"
	// DryRun: the server accepted the dry-run patch; nothing was changed.
	DryRun Status = "dry-run"
	// Held: the patch passed the dry run but was not applied because
	// dry runs returned warnings and HoldOnWarnings was set.
	Held Status = "held"
	// Applied: the labels were patched.
	Applied Status = "applied"
	// Failed: reading, dry-running or patching the namespace failed.
	Failed Status = "failed"
)

// Result is the outcome for one namespace.
type Result struct {
	Namespace string        `json:"namespace"`
	Status    Status        `json:"status"`
	Applied   bool          `json:"applied"`
	Labels    []LabelChange `json:"labels"`
	// Warnings are what the server returned for the dry-run patch: the
	// PodSecurity plugin lists the existing pods the new enforce level
	// would reject.
	Warnings []string `json:"warnings"`
	Error    string   `json:"error,omitempty"`

	patch []byte
	err   error
}

// conflict reports that the namespace changed between read and patch.
func (r *Result) conflict() bool { return r.err != nil && apierrors.IsConflict(r.err) }

// Report is the outcome of one run, in the order of the targets.
type Report struct {
	// Cluster names the cluster labelled (a kubeconfig context).
	Cluster    string   `json:"cluster,omitempty"`
	Apply      bool     `json:"apply"`
	Overwrite  bool     `json:"overwrite"`
	Namespaces []Result `json:"namespaces"`
	// Skipped are plan namespaces without labels to set.
	Skipped []string `json:"skipped,omitempty"`
	// Incomplete is copied from the plan: what its input did not cover.
	Incomplete []string `json:"incomplete,omitempty"`
}

// Count returns how many namespaces have the status.
func (r *Report) Count(s Status) int {
	n := 0
	for i := range r.Namespaces {
		if r.Namespaces[i].Status == s {
			n++
		}
	}
	return n
}

// WithWarnings returns how many namespaces' dry runs returned warnings.
func (r *Report) WithWarnings() int {
	n := 0
	for i := range r.Namespaces {
		if len(r.Namespaces[i].Warnings) > 0 {
			n++
		}
	}
	return n
}

// Labeler patches namespace labels through one API client.
type Labeler struct {
	namespaces namespaceClient
}

// namespaceClient is the part of the namespaces API a Labeler uses.
type namespaceClient interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Namespace, error)
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*corev1.Namespace, error)
}

// NewLabeler returns a Labeler for the cluster of cfg. It works on a copy
// of cfg whose warning handler hands each response's warnings to the
// request that caused them, so warnings are reported per namespace.
func NewLabeler(cfg *rest.Config) (*Labeler, error) {
	c := rest.CopyConfig(cfg)
	c.WarningHandler = nil
	c.WarningHandlerWithContext = warningRouter{}
	if c.QPS == 0 {
		// client-go's default of 5 requests a second would take minutes
		// over a few hundred namespaces (two or three requests each).
		c.QPS, c.Burst = 50, 100
	}
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("building the API client: %w", err)
	}
	return &Labeler{namespaces: cs.CoreV1().Namespaces()}, nil
}

// Run dry-runs the labels of every target, then, with opts.Apply, patches
// them for real. Every dry run comes before the first real patch, so with
// HoldOnWarnings a warning anywhere stops the whole change. Failures are
// per namespace, in the report.
func (l *Labeler) Run(ctx context.Context, targets []Target, opts Options) *Report {
	r := &Report{Apply: opts.Apply, Overwrite: opts.Overwrite, Namespaces: make([]Result, 0, len(targets))}
	for _, t := range targets {
		r.Namespaces = append(r.Namespaces, l.prepare(ctx, t, opts))
	}
	if !opts.Apply {
		return r
	}
	hold := opts.HoldOnWarnings && r.WithWarnings() > 0
	for i, t := range targets {
		res := &r.Namespaces[i]
		switch {
		case res.Status != DryRun:
		case hold:
			res.Status = Held
		default:
			*res = l.apply(ctx, t, *res, opts)
		}
	}
	return r
}

// prepare reads the namespace, compares its labels and dry-runs the patch,
// reading again when the namespace changed in between.
func (l *Labeler) prepare(ctx context.Context, t Target, opts Options) Result {
	var res Result
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		res = l.dryRun(ctx, t, opts)
		if !res.conflict() {
			break
		}
	}
	return res
}

func (l *Labeler) dryRun(ctx context.Context, t Target, opts Options) Result {
	res := Result{Namespace: t.Namespace, Labels: []LabelChange{}, Warnings: []string{}}
	ns, err := l.namespaces.Get(ctx, t.Namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		res.Status = Missing
		return res
	}
	if err != nil {
		return res.fail(fmt.Errorf("reading namespace %s: %w", t.Namespace, err))
	}
	res.Labels = Diff(ns.Labels, t.Labels, opts.Overwrite)
	set := ToSet(res.Labels)
	if len(set) == 0 {
		res.Status = Unchanged
		return res
	}
	if res.patch, err = MergePatch(set, ns.ResourceVersion); err != nil {
		return res.fail(err)
	}
	warnings, err := l.patch(ctx, t.Namespace, res.patch, true)
	res.Warnings = warnings
	if err != nil {
		return res.fail(fmt.Errorf("dry run of the label patch on namespace %s: %w", t.Namespace, err))
	}
	res.Status = DryRun
	return res
}

// apply sends the patch that passed the dry run. On a conflict the
// namespace changed after it was read: it is read and dry-run again, and
// the new patch applied, unless warnings now hold it back.
func (l *Labeler) apply(ctx context.Context, t Target, res Result, opts Options) Result {
	for attempt := 1; ; attempt++ {
		_, err := l.patch(ctx, t.Namespace, res.patch, false)
		if err == nil {
			res.Status, res.Applied = Applied, true
			return res
		}
		if !apierrors.IsConflict(err) || attempt == maxAttempts {
			return res.fail(fmt.Errorf("patching the labels of namespace %s: %w", t.Namespace, err))
		}
		res = l.prepare(ctx, t, opts)
		if res.Status != DryRun {
			return res
		}
		if opts.HoldOnWarnings && len(res.Warnings) > 0 {
			res.Status = Held
			return res
		}
	}
}

// patch sends a merge patch and returns the warnings of its response.
func (l *Labeler) patch(ctx context.Context, name string, body []byte, dryRun bool) ([]string, error) {
	opts := metav1.PatchOptions{FieldManager: FieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	w := &warnings{}
	_, err := l.namespaces.Patch(withWarnings(ctx, w), name, types.MergePatchType, body, opts)
	return w.list(), err
}

func (r Result) fail(err error) Result {
	r.Status, r.Error = Failed, err.Error()
	r.err = err
	return r
}
