package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/psp2psa/psp2psa/review"
)

// CommentLimit is the most characters GitHub takes in one pull-request
// comment; review's markdown stays below it for any cluster.
const CommentLimit = 65536

// footerRoom is kept free for the closing tags and the line that says
// what was left out.
const footerRoom = 1500

// mdBudget writes markdown up to a size, counting what it leaves out.
type mdBudget struct {
	b     strings.Builder
	limit int // 0: no limit
	// section, when not 0, is the size the current section may fill up
	// to, so that one long section leaves room for the others.
	section int
	left    []string
}

// share starts a section that may take 1/parts of the room left.
func (m *mdBudget) share(parts int) {
	if m.limit == 0 {
		return
	}
	m.section = m.b.Len() + (m.limit-footerRoom-m.b.Len())/parts
}

// fits reports whether s can still be written, keeping room for the
// footer and within the current section's share.
func (m *mdBudget) fits(s string) bool {
	if m.limit == 0 {
		return true
	}
	end := m.b.Len() + len(s)
	return end <= m.limit-footerRoom && (m.section == 0 || end <= m.section)
}

// add writes s if it fits.
func (m *mdBudget) add(s string) bool {
	if !m.fits(s) {
		return false
	}
	m.b.WriteString(s)
	return true
}

// must writes s whatever the budget: headings and closing tags, which the
// footer room covers.
func (m *mdBudget) must(s string) { m.b.WriteString(s) }

func (m *mdBudget) leftOut(n int, what string) {
	if n > 0 {
		m.left = append(m.left, fmt.Sprintf("%d %s", n, what))
	}
}

// reviewMarkdown is the review sized for one pull-request comment: the
// verdict, the count of each rule, a table of namespaces, the findings
// grouped by rule and each namespace's workloads, the long parts folded
// in <details>. What does not fit is counted in a last line that says how
// to get the full report.
func reviewMarkdown(w io.Writer, r *review.Review, o ReviewOptions) error {
	m := &mdBudget{limit: CommentLimit}
	if o.Full {
		m.limit = 0
	}
	p := r.Plan
	m.must(fmt.Sprintf("## psp2psa review: %s\n\n**%s**\n\n", r.Verdict.Status, mdEscape(r.Verdict.Summary)))
	m.must(fmt.Sprintf("For kube-apiserver %s (%s), Pod Security Standards %s: %s in %s, %s.\n\n",
		r.Target, targetFrom(r.Target.From), r.PSSVersion, countOf(len(p.Workloads), "workload", "workloads"),
		countOf(len(r.Namespaces), "namespace", "namespaces"), countOf(len(p.Policies), "PodSecurityPolicy", "PodSecurityPolicies")))
	mdRuleTable(m, r)
	mdNamespaceTable(m, r)
	mdRelabel(m, r)
	mdFindings(m, r)
	mdWorkloads(m, r)
	if len(m.left) > 0 {
		hint := o.FullReportHint
		if hint == "" {
			hint = "`psp2psa review --write-dir DIR` writes the full report to `DIR/review.md`"
		}
		m.must(fmt.Sprintf("\n---\n_Left out to fit one comment: %s. %s._\n", strings.Join(m.left, ", "), hint))
	}
	_, err := io.WriteString(w, m.b.String())
	return err
}

func mdRuleTable(m *mdBudget, r *review.Review) {
	seen := r.RulesSeen()
	if len(seen) == 0 {
		m.must("No findings.\n")
		return
	}
	m.must("| rule | severity | findings | what it means |\n|---|---|---|---|\n")
	for _, rule := range seen {
		m.must(fmt.Sprintf("| `%s` | %s | %d | %s |\n", rule.ID, severityText(r, rule.Severity), r.Count(rule.ID), mdEscape(rule.Summary)))
	}
}

// severityText marks the severities that block the verdict.
func severityText(r *review.Review, s review.Severity) string {
	if r.Verdict.Blocking(review.Finding{Severity: s}) {
		return "**" + string(s) + "**"
	}
	return string(s)
}

// mdNamespaceTable is one row per namespace, those with findings first.
func mdNamespaceTable(m *mdBudget, r *review.Review) {
	if len(r.Namespaces) == 0 {
		return
	}
	m.must("\n### Namespaces\n\n| namespace | enforce | labels | workloads | errors | warnings |\n|---|---|---|---|---|---|\n")
	order := byFindings(r.Namespaces)
	m.share(3)
	shown := 0
	for _, i := range order {
		ns := &r.Namespaces[i]
		row := fmt.Sprintf("| `%s` | %s | %s | %d | %d | %d |\n", ns.Name, orDash(ns.Enforce), labelState(*ns), len(ns.Workloads), ns.Errors, ns.Warnings)
		if !m.add(row) {
			break
		}
		shown++
	}
	m.leftOut(len(order)-shown, "namespace rows")
}

// byFindings orders namespaces by errors, then warnings, then name.
func byFindings(nss []review.Namespace) []int {
	order := make([]int, len(nss))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := &nss[order[a]], &nss[order[b]]
		if x.Errors != y.Errors {
			return x.Errors > y.Errors
		}
		return x.Warnings > y.Warnings
	})
	return order
}

// mdFindings folds each rule's findings into one <details>, errors
// first.
func mdFindings(m *mdBudget, r *review.Review) {
	byRule := groupFindings(r.Findings)
	rules := len(r.RulesSeen())
	for _, sev := range []review.Severity{review.Error, review.Warning} {
		title := map[review.Severity]string{review.Error: "Errors", review.Warning: "Warnings"}[sev]
		first := true
		for _, rule := range r.RulesSeen() {
			if rule.Severity != sev {
				continue
			}
			fs := byRule[rule.ID]
			// Each rule's findings may take an equal part of what is left
			// before the workload tables, which keep a part too.
			m.share(rules + 1)
			rules--
			open := fmt.Sprintf("<details><summary><code>%s</code> (%d): %s</summary>\n\n", rule.ID, len(fs), htmlEscape(rule.Summary))
			if first {
				open = "\n### " + title + "\n\n" + open
			}
			if !m.add(open) {
				m.leftOut(len(fs), "findings of "+rule.ID)
				continue
			}
			first = false
			shown := 0
			for _, f := range fs {
				if !m.add(mdFinding(f)) {
					break
				}
				shown++
			}
			m.leftOut(len(fs)-shown, "findings of "+rule.ID)
			m.must(fmt.Sprintf("\nFix: %s\n\n</details>\n", mdEscape(rule.Help)))
		}
	}
}

func mdFinding(f review.Finding) string {
	line := "- " + mdEscape(f.Message)
	if loc := locationText(f.Location); loc != "" {
		line += " (`" + loc + "`)"
	}
	line += "\n"
	for _, l := range nonEmptyLines(f.Proposal) {
		line += "  - `" + strings.ReplaceAll(l, "`", "'") + "`\n"
	}
	return line
}

// mdWorkloads folds each namespace's workloads into a table, namespaces
// with findings first.
func mdWorkloads(m *mdBudget, r *review.Review) {
	m.section = 0
	order := byFindings(r.Namespaces)
	shown := 0
	for k, i := range order {
		ns := &r.Namespaces[i]
		if len(ns.Workloads) == 0 {
			continue
		}
		var b strings.Builder
		if shown == 0 {
			b.WriteString("\n### Workloads by namespace\n\n")
		}
		fmt.Fprintf(&b, "<details><summary>namespace <code>%s</code>: %s, %s, %s</summary>\n\n",
			htmlEscape(ns.Name), countOf(len(ns.Workloads), "workload", "workloads"), countOf(ns.Errors, "error", "errors"), countOf(ns.Warnings, "warning", "warnings"))
		b.WriteString("| workload | status | admitted by | errors | warnings |\n|---|---|---|---|---|\n")
		for _, wl := range ns.Workloads {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %d | %d |\n", wl.Ref, wl.Status, orDash(pspName(wl.AdmittedBy)), wl.Errors, wl.Warnings)
		}
		b.WriteString("\n</details>\n")
		if !m.add(b.String()) {
			left := 0
			for _, j := range order[k:] {
				if len(r.Namespaces[j].Workloads) > 0 {
					left++
				}
			}
			m.leftOut(left, "namespaces' workload tables")
			return
		}
		shown++
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
