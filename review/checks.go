package review

import (
	"fmt"
	"sort"
	"strings"

	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/patch"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
)

// checker holds the indexes the checks share.
type checker struct {
	in       Input
	p        *plan.Plan
	sources  map[objectKey]manifest.Source
	accounts map[string]*corev1.ServiceAccount
	policies map[string]*psp.PodSecurityPolicy
	eval     *pss.Evaluator
	kept     keptIndex
	// rejected are the workloads the labels they will run under reject,
	// by Ref, for their status.
	rejected map[string]bool
}

type objectKey struct{ kind, namespace, name string }

func newChecker(in Input) *checker {
	c := &checker{
		in: in, p: in.Plan, sources: map[objectKey]manifest.Source{},
		accounts: map[string]*corev1.ServiceAccount{}, policies: map[string]*psp.PodSecurityPolicy{},
		eval: pss.NewEvaluator(), rejected: map[string]bool{},
	}
	for i := range in.Documents {
		d := &in.Documents[i]
		c.sources[objectKey{d.Kind, d.Namespace, d.Name}] = d.Source
	}
	if inv := in.Inventory; inv != nil {
		for i := range inv.ServiceAccounts {
			sa := &inv.ServiceAccounts[i]
			c.accounts[sa.Namespace+"/"+sa.Name] = sa
		}
	}
	for _, pol := range in.Policies {
		c.policies[pol.PSP.Name] = pol.PSP // the last read wins, as in the plan
	}
	c.kept = keptBy(in)
	return c
}

// location is where a source is written, for a report to point at; nil
// for what a live cluster or standard input holds.
func (c *checker) location(src manifest.Source) *Location {
	if c.in.Read == ReadCluster || src.File == "" || src.File == manifest.StdinFile || src.Index < 0 {
		return nil
	}
	return &Location{File: src.File, Line: src.Line, Index: src.Index}
}

// objectLocation is where an object of the input is written; nil when the
// input does not hold it.
func (c *checker) objectLocation(kind, namespace, name string) *Location {
	src, ok := c.sources[objectKey{kind, namespace, name}]
	if !ok {
		return nil
	}
	return c.location(src)
}

func (c *checker) workloadByRef() map[string]*plan.Workload {
	out := make(map[string]*plan.Workload, len(c.p.Workloads))
	for i := range c.p.Workloads {
		out[c.p.Workloads[i].Ref()] = &c.p.Workloads[i]
	}
	return out
}

// incomplete is one error per piece the plan rests on that the input
// lacks.
func (c *checker) incomplete() []Finding {
	if len(c.p.Incomplete) == 0 {
		return nil
	}
	byRef := c.workloadByRef()
	var out []Finding
	for _, m := range c.p.Incomplete {
		f := Finding{Rule: RuleIncomplete, Severity: Error, Message: m.Reason + ": " + m.Message,
			Namespace: m.Namespace, Workload: m.Workload, Object: m.Object}
		if w := byRef[m.Workload]; w != nil {
			f.Location = c.location(w.Source)
		}
		out = append(out, f)
	}
	return out
}

// namespaceLabels is one error per namespace that lacks a planned label.
func (c *checker) namespaceLabels() []Finding {
	var out []Finding
	for i := range c.p.Namespaces {
		ns := &c.p.Namespaces[i]
		missing := pendingLabels(ns)
		if len(missing) == 0 {
			continue
		}
		where := ""
		loc := c.objectLocation("Namespace", "", ns.Name)
		if loc == nil && c.in.Read != ReadCluster {
			where = " (its Namespace object is not in the input)"
		}
		out = append(out, Finding{
			Rule: RuleNamespaceLabels, Severity: Error, Namespace: ns.Name, Object: "Namespace " + ns.Name, Location: loc,
			Message:  fmt.Sprintf("namespace %s%s: %s to set", ns.Name, where, countWord(len(missing), "label", "labels")),
			Proposal: strings.Join(missing, "\n"),
		})
	}
	return out
}

// pendingLabels are the planned labels the namespace does not carry, as
// "key=value" or "key=value (now: old)", by key.
func pendingLabels(ns *plan.Namespace) []string {
	keys := make([]string, 0, len(ns.Labels))
	for k := range ns.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		v := ns.Labels[k]
		old, ok := ns.Current[k]
		switch {
		case !ok:
			out = append(out, k+"="+v)
		case old != v:
			out = append(out, fmt.Sprintf("%s=%s (now: %s)", k, v, old))
		}
	}
	return out
}

// workloads checks each workload that runs or may run: its patch, and
// the labels it will run under; and warns of those no PSP admits.
func (c *checker) workloads() []Finding {
	nss := map[string]*plan.Namespace{}
	for i := range c.p.Namespaces {
		nss[c.p.Namespaces[i].Name] = &c.p.Namespaces[i]
	}
	var out []Finding
	for i := range c.p.Workloads {
		w := &c.p.Workloads[i]
		if w.OwnedBy != "" {
			continue // its controller carries the patch and is checked
		}
		loc := c.location(w.Source)
		if w.Rejected() && !w.Unknown() {
			out = append(out, Finding{Rule: RuleNotAdmitted, Severity: Warning, Namespace: w.Namespace, Workload: w.Ref(), Location: loc,
				Message: fmt.Sprintf("%s: no PSP it may use admits it today, so it does not run; as written it needs %s", w.Ref(), w.LevelBeforePatch)})
			continue
		}
		if !w.Patch.Empty() {
			out = append(out, Finding{Rule: RuleWorkloadPatch, Severity: Error, Namespace: w.Namespace, Workload: w.Ref(), Location: loc,
				Message:  fmt.Sprintf("%s: %s to make: %s", w.Ref(), countWord(len(w.Patch.Changes), "change", "changes"), patchWhy(w)),
				Proposal: patchText(w.Patch)})
		}
		if f, ok := c.labelCheck(w, nss[w.Namespace]); ok {
			f.Location = loc
			c.rejected[w.Ref()] = true
			out = append(out, f)
		}
	}
	return out
}

// patchWhy says what a workload's patch is for.
func patchWhy(w *plan.Workload) string {
	var why []string
	if w.Mutated && w.AdmittedBy != "" {
		why = append(why, "keeps what PSP "+w.AdmittedBy+" injected")
	}
	for _, ch := range w.Patch.Changes {
		if ch.Check != "" {
			why = append(why, "adds what --to-level needs")
			break
		}
	}
	if len(why) == 0 {
		return "the plan's patch"
	}
	return strings.Join(why, "; ")
}

// patchText is a patch as one line per field set.
func patchText(p patch.Patch) string {
	lines := make([]string, 0, len(p.Changes))
	for _, ch := range p.Changes {
		lines = append(lines, ChangeText(ch))
	}
	return strings.Join(lines, "\n")
}

// ChangeText words a patch change: "containers[web].securityContext.runAsNonRoot: true".
func ChangeText(ch patch.Change) string {
	where := "spec"
	if ch.Container != "" {
		where = fmt.Sprintf("%s[%s]", ch.ContainerKind, ch.Container)
	}
	switch {
	case ch.Annotation != "":
		return fmt.Sprintf("annotation %s: %v", ch.Annotation, ch.Value)
	case ch.Field == "":
		return "remove annotation " + ch.RemoveAnnotation
	}
	return fmt.Sprintf("%s.%s: %s", where, ch.Field, valueText(ch.Value))
}

// labelCheck evaluates the workload as written (what the apiserver will
// get once PSP no longer changes it) against the enforce level of the
// labels its namespace will carry; ok is true when that level rejects it.
// A namespace without an enforce label gets the cluster-wide default the
// plan proposes (baseline), unless it is a system namespace the plan
// leaves unlabelled, which that configuration exempts.
func (c *checker) labelCheck(w *plan.Workload, ns *plan.Namespace) (Finding, bool) {
	if ns == nil || w.Template() == nil || (ns.System && len(ns.Labels) == 0) {
		return Finding{}, false
	}
	lv, from, ok := c.enforceOf(ns)
	if !ok || lv.Level == api.LevelPrivileged {
		return Finding{}, false
	}
	pod := psp.AdmissionPod(w.Namespace, w.Template(), c.accounts[w.Namespace+"/"+w.ServiceAccount])
	c.p.Target.PrepareForAdmission(pod)
	failures := c.eval.Failures(lv, &pod.ObjectMeta, &pod.Spec)
	if len(failures) == 0 {
		return Finding{}, false
	}
	checks := make([]string, len(failures))
	for i, f := range failures {
		checks[i] = f.ID
		if f.Reason != "" {
			checks[i] += " (" + f.Reason + ")"
		}
	}
	fix := "the plan's patch fixes it"
	if pss.Stricter(lv.Level, w.LevelAfterPatch) {
		fix = "even patched it passes only " + string(w.LevelAfterPatch)
	}
	return Finding{Rule: RuleRejectedByLabels, Severity: Error, Namespace: w.Namespace, Workload: w.Ref(),
		Message: fmt.Sprintf("%s: as written, %s %s:%s rejects it: %s; %s",
			w.Ref(), from, lv.Level, lv.Version, strings.Join(checks, "; "), fix)}, true
}

// enforceOf is the enforce level and version the namespace's planned
// labels set, and what sets it.
func (c *checker) enforceOf(ns *plan.Namespace) (api.LevelVersion, string, bool) {
	level, ok := ns.Labels[pss.LevelLabel(pss.Enforce)]
	if !ok {
		v, err := pss.ParseVersion(c.p.PSSVersion)
		if err != nil {
			return api.LevelVersion{}, "", false
		}
		return api.LevelVersion{Level: pss.Baseline, Version: v}, "the cluster-wide default enforce", true
	}
	l, err := api.ParseLevel(level)
	if err != nil {
		return api.LevelVersion{}, "", false
	}
	version := api.LatestVersion()
	if s, ok := ns.Labels[pss.VersionLabel(pss.Enforce)]; ok {
		if version, err = api.ParseVersion(s); err != nil {
			return api.LevelVersion{}, "", false
		}
	}
	return api.LevelVersion{Level: l, Version: version}, "namespace " + ns.Name + "'s enforce", true
}

// restrictionsLost warns, per namespace and PSP, of the restrictions no
// PSS level expresses that no admission policy in the input keeps there.
func (c *checker) restrictionsLost() []Finding {
	var out []Finding
	for i := range c.p.Namespaces {
		ns := &c.p.Namespaces[i]
		if ns.System && len(ns.Labels) == 0 {
			continue
		}
		var order []string
		fields := map[string][]string{}
		for _, ch := range ns.Loosening {
			if c.kept.keeps(c.labelsOf(ns.Name), ch.Policy, ch.Field) {
				continue
			}
			if _, seen := fields[ch.Policy]; !seen {
				order = append(order, ch.Policy)
			}
			fields[ch.Policy] = append(fields[ch.Policy], shortField(ch.Field))
		}
		for _, name := range order {
			f := Finding{Rule: RuleRestrictionLost, Severity: Warning, Namespace: ns.Name, Object: "PodSecurityPolicy " + name,
				Message: fmt.Sprintf("namespace %s: PSP %s restricts %s; no Pod Security level does, and no admission policy in the input keeps it there",
					ns.Name, name, strings.Join(fields[name], ", "))}
			if r := c.p.Policy(name); r != nil {
				f.Location = c.location(r.Source)
			}
			out = append(out, f)
		}
	}
	return out
}

// labelsOf are all the labels of a namespace of the input, with the name
// label the apiserver sets, for admission policy selectors.
func (c *checker) labelsOf(name string) map[string]string {
	labels := map[string]string{corev1.LabelMetadataName: name}
	if c.in.Inventory == nil {
		return labels
	}
	for i := range c.in.Inventory.Namespaces {
		ns := &c.in.Inventory.Namespaces[i]
		if ns.Name == name {
			for k, v := range ns.Labels {
				labels[k] = v
			}
		}
	}
	return labels
}

// shortField names the profile annotations the way people say them.
func shortField(field string) string {
	for prefix, short := range map[string]string{
		"annotations[seccomp.security.alpha.kubernetes.io/": "seccomp ",
		"annotations[apparmor.security.beta.kubernetes.io/": "apparmor ",
	} {
		if rest, ok := strings.CutPrefix(field, prefix); ok {
			return short + strings.TrimSuffix(rest, "]")
		}
	}
	return field
}

func countWord(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
