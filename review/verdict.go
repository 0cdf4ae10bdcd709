package review

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/psp2psa/psp2psa/plan"
)

// Verdict statuses.
const (
	StatusReadyText    = "READY"
	StatusNotReadyText = "NOT READY"
)

// verdict counts the findings and words the verdict line: NOT READY with
// the counts of each rule that makes it so, or READY with what remains.
func verdict(findings []Finding, failOn Severity) Verdict {
	v := Verdict{FailOn: failOn, ByRule: map[string]int{}}
	for _, f := range findings {
		v.ByRule[f.Rule]++
		if f.Severity == Error {
			v.Errors++
		} else {
			v.Warnings++
		}
	}
	var blocking []string
	for _, r := range Rules {
		if n := v.ByRule[r.ID]; n > 0 && r.Severity.atLeast(failOn) {
			blocking = append(blocking, r.Count(n))
		}
	}
	totals := fmt.Sprintf("%s, %s", countWord(v.Errors, "error", "errors"), countWord(v.Warnings, "warning", "warnings"))
	v.Ready = len(blocking) == 0
	if v.Ready {
		v.Status = StatusReadyText
		v.Summary = fmt.Sprintf("%s (%s)", StatusReadyText, totals)
		return v
	}
	v.Status = StatusNotReadyText
	v.Summary = fmt.Sprintf("%s: %s (%s)", StatusNotReadyText, strings.Join(blocking, ", "), totals)
	if failOn == Warning {
		v.Summary += "; --fail-on warning"
	}
	return v
}

// namespaceReviews groups the workloads and counts the findings per
// namespace of the plan.
func (c *checker) namespaceReviews(findings []Finding) []Namespace {
	byRef := map[string][2]int{}
	byNS := map[string][2]int{}
	for _, f := range findings {
		i := 1
		if f.Severity == Error {
			i = 0
		}
		if f.Workload != "" {
			n := byRef[f.Workload]
			n[i]++
			byRef[f.Workload] = n
		}
		if f.Namespace != "" {
			n := byNS[f.Namespace]
			n[i]++
			byNS[f.Namespace] = n
		}
	}
	out := make([]Namespace, 0, len(c.p.Namespaces))
	index := map[string]int{}
	for i := range c.p.Namespaces {
		ns := &c.p.Namespaces[i]
		counts := byNS[ns.Name]
		index[ns.Name] = len(out)
		out = append(out, Namespace{
			Name: ns.Name, Enforce: ns.Labels["pod-security.kubernetes.io/enforce"], Labels: ns.Labels, Current: ns.Current,
			LabelsPending: len(pendingLabels(ns)) > 0, System: ns.System, Workloads: []Workload{},
			Errors: counts[0], Warnings: counts[1],
		})
	}
	for i := range c.p.Workloads {
		w := &c.p.Workloads[i]
		pos, ok := index[w.Namespace]
		if !ok {
			continue
		}
		counts := byRef[w.Ref()]
		out[pos].Workloads = append(out[pos].Workloads, Workload{
			Ref: w.Ref(), Kind: w.Kind, Name: w.Name, Status: c.status(w), AdmittedBy: w.AdmittedBy,
			Location: c.location(w.Source), Errors: counts[0], Warnings: counts[1],
		})
	}
	return out
}

func (c *checker) status(w *plan.Workload) string {
	switch {
	case w.OwnedBy != "":
		return StatusOwned
	case c.rejected[w.Ref()]:
		return StatusRejectedByLabels
	case w.Unknown():
		return StatusUnknown
	case w.Rejected():
		return StatusNotAdmitted
	case !w.Patch.Empty():
		return StatusPatchPending
	}
	return StatusReady
}

// valueText renders a patch value as JSON, which reads as YAML flow style.
func valueText(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
