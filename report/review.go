package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/psp2psa/psp2psa/review"
)

// Formats only review writes: results for CI systems.
const (
	SARIF Format = "sarif"
	JUnit Format = "junit"
)

// ReviewOptions are the choices of a review's rendering.
type ReviewOptions struct {
	// Full writes every namespace and finding in markdown, past the size
	// of one pull-request comment (for --write-dir).
	Full bool
	// Tool names and versions the tool for SARIF.
	Tool ToolInfo
	// FullReportHint says how to get the full report where markdown left
	// parts out ("rerun with --write-dir DIR").
	FullReportHint string
}

// ToolInfo identifies psp2psa in SARIF.
type ToolInfo struct {
	Name, Version, InformationURI string
}

// Review renders a review: the verdict first, in every format.
func Review(w io.Writer, f Format, r *review.Review, o ReviewOptions) error {
	switch f {
	case JSON, YAML:
		return writeData(w, f, r)
	case Markdown:
		return reviewMarkdown(w, r, o)
	case SARIF:
		return reviewSARIF(w, r, o.Tool)
	case JUnit:
		return reviewJUnit(w, r)
	default:
		return reviewText(w, r)
	}
}

func reviewText(w io.Writer, r *review.Review) error {
	ew := &errWriter{w: w}
	ew.printf("%s", wrap("", "  ", r.Verdict.Summary))
	p := r.Plan
	ew.printf("\n%s", wrap("", "", fmt.Sprintf("Pre-upgrade review for kube-apiserver %s (%s), Pod Security Standards %s: %s in %s, %s.",
		r.Target, targetFrom(r.Target.From), r.PSSVersion, countOf(len(p.Workloads), "workload", "workloads"),
		countOf(len(p.Namespaces), "namespace", "namespaces"), countOf(len(p.Policies), "PodSecurityPolicy", "PodSecurityPolicies"))))
	textReviewNamespaces(ew, r)
	textRelabel(ew, r)
	for _, sev := range []review.Severity{review.Error, review.Warning} {
		textReviewFindings(ew, r, sev)
	}
	if !r.Verdict.Ready {
		ew.printf("\n%s", wrap("", "", "Exit code 3: not ready. "+failOnHint(r)))
	}
	return ew.err
}

func failOnHint(r *review.Review) string {
	if r.Verdict.FailOn == review.Warning {
		return "With --fail-on warning every finding counts; --fail-on error counts errors only."
	}
	return "Errors count against the verdict; --fail-on warning counts warnings too."
}

func textReviewNamespaces(ew *errWriter, r *review.Review) {
	if len(r.Namespaces) == 0 {
		return
	}
	ew.printf("\nNamespaces\n")
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  NAMESPACE\tENFORCE\tLABELS\tWORKLOADS\tERRORS\tWARNINGS\n")
	for _, ns := range r.Namespaces {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\n", ns.Name, orDash(ns.Enforce), labelState(ns), len(ns.Workloads), ns.Errors, ns.Warnings)
	}
	ew.flush(tw)
}

func labelState(ns review.Namespace) string {
	switch {
	case ns.LabelsPending:
		return "to set"
	case len(ns.Labels) == 0:
		return "none planned"
	}
	return "set"
}

// textReviewFindings lists the findings of one severity grouped by rule: the
// rule with its count and summary, each finding, then what to do.
func textReviewFindings(ew *errWriter, r *review.Review, sev review.Severity) {
	byRule := groupFindings(r.Findings)
	title := map[review.Severity]string{review.Error: "Errors", review.Warning: "Warnings"}[sev]
	printed := false
	for _, rule := range r.RulesSeen() {
		if rule.Severity != sev {
			continue
		}
		if !printed {
			ew.printf("\n%s\n", title)
			printed = true
		}
		fs := byRule[rule.ID]
		ew.printf("\n%s", wrapf(fmt.Sprintf("  %s (%d): ", rule.ID, len(fs)), rule.Summary))
		for _, f := range fs {
			text := f.Message
			if loc := locationText(f.Location); loc != "" {
				text += " [" + loc + "]"
			}
			ew.printf("%s", wrap("    - ", "      ", text))
			for _, line := range nonEmptyLines(f.Proposal) {
				ew.printf("%s", wrap("        ", "          ", line))
			}
		}
		ew.printf("%s", wrap("    fix: ", "         ", rule.Help))
	}
}

func groupFindings(fs []review.Finding) map[string][]review.Finding {
	out := map[string][]review.Finding{}
	for _, f := range fs {
		out[f.Rule] = append(out[f.Rule], f)
	}
	return out
}

// locationText is "file:line", or "file document N" when the line is
// unknown; "" without a location.
func locationText(l *review.Location) string {
	if l == nil {
		return ""
	}
	if l.Line > 0 {
		return l.File + ":" + strconv.Itoa(l.Line)
	}
	return fmt.Sprintf("%s document %d", l.File, l.Index)
}

func nonEmptyLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
