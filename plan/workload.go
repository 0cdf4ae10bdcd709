package plan

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/psp2psa/psp2psa/hygiene"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/patch"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
)

// Workload is the plan for one workload.
type Workload struct {
	Kind           string          `json:"kind"`
	APIVersion     string          `json:"apiVersion"`
	Namespace      string          `json:"namespace"`
	Name           string          `json:"name"`
	Source         manifest.Source `json:"source"`
	ServiceAccount string          `json:"serviceAccount"`
	// Requester is who creates the pods (the controller for a controller);
	// for a bare Pod the --pod-creator, else empty: the input does not say.
	Requester string `json:"requester,omitempty"`
	// AdmittedBy is the PSP that admits the pod template today; empty when
	// no PSP does.
	AdmittedBy string `json:"admittedBy"`
	// Rejections are, for a rejected workload, the reasons of every PSP
	// its identities may use.
	Rejections []Rejection `json:"rejections,omitempty"`
	// Mutated reports that the admitting PSP changed the pod.
	Mutated bool `json:"mutated"`
	// Annotation is the kubernetes.io/psp annotation of a Pod in the input
	// (what really admitted it); AnnotationAgrees compares the simulation.
	Annotation       string `json:"annotation,omitempty"`
	AnnotationAgrees *bool  `json:"annotationAgrees,omitempty"`
	// OwnedBy is the controller in the input that makes this Pod or
	// ReplicaSet; the controller carries the patch.
	OwnedBy string `json:"ownedBy,omitempty"`
	// Patch is the change to the pod template: what keeps PSP's defaults,
	// then what the --to-level needs.
	Patch patch.Patch `json:"patch"`
	// Unfixable are the checks of the target level that no securityContext
	// change fixes.
	Unfixable []patch.Unfixable `json:"unfixable"`
	// LevelBeforePatch and LevelAfterPatch are the strictest levels the
	// template passes, as written and once patched.
	LevelBeforePatch api.Level `json:"levelBeforePatch"`
	LevelAfterPatch  api.Level `json:"levelAfterPatch"`
	// Failures are the checks of the next stricter level the patched
	// template fails: what stands between it and that level.
	Failures []pss.CheckResult `json:"failures,omitempty"`
	// Incomplete are the reasons (Reason constants) the answer for this
	// workload rests on what the input lacks; Plan.Incomplete says what.
	Incomplete []string `json:"incomplete,omitempty"`
	// Notes explain the answer: on whose grants it rests.
	Notes []string `json:"notes,omitempty"`

	requester psp.UserInfo
	template  *corev1.PodTemplateSpec
	path      []string
	// missing are this workload's own Plan.Incomplete entries;
	// danglingBindings the bindings to missing roles that apply to it.
	missing          []Incomplete
	danglingBindings []string
}

// Rejection is why one usable PSP does not admit a workload.
type Rejection struct {
	Policy  string   `json:"policy"`
	Reasons []string `json:"reasons"`
}

// Ref names the workload as "Kind namespace/name".
func (w *Workload) Ref() string { return fmt.Sprintf("%s %s/%s", w.Kind, w.Namespace, w.Name) }

// Template returns the pod template as read, and PatchedTemplate the
// template with the patch applied.
func (w *Workload) Template() *corev1.PodTemplateSpec { return w.template }
func (w *Workload) PatchedTemplate() *corev1.PodTemplateSpec {
	return applyPatch(w.Patch, w.template)
}

// TemplatePath is where the pod template sits in the object.
func (w *Workload) TemplatePath() []string { return w.path }

// Rejected reports that no PSP admits the workload today.
func (w *Workload) Rejected() bool { return w.AdmittedBy == "" }

type workloadPlanner struct {
	opts     Options
	selector *psp.Selector
	auth     *psp.Authorizer
	eval     *pss.Evaluator
	accounts map[string]*corev1.ServiceAccount
	complete *completeness
	// specs are the PSPs by name, for --pin-ids.
	specs map[string]*psp.PodSecurityPolicy
	// policies are the names of the input's PSPs.
	policies map[string]bool
	usable   *usable
	answers  *answers
	// requesters are the identities that create pods, by kind and mode.
	requesters sync.Map
}

func indexServiceAccounts(inv *inventory.Inventory) map[string]*corev1.ServiceAccount {
	out := make(map[string]*corev1.ServiceAccount, len(inv.ServiceAccounts))
	for i := range inv.ServiceAccounts {
		sa := &inv.ServiceAccounts[i]
		out[sa.Namespace+"/"+sa.Name] = sa
	}
	return out
}

// planAll plans every workload, in input order, on all processors: each
// workload's plan depends only on shared read-only indexes.
func (wp *workloadPlanner) planAll(in []inventory.Workload) []Workload {
	out := make([]Workload, len(in))
	workers := min(runtime.GOMAXPROCS(0), len(in))
	var wg sync.WaitGroup
	for worker := range workers {
		wg.Go(func() {
			for i := worker; i < len(in); i += workers {
				out[i] = wp.plan(&in[i])
				if wp.opts.Planned != nil {
					wp.opts.Planned()
				}
			}
		})
	}
	wg.Wait()
	return out
}

func (wp *workloadPlanner) plan(in *inventory.Workload) Workload {
	w := Workload{
		Kind: in.Kind, APIVersion: in.APIVersion, Namespace: in.Namespace, Name: in.Name,
		Source: in.Source, ServiceAccount: in.ServiceAccount, OwnedBy: in.OwnedBy,
		Annotation: in.AdmittedBy, template: in.Template, path: in.TemplatePath,
	}
	requester := wp.requester(in)
	w.Requester, w.requester = requester.User.Name, requester.User
	sa := wp.accounts[in.Namespace+"/"+in.ServiceAccount]
	// The pod's service account as psp.AdmissionPod sets it is the
	// inventory's.
	allowed, usableKey := wp.authorized(&w, in, in.ServiceAccount)
	a := wp.answerFor(in, sa, allowed, usableKey)
	w.AdmittedBy, w.Mutated, w.Rejections = a.policy, a.mutated, a.rejections
	if w.Annotation != "" {
		agrees := w.Annotation == w.AdmittedBy
		w.AnnotationAgrees = &agrees
	}
	wp.complete.check(&w, in, sa != nil)
	if w.Rejected() && !a.tried && !wp.complete.noPSP {
		w.Notes = append(w.Notes, noGrantNote(&w, in))
	}
	w.Patch, w.Unfixable = a.patch, a.unfixable
	w.LevelBeforePatch, w.LevelAfterPatch, w.Failures = a.before, a.after, a.failures
	return w
}

// answer is what a workload's plan shares with the workloads whose pods
// PSP and Pod Security admission see alike (see share.go).
type answer struct {
	policy     string
	mutated    bool
	rejections []Rejection
	// tried reports that some PSP was tried and rejected the pod.
	tried         bool
	patch         patch.Patch
	unfixable     []patch.Unfixable
	before, after api.Level
	failures      []pss.CheckResult
}

// answerFor is the workload's answer, computed once per key.
func (wp *workloadPlanner) answerFor(in *inventory.Workload, sa *corev1.ServiceAccount, allowed func(string) bool, usableKey string) *answer {
	owned := in.OwnedBy != ""
	if !shareAnswers {
		return wp.answer(in.Namespace, in.Template, sa, allowed, owned)
	}
	view := wp.answers.viewOf(in.Template)
	if !view.ok {
		return wp.answer(in.Namespace, in.Template, sa, allowed, owned)
	}
	key := answerKey{template: view.key, automount: automountOf(sa), usable: usableKey, owned: owned}
	if a, ok := wp.answers.get(key); ok {
		return a
	}
	a := wp.answer(in.Namespace, view.template, sa, allowed, owned)
	wp.answers.put(key, a)
	return a
}

// answer admits the template's pod as PSP admission did and computes its
// patch and levels.
func (wp *workloadPlanner) answer(namespace string, template *corev1.PodTemplateSpec, sa *corev1.ServiceAccount, allowed func(string) bool, owned bool) *answer {
	pod := psp.AdmissionPod(namespace, template, sa)
	d := wp.selector.Select(pod, allowed)
	a := &answer{policy: d.Policy, mutated: d.Mutated, rejections: authorizedRejections(d), tried: len(d.Rejections) > 0}
	wp.patch(a, namespace, template, sa, d, pod, owned)
	// Shared slices must not grow into each other's workloads.
	a.rejections, a.unfixable, a.failures = slices.Clip(a.rejections), slices.Clip(a.unfixable), slices.Clip(a.failures)
	a.patch.Changes = slices.Clip(a.patch.Changes)
	return a
}

// requester is the identity that creates the workload's pods: the
// controller's, or for a bare Pod the --pod-creator; zero when unknown.
func (wp *workloadPlanner) requester(in *inventory.Workload) psp.Requester {
	kind, mode := in.CreatorKind(), wp.opts.ControllerIdentity
	if kind == "" {
		kind, mode = in.Kind, wp.opts.PodCreator
	}
	if mode == "" {
		return psp.Requester{}
	}
	// One identity per kind and mode, shared: a workload's plan keeps it.
	key := kind + "\x00" + mode
	if r, ok := wp.requesters.Load(key); ok {
		return r.(psp.Requester)
	}
	r, err := psp.ControllerIdentity(kind, mode)
	if err != nil {
		r = psp.Requester{}
	}
	wp.requesters.Store(key, r)
	return r
}

// authorized is whether the workload's pods may use a PSP: their service
// account may, or their creator. A bare Pod whose creator is not named
// but whose kubernetes.io/psp annotation names the PSP that admitted it is
// taken as allowed to use that PSP: its creator or service account was.
// The key names the PSPs of the input it allows, for sharing answers.
func (wp *workloadPlanner) authorized(w *Workload, in *inventory.Workload, serviceAccount string) (func(string) bool, string) {
	var sets []psp.UseSet
	if serviceAccount != "" {
		sets = append(sets, wp.usable.of(psp.ServiceAccountUser(in.Namespace, serviceAccount), in.Namespace))
	}
	if w.requester.Name != "" || len(w.requester.Groups) > 0 {
		sets = append(sets, wp.usable.of(w.requester, in.Namespace))
	}
	if in.CreatorKind() == "" && wp.opts.PodCreator == "" && in.AdmittedBy != "" {
		w.Notes = append(w.Notes, fmt.Sprintf("its creator is unknown (--pod-creator names it): taken as allowed to use PSP %s, as its kubernetes.io/psp annotation says", in.AdmittedBy))
		sets = append(sets, psp.UseSet{Names: []string{in.AdmittedBy}})
	}
	allowed := func(name string) bool {
		for _, s := range sets {
			if s.Allows(name) {
				return true
			}
		}
		return false
	}
	return allowed, wp.usableKey(sets)
}

// usableKey names the PSPs of the input the sets allow: "*" for all of
// them, else their names.
func (wp *workloadPlanner) usableKey(sets []psp.UseSet) string {
	var names []string
	for _, s := range sets {
		if s.All {
			return "*"
		}
		for _, name := range s.Names {
			if wp.policies[name] {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), "\x00")
}

// noGrantNote says why a workload no PSP was even tried for is rejected.
func noGrantNote(w *Workload, in *inventory.Workload) string {
	var who []string
	if w.ServiceAccount != "" {
		who = append(who, "its service account "+w.Namespace+"/"+w.ServiceAccount)
	}
	if w.Requester != "" {
		who = append(who, "its creator "+w.Requester)
	}
	note := "no PSP of the input may be used by " + strings.Join(who, " or ")
	if len(who) == 0 {
		note = "no PSP of the input may be used for it: it has no service account"
	}
	if in.CreatorKind() == "" && w.Requester == "" {
		note += " (its creator is unknown)"
	}
	return note
}

func authorizedRejections(d psp.Decision) []Rejection {
	if d.Policy != "" {
		return nil
	}
	var out []Rejection
	for _, r := range d.Rejections {
		reasons := make([]string, len(r.Errors))
		for i, e := range r.Errors {
			reasons[i] = e.Error()
		}
		out = append(out, Rejection{Policy: r.Policy, Reasons: reasons})
	}
	return out
}

// patch computes the patch of the template's workload and its levels
// before and after; pod is the template as admission sees it.
func (wp *workloadPlanner) patch(a *answer, namespace string, template *corev1.PodTemplateSpec, sa *corev1.ServiceAccount, d psp.Decision, pod *corev1.Pod, owned bool) {
	version, server := wp.opts.Version, wp.opts.Target
	a.before = wp.levelOf(wp.asTarget(pod))
	patched := template
	if !owned {
		if d.Pod != nil && d.Mutated {
			a.patch = patch.PreservePatch(template, d.Pod, d.Policy).ForServer(server, template)
		}
		a.patch = a.patch.Merge(patch.LegacyForms(template, server), template)
		patched = applyPatch(a.patch, patched)
	}
	if wp.opts.ToLevel != "" && wp.opts.ToLevel != pss.Privileged && !owned {
		lp, unfixable := patch.LevelPatchFor(patched, wp.opts.ToLevel, version, server, wp.eval)
		lp = lp.ForServer(server, patched)
		a.unfixable = unfixable
		a.patch.Changes = append(a.patch.Changes, lp.Changes...)
		patched = applyPatch(lp, patched)
	}
	if wp.opts.PinIDs && d.Policy != "" && !owned {
		pins := hygiene.Pins(patched, wp.specs[d.Policy])
		a.patch.Changes = append(a.patch.Changes, pins.Changes...)
		patched = applyPatch(pins, patched)
	}
	if patched != template {
		pod = psp.AdmissionPod(namespace, patched, sa)
	}
	pod = wp.asTarget(pod)
	a.after = wp.levelOf(pod)
	if next := pss.NextStricter(a.after); next != a.after {
		a.failures = wp.eval.Failures(api.LevelVersion{Level: next, Version: version}, &pod.ObjectMeta, &pod.Spec)
	}
	if a.unfixable == nil {
		a.unfixable = []patch.Unfixable{}
	}
}

// applyPatch applies a patch computed for this very template; a failure
// would be a bug in the patch code, so the template is kept unpatched
// rather than guessed at.
func applyPatch(p patch.Patch, t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	if p.Empty() {
		return t
	}
	out, err := p.Apply(t)
	if err != nil {
		return t
	}
	return out
}

// asTarget is the pod as the target server's Pod Security admission sees
// it: after the server's own preparation of a new pod. The pod given is
// not modified.
func (wp *workloadPlanner) asTarget(pod *corev1.Pod) *corev1.Pod {
	if !wp.opts.Target.CopiesSeccompAnnotations() {
		return pod
	}
	pod = pod.DeepCopy()
	wp.opts.Target.PrepareForAdmission(pod)
	return pod
}

// levelOf is the strictest level a pod passes, as Pod Security admission
// sees it: after API defaults and the service account token volume
// (psp.AdmissionPod).
func (wp *workloadPlanner) levelOf(pod *corev1.Pod) api.Level {
	level := pss.Privileged
	for _, l := range pss.StricterLevels(pss.Privileged) {
		if !wp.eval.Allowed(api.LevelVersion{Level: l, Version: wp.opts.Version}, &pod.ObjectMeta, &pod.Spec) {
			break
		}
		level = l
	}
	return level
}
