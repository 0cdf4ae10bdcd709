package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/psp2psa/psp2psa/nslabels"
)

// Labels renders what apply-labels did per namespace: the labels added,
// changed and kept, the dry run's warnings, and whether it was applied.
func Labels(w io.Writer, f Format, r *nslabels.Report) error {
	switch f {
	case JSON, YAML:
		return writeData(w, f, r)
	case Markdown:
		return labelsMarkdown(w, r)
	default:
		return labelsText(w, r)
	}
}

func labelsHeadline(r *nslabels.Report) string {
	switch {
	case !r.Apply:
		return "server-side dry run, nothing was changed (--apply patches the namespaces)"
	case r.Count(nslabels.Held) > 0:
		return "nothing applied: dry runs returned warnings (--fail-on-warnings)"
	default:
		return "applied"
	}
}

func onCluster(r *nslabels.Report) string {
	if r.Cluster == "" {
		return ""
	}
	return " on " + r.Cluster
}

func labelsSummary(r *nslabels.Report) string {
	var parts []string
	for _, s := range []nslabels.Status{nslabels.Applied, nslabels.DryRun, nslabels.Held, nslabels.Unchanged, nslabels.Missing, nslabels.Failed} {
		if n := r.Count(s); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no namespaces to label")
	}
	return fmt.Sprintf("%s; %d with warnings", strings.Join(parts, ", "), r.WithWarnings())
}

func labelsText(w io.Writer, r *nslabels.Report) error {
	ew := &errWriter{w: w}
	ew.printf("Pod Security labels%s: %s\n", onCluster(r), labelsHeadline(r))
	if len(r.Incomplete) > 0 {
		ew.printf("\nINCOMPLETE: %s\n", strings.Join(r.Incomplete, "; "))
	}
	ew.printf("\n")
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  NAMESPACE\tSTATUS\tADD\tCHANGE\tKEEP\tEQUAL\tWARNINGS\n")
	for i := range r.Namespaces {
		res := &r.Namespaces[i]
		n := actionCounts(res.Labels)
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%d\t%d\n", res.Namespace, res.Status,
			n[nslabels.Add], n[nslabels.Change], n[nslabels.Keep], n[nslabels.Equal], len(res.Warnings))
	}
	ew.flush(tw)
	for i := range r.Namespaces {
		labelsTextDetail(ew, &r.Namespaces[i])
	}
	if len(r.Skipped) > 0 {
		ew.printf("\nNot labelled (no labels planned): %s\n", strings.Join(r.Skipped, ", "))
	}
	ew.printf("\n%s\n", labelsSummary(r))
	return ew.err
}

func labelsTextDetail(ew *errWriter, res *nslabels.Result) {
	lines := labelLines(res)
	if len(lines) == 0 {
		return
	}
	ew.printf("\n  %s\n", res.Namespace)
	for _, l := range lines {
		ew.printf("    %s\n", l)
	}
}

// labelLines are the details worth reading for a namespace: every label
// that differs from the plan, the warnings, the error; equal labels are
// only counted.
func labelLines(res *nslabels.Result) []string {
	var out []string
	if res.Status == nslabels.Missing {
		out = append(out, "not on the cluster: not created, not labelled")
	}
	for _, c := range res.Labels {
		switch c.Action {
		case nslabels.Add:
			out = append(out, fmt.Sprintf("add    %s=%s", c.Key, c.Planned))
		case nslabels.Change:
			out = append(out, fmt.Sprintf("change %s=%s (was %s)", c.Key, c.Planned, c.Live))
		case nslabels.Keep:
			out = append(out, fmt.Sprintf("keep   %s=%s (the plan says %s; --overwrite replaces it)", c.Key, c.Live, c.Planned))
		}
	}
	for _, warning := range res.Warnings {
		out = append(out, "warning: "+warning)
	}
	if res.Error != "" {
		out = append(out, "error: "+res.Error)
	}
	return out
}

func actionCounts(changes []nslabels.LabelChange) map[nslabels.Action]int {
	n := map[nslabels.Action]int{}
	for _, c := range changes {
		n[c.Action]++
	}
	return n
}

func labelsMarkdown(w io.Writer, r *nslabels.Report) error {
	ew := &errWriter{w: w}
	headline := labelsHeadline(r)
	ew.printf("# Pod Security labels%s\n\n%s%s.\n\n", mdEscape(onCluster(r)), strings.ToUpper(headline[:1]), mdEscape(headline[1:]))
	if len(r.Incomplete) > 0 {
		ew.printf("> **Incomplete:** %s\n\n", mdEscape(strings.Join(r.Incomplete, "; ")))
	}
	ew.printf("| namespace | status | add | change | keep | equal | warnings |\n|---|---|---|---|---|---|---|\n")
	for i := range r.Namespaces {
		res := &r.Namespaces[i]
		n := actionCounts(res.Labels)
		ew.printf("| `%s` | %s | %d | %d | %d | %d | %d |\n", res.Namespace, res.Status,
			n[nslabels.Add], n[nslabels.Change], n[nslabels.Keep], n[nslabels.Equal], len(res.Warnings))
	}
	for i := range r.Namespaces {
		res := &r.Namespaces[i]
		if lines := labelLines(res); len(lines) > 0 {
			ew.printf("\n## `%s`\n\n", res.Namespace)
			for _, l := range lines {
				ew.printf("- %s\n", mdEscape(strings.Join(strings.Fields(l), " ")))
			}
		}
	}
	if len(r.Skipped) > 0 {
		ew.printf("\nNot labelled (no labels planned): %s\n", mdEscape(strings.Join(r.Skipped, ", ")))
	}
	ew.printf("\n%s\n", mdEscape(labelsSummary(r)))
	return ew.err
}
