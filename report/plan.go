package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/internal/parallel"
	"github.com/psp2psa/psp2psa/patch"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/pss"
)

// FileChange is a file as it is and as the plan would write it; New nil
// never happens, Old nil is a new file. Diff, when set, is its unified diff
// already made (Diffed), and Old and New are not read.
type FileChange struct {
	Path     string
	Old, New []byte
	Diff     string
}

// Diffed returns the change with its diff made and without the contents:
// what a report of many files needs to keep of each.
func (c FileChange) Diffed() FileChange {
	return FileChange{Path: c.Path, Diff: diffOf(c)}
}

// Plan renders a migration plan. Text and markdown end with the unified
// diff of every file change; JSON and YAML carry the plan alone.
func Plan(w io.Writer, f Format, p *plan.Plan, changes []FileChange) error {
	switch f {
	case JSON:
		return planJSON(w, p)
	case YAML:
		return writeData(w, f, p)
	case Markdown:
		return planMarkdown(w, p, changes)
	default:
		return planText(w, p, changes)
	}
}

// planJSON writes the plan as writeData does, its workloads one at a time:
// the JSON of a plan of 100,000 workloads is hundreds of megabytes, which
// need not be held at once. The rest of the plan is indented whole, with
// no workload, and the workloads are written where its empty list stands,
// each indented as json.MarshalIndent indents it at that depth.
func planJSON(w io.Writer, p *plan.Plan) error {
	if len(p.Workloads) == 0 {
		return writeData(w, JSON, p)
	}
	shell := *p
	shell.Workloads = []plan.Workload{}
	data, err := json.MarshalIndent(&shell, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	// A top-level key is the only thing on a new line at two spaces: a
	// line break inside a string is escaped.
	const empty = "\n  \"workloads\": []"
	at := bytes.Index(data, []byte(empty))
	if at < 0 {
		return writeData(w, JSON, p)
	}
	ew := &errWriter{w: w}
	ew.Write(data[:at+len(empty)-2])
	ew.Write([]byte("[\n"))
	for i := range p.Workloads {
		item, err := json.MarshalIndent(&p.Workloads[i], "    ", "  ")
		if err != nil {
			return fmt.Errorf("encoding JSON: %w", err)
		}
		if i > 0 {
			ew.Write([]byte(",\n"))
		}
		ew.Write([]byte("    "))
		ew.Write(item)
	}
	ew.Write([]byte("\n  ]"))
	ew.Write(data[at+len(empty):])
	ew.Write([]byte("\n"))
	return ew.err
}

// Diffs renders only the unified diffs of the file changes.
func Diffs(w io.Writer, changes []FileChange) error {
	ew := &errWriter{w: w}
	for _, c := range changes {
		ew.printf("%s", diffOf(c))
	}
	return ew.err
}

func diffOf(c FileChange) string {
	if c.Diff != "" {
		return c.Diff
	}
	oldName := "a/" + c.Path
	if c.Old == nil {
		oldName = "/dev/null"
	}
	return UnifiedDiff(oldName, "b/"+c.Path, c.Old, c.New)
}

func planText(w io.Writer, p *plan.Plan, changes []FileChange) error {
	ew := &errWriter{w: w}
	ew.printf("%s", wrap("", "", fmt.Sprintf("Migration plan for kube-apiserver %s (%s): %s in %s, %s, Pod Security Standards %s",
		p.Target, targetFrom(p.Target.From), countOf(len(p.Workloads), "workload", "workloads"), countOf(len(p.Namespaces), "namespace", "namespaces"),
		countOf(len(p.Policies), "PodSecurityPolicy", "PodSecurityPolicies"), p.PSSVersion)))
	if len(p.Incomplete) > 0 {
		ew.printf("\n")
		textIncomplete(ew, p.Incomplete)
	}
	for _, n := range p.Notes {
		ew.printf("\nNOTE: %s\n", n)
	}
	textPolicies(ew, p)
	textNamespaces(ew, p)
	textWorkloads(ew, p)
	if len(changes) > 0 {
		ew.printf("\nChanges (%s)\n\n", countOf(len(changes), "file", "files"))
		for _, c := range changes {
			ew.printf("%s", diffOf(c))
		}
	}
	return ew.err
}

// splitIncomplete separates the messages about the whole plan from those
// about one namespace or workload.
func splitIncomplete(list []plan.Incomplete) (whole, scoped []string) {
	for _, m := range list {
		if m.Namespace == "" && m.Workload == "" {
			whole = append(whole, m.Message)
		} else {
			scoped = append(scoped, m.Message)
		}
	}
	return whole, scoped
}

const incompleteFooter = "no namespace gets an enforce label from an answer that rests on these: audit and warn only"

// textIncomplete is the INCOMPLETE block: what concerns the whole plan on
// its first line, then each namespace's and workload's missing piece.
func textIncomplete(ew *errWriter, list []plan.Incomplete) {
	whole, scoped := splitIncomplete(list)
	if len(whole) == 0 {
		whole = []string{"the input lacks what these answers rest on"}
	}
	ew.printf("%s", wrap("INCOMPLETE: ", "  ", strings.Join(whole, "; ")))
	for _, m := range scoped {
		ew.printf("%s", wrap("  - ", "    ", m))
	}
	ew.printf("%s", wrap("  (", "   ", incompleteFooter+")"))
}

func mdIncomplete(ew *errWriter, list []plan.Incomplete) {
	if len(list) == 0 {
		return
	}
	whole, scoped := splitIncomplete(list)
	if len(whole) == 0 {
		whole = []string{"the input lacks what these answers rest on"}
	}
	ew.printf("> **Incomplete:** %s\n>\n", mdEscape(strings.Join(whole, "; ")))
	for _, m := range scoped {
		ew.printf("> - %s\n", mdEscape(m))
	}
	ew.printf("> - _%s_\n\n", incompleteFooter)
}

func textPolicies(ew *errWriter, p *plan.Plan) {
	ew.printf("\nPodSecurityPolicies\n")
	for i := range p.Policies {
		r := &p.Policies[i]
		ew.printf("  %s\n", pspName(r.Name))
		ew.printf("%s", wrapf("    level: ", Summary(r)))
		for _, g := range r.Gaps {
			ew.printf("%s", wrap("    not in PSS: ", "      ", shortField(g.Field)+": "+g.Message))
		}
	}
}

func textNamespaces(ew *errWriter, p *plan.Plan) {
	ew.printf("\nNamespaces\n")
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  NAMESPACE\tENFORCE\tAUDIT/WARN\tPSP LEVEL\tWORKLOAD LEVEL\tWORKLOADS\n")
	for i := range p.Namespaces {
		ns := &p.Namespaces[i]
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\n", ns.Name, labelOr(ns, pss.Enforce), labelOr(ns, pss.Warn),
			orDash(string(ns.PSPLevel)), ns.WorkloadLevel, ns.Workloads)
	}
	ew.flush(tw)
	for i := range p.Namespaces {
		textNamespaceDetail(ew, &p.Namespaces[i])
	}
}

func labelOr(ns *plan.Namespace, mode pss.Mode) string {
	if v, ok := ns.Labels[pss.LevelLabel(mode)]; ok {
		return v
	}
	return "-"
}

func textNamespaceDetail(ew *errWriter, ns *plan.Namespace) {
	if len(ns.Policies)+len(ns.Rollout)+len(ns.Tightening)+len(ns.Loosening)+len(ns.Notes) == 0 {
		return
	}
	ew.printf("\n  %s\n", ns.Name)
	if len(ns.Policies) > 0 {
		ew.printf("%s", wrapf("    PSPs its subjects may use: ", pspNames(ns.Policies)))
	}
	for _, s := range ns.Rollout {
		ew.printf("%s", wrapf(fmt.Sprintf("    step %d: ", s.Step), s.Description))
		for _, l := range sortedLabelLines(s.Labels) {
			ew.printf("        %s\n", l)
		}
	}
	if len(ns.Tightening) > 0 {
		ew.printf("%s", wrap("    ", "    ", fmt.Sprintf("stricter than PSP (what the PSPs allowed and %s forbids):", ns.Enforce)))
		for _, c := range ns.Tightening {
			ew.printf("%s", wrap("      - ", "        ", fmt.Sprintf("%s %s (%s): %s", pspName(c.Policy), shortField(c.Field), strings.Join(c.Checks, ","), c.Message)))
		}
	}
	if len(ns.Loosening) > 0 {
		ew.printf("%s", wrap("    ", "    ", "looser than PSP (restrictions no PSS level expresses; the PSP list above words each):"))
		for _, line := range looseningByPolicy(ns.Loosening) {
			ew.printf("%s", wrap("      - ", "        ", line))
		}
	}
	for _, n := range ns.Notes {
		ew.printf("%s", wrap("    note: ", "      ", n))
	}
}

// sortedLabelLines are the labels as "key=value", one per line, by key.
func sortedLabelLines(labels map[string]string) []string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + labels[k]
	}
	return lines
}

// pspName marks a PSP's name as one: the demo's PSPs, like many clusters',
// are called restricted, baseline and privileged, which must never read
// as the Pod Security level of the same name.
func pspName(name string) string {
	if name == "" {
		return ""
	}
	return "psp/" + name
}

func pspNames(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = pspName(n)
	}
	return strings.Join(out, ", ")
}

func textWorkloads(ew *errWriter, p *plan.Plan) {
	ew.printf("\nWorkloads\n")
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  WORKLOAD\tADMITTED BY\tCHANGES\tLEVEL → PATCHED\tUNFIXABLE\n")
	for i := range p.Workloads {
		w := &p.Workloads[i]
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s → %s\t%s\n", w.Ref(), admittedText(w), len(w.Patch.Changes),
			w.LevelBeforePatch, w.LevelAfterPatch, unfixableChecks(w.Unfixable))
	}
	ew.flush(tw)
	// The details are made on all processors and written in order.
	parallel.Ordered(len(p.Workloads), detailChunk, func(i int) string {
		return textWorkloadDetail(&p.Workloads[i])
	}, func(detail string) { ew.printf("%s", detail) })
}

// detailChunk is how many workloads' details are made at a time: enough
// to keep every processor busy, few enough not to hold the whole text.
const detailChunk = 4096

func admittedText(w *plan.Workload) string {
	switch {
	case w.Unknown():
		return "UNKNOWN"
	case w.Rejected():
		return "REJECTED"
	case w.AnnotationAgrees != nil && !*w.AnnotationAgrees:
		return pspName(w.AdmittedBy) + " (annotation says " + pspName(w.Annotation) + ")"
	case len(w.Incomplete) > 0:
		return pspName(w.AdmittedBy) + " (incomplete)"
	}
	return pspName(w.AdmittedBy)
}

func unfixableChecks(u []patch.Unfixable) string {
	if len(u) == 0 {
		return "-"
	}
	checks := make([]string, len(u))
	for i, x := range u {
		checks[i] = x.Check
	}
	return strings.Join(checks, ",")
}

// textWorkloadDetail is a workload's paragraph below the table; empty
// when the table row says it all.
func textWorkloadDetail(w *plan.Workload) string {
	own := ownReasons(w)
	if len(w.Patch.Changes)+len(w.Unfixable)+len(w.Rejections)+len(w.Notes)+len(own) == 0 && (w.AnnotationAgrees == nil || *w.AnnotationAgrees) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n  %s (%s)\n", w.Ref(), w.Source.String())
	for _, line := range workloadDetail(w) {
		b.WriteString(wrap("    ", "      ", line))
	}
	return b.String()
}

// workloadDetail is what the plan says of a workload beyond its table
// row, one entry per line of text or markdown list item.
func workloadDetail(w *plan.Workload) []string {
	var out []string
	if own := ownReasons(w); len(own) > 0 {
		out = append(out, fmt.Sprintf("incomplete: %s (see INCOMPLETE above)", strings.Join(own, ", ")))
	}
	for _, n := range w.Notes {
		out = append(out, "note: "+n)
	}
	if w.AnnotationAgrees != nil && !*w.AnnotationAgrees {
		out = append(out, fmt.Sprintf("the pod's kubernetes.io/psp annotation says %s, the simulation says %s: the input's RBAC or PSPs are incomplete",
			pspName(w.Annotation), orDash(pspName(w.AdmittedBy))))
	}
	for _, r := range w.Rejections {
		out = append(out, fmt.Sprintf("rejected by %s: %s", pspName(r.Policy), strings.Join(r.Reasons, "; ")))
	}
	for _, c := range w.Patch.Changes {
		out = append(out, fmt.Sprintf("set %s: %s (%s)", changePlace(c), valueText(c.Value), c.Reason))
		if c.Warning != "" {
			out = append(out, "warning: "+c.Warning)
		}
	}
	for _, u := range w.Unfixable {
		out = append(out, fmt.Sprintf("cannot fix %s: %s", u.Check, u.Message))
	}
	return out
}

// ownReasons are the reasons the workload is incomplete besides those of
// the whole plan, which the INCOMPLETE block says once.
func ownReasons(w *plan.Workload) []string {
	var out []string
	for _, r := range w.Incomplete {
		if r != plan.ReasonClusterRead && r != plan.ReasonNoPSP {
			out = append(out, r)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func changePlace(c patch.Change) string {
	where := "spec"
	if c.Container != "" {
		where = fmt.Sprintf("%s[%s]", c.ContainerKind, c.Container)
	}
	switch {
	case c.Annotation != "":
		return "annotation " + c.Annotation
	case c.Field == "":
		return "remove annotation " + c.RemoveAnnotation
	}
	return where + "." + c.Field
}

// valueText renders a patch value as JSON, which reads as YAML flow style.
func valueText(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// planMarkdown says all the text says: the tables first, the details of
// each namespace and workload folded in <details>, then the diffs.
func planMarkdown(w io.Writer, p *plan.Plan, changes []FileChange) error {
	ew := &errWriter{w: w}
	ew.printf("# Pod Security migration plan (%s)\n\nFor kube-apiserver %s (%s): %s in %s, %s.\n\n", p.PSSVersion, p.Target, targetFrom(p.Target.From),
		countOf(len(p.Workloads), "workload", "workloads"), countOf(len(p.Namespaces), "namespace", "namespaces"),
		countOf(len(p.Policies), "PodSecurityPolicy", "PodSecurityPolicies"))
	mdIncomplete(ew, p.Incomplete)
	for _, n := range p.Notes {
		ew.printf("> **Note:** %s\n\n", mdEscape(n))
	}
	mdPlanNamespaces(ew, p)
	mdPlanWorkloads(ew, p)
	ew.printf("\n## PodSecurityPolicies\n\n")
	for i := range p.Policies {
		r := &p.Policies[i]
		ew.printf("- `%s`: %s\n", pspName(r.Name), mdEscape(Summary(r)))
		for _, g := range r.Gaps {
			ew.printf("  - not in PSS, `%s`: %s\n", shortField(g.Field), mdEscape(g.Message))
		}
	}
	if len(changes) > 0 {
		ew.printf("\n## Changes (%s)\n\n```diff\n", countOf(len(changes), "file", "files"))
		for _, c := range changes {
			ew.printf("%s", diffOf(c))
		}
		ew.printf("```\n")
	}
	return ew.err
}

func mdPlanNamespaces(ew *errWriter, p *plan.Plan) {
	ew.printf("## Namespaces\n\n| namespace | enforce | audit/warn | PSP level | workload level | workloads | PSPs |\n|---|---|---|---|---|---|---|\n")
	for i := range p.Namespaces {
		ns := &p.Namespaces[i]
		ew.printf("| `%s` | %s | %s | %s | %s | %d | %s |\n", ns.Name, labelOr(ns, pss.Enforce), labelOr(ns, pss.Warn), orDash(string(ns.PSPLevel)),
			ns.WorkloadLevel, ns.Workloads, orDash(pspNames(ns.Policies)))
	}
	for i := range p.Namespaces {
		ns := &p.Namespaces[i]
		if len(ns.Rollout)+len(ns.Tightening)+len(ns.Loosening)+len(ns.Notes) == 0 {
			continue
		}
		ew.printf("\n<details><summary>namespace <code>%s</code></summary>\n\n", htmlEscape(ns.Name))
		for _, s := range ns.Rollout {
			ew.printf("Step %d: %s\n\n```\n%s\n```\n\n", s.Step, mdEscape(s.Description), strings.Join(sortedLabelLines(s.Labels), "\n"))
		}
		if len(ns.Tightening) > 0 {
			ew.printf("Stricter than PSP (what the PSPs allowed and %s forbids):\n\n", ns.Enforce)
			for _, c := range ns.Tightening {
				ew.printf("- `%s` %s (%s): %s\n", pspName(c.Policy), shortField(c.Field), strings.Join(c.Checks, ", "), mdEscape(c.Message))
			}
			ew.printf("\n")
		}
		if len(ns.Loosening) > 0 {
			ew.printf("Looser than PSP (restrictions no PSS level expresses):\n\n")
			for _, line := range looseningByPolicy(ns.Loosening) {
				ew.printf("- %s\n", mdEscape(line))
			}
			ew.printf("\n")
		}
		for _, n := range ns.Notes {
			ew.printf("> Note: %s\n>\n", mdEscape(n))
		}
		ew.printf("\n</details>\n")
	}
}

func mdPlanWorkloads(ew *errWriter, p *plan.Plan) {
	ew.printf("\n## Workloads\n\n| workload | admitted by | mutated | changes | level (as written → patched) | unfixable |\n|---|---|---|---|---|---|\n")
	for i := range p.Workloads {
		wl := &p.Workloads[i]
		ew.printf("| `%s` | %s | %v | %d | %s → %s | %s |\n", wl.Ref(), mdEscape(admittedText(wl)), wl.Mutated, len(wl.Patch.Changes),
			wl.LevelBeforePatch, wl.LevelAfterPatch, unfixableChecks(wl.Unfixable))
	}
	for i := range p.Workloads {
		wl := &p.Workloads[i]
		lines := workloadDetail(wl)
		if len(lines) == 0 {
			continue
		}
		ew.printf("\n<details><summary><code>%s</code> (%s)</summary>\n\n", htmlEscape(wl.Ref()), htmlEscape(wl.Source.String()))
		for _, l := range lines {
			ew.printf("- %s\n", mdEscape(l))
		}
		ew.printf("\n</details>\n")
	}
}

// looseningByPolicy words a namespace's lost restrictions one line per
// PSP, fields only: with thousands of namespaces, the messages belong to
// the PSP, once.
func looseningByPolicy(changes []plan.Change) []string {
	var order []string
	fields := map[string][]string{}
	for _, c := range changes {
		if _, ok := fields[c.Policy]; !ok {
			order = append(order, c.Policy)
		}
		fields[c.Policy] = append(fields[c.Policy], shortField(c.Field))
	}
	lines := make([]string, len(order))
	for i, name := range order {
		lines[i] = pspName(name) + ": " + strings.Join(fields[name], ", ")
	}
	return lines
}

// targetFrom says where a plan's target version came from.
func targetFrom(from string) string {
	switch from {
	case apiserver.FromFlag:
		return "--server-version"
	case apiserver.FromCluster:
		return "the cluster's version"
	case apiserver.FromSnapshot:
		return "the snapshot's version"
	}
	return "the newest this build knows; set --server-version to the cluster's"
}
