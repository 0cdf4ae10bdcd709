package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// Convert renders the conversion of a set of PSPs.
func Convert(w io.Writer, f Format, r *convert.Result) error {
	switch f {
	case JSON, YAML:
		return writeData(w, f, r)
	case Markdown:
		return convertMarkdown(w, r)
	default:
		return convertText(w, r)
	}
}

// Summary is the one line users read first: the level, then what blocks
// each stricter level, e.g. "privileged; baseline blocked only by seLinux;
// restricted also by volumes (restrictedVolumes)".
func Summary(p *convert.PolicyResult) string {
	parts := []string{string(p.Level)}
	blocked := false
	for _, level := range pss.StricterLevels(p.Level) {
		fields := blockers(p, level)
		switch {
		case len(fields) == 0 && blocked:
			parts = append(parts, string(level)+" blocked by nothing more")
		case len(fields) == 0:
			continue
		case blocked:
			parts = append(parts, string(level)+" also by "+strings.Join(fields, ", "))
		case len(fields) == 1:
			parts = append(parts, string(level)+" blocked only by "+fields[0])
		default:
			parts = append(parts, string(level)+" blocked by "+strings.Join(fields, ", "))
		}
		blocked = true
	}
	return strings.Join(parts, "; ")
}

// blockers lists "field (check, check)" for each field blocking level.
func blockers(p *convert.PolicyResult, level api.Level) []string {
	var out []string
	for _, field := range p.BlockedBy(level) {
		out = append(out, shortField(field)+" ("+strings.Join(checksOf(p, field, level), ", ")+")")
	}
	return out
}

// shortField names the profile annotations the way people say them
// ("seccomp allowedProfileNames") where a line lists many fields.
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

func checksOf(p *convert.PolicyResult, field string, level api.Level) []string {
	var checks []string
	seen := map[string]bool{}
	for _, f := range p.Findings {
		if f.Field != field || f.Level != level {
			continue
		}
		for _, c := range f.Checks {
			if !seen[c] {
				seen[c] = true
				checks = append(checks, c)
			}
		}
	}
	return checks
}

func convertText(w io.Writer, r *convert.Result) error {
	ew := &errWriter{w: w}
	ew.printf("Pod Security Standards version %s; %s\n", r.PSSVersion, countOf(len(r.Policies), "PodSecurityPolicy", "PodSecurityPolicies"))
	for i := range r.Policies {
		p := &r.Policies[i]
		ew.printf("\n%s  (%s)\n", p.Name, sourceText(p))
		ew.printf("  level: %s\n", Summary(p))
		textFindings(ew, p)
		textMutations(ew, p)
		textGaps(ew, p)
		for _, n := range p.Notes {
			ew.printf("  note: %s: %s\n", n.Field, n.Message)
		}
	}
	return ew.err
}

func sourceText(p *convert.PolicyResult) string {
	return fmt.Sprintf("%s document %d, %s", p.Source.File, p.Source.Index, p.APIVersion)
}

func textFindings(ew *errWriter, p *convert.PolicyResult) {
	if len(p.Findings) == 0 {
		return
	}
	ew.printf("  what keeps it from a stricter level:\n")
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "    FIELD\tBLOCKS\tPSA CHECKS\tWHY\n")
	for _, f := range p.Findings {
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", shortField(f.Field), f.Level, strings.Join(f.Checks, ","), f.Message)
	}
	ew.flush(tw)
}

func textMutations(ew *errWriter, p *convert.PolicyResult) {
	if len(p.Mutations) == 0 {
		return
	}
	ew.printf("  injects into pods (%d; workloads must carry these once PSP is gone):\n", len(p.Mutations))
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	for _, m := range p.Mutations {
		fmt.Fprintf(tw, "    %s\t%s\n", shortField(m.Field), m.Sets)
	}
	ew.flush(tw)
}

func textGaps(ew *errWriter, p *convert.PolicyResult) {
	if len(p.Gaps) == 0 {
		return
	}
	ew.printf("  restrictions no PSS level expresses (%d; lost unless enforced another way):\n", len(p.Gaps))
	for _, g := range p.Gaps {
		ew.printf("    %s: %s\n", shortField(g.Field), g.Message)
	}
}

func convertMarkdown(w io.Writer, r *convert.Result) error {
	ew := &errWriter{w: w}
	ew.printf("# PodSecurityPolicy → Pod Security Standards (%s)\n\n", r.PSSVersion)
	ew.printf("| PSP | level | summary |\n|---|---|---|\n")
	for i := range r.Policies {
		p := &r.Policies[i]
		ew.printf("| `%s` | %s | %s |\n", p.Name, p.Level, mdEscape(Summary(p)))
	}
	for i := range r.Policies {
		p := &r.Policies[i]
		ew.printf("\n## `%s`\n\n%s, %s\n\n**%s**\n", p.Name, mdEscape(p.Source.File), p.APIVersion, mdEscape(Summary(p)))
		if len(p.Findings) > 0 {
			ew.printf("\n| field | blocks | PSA checks | why |\n|---|---|---|---|\n")
			for _, f := range p.Findings {
				ew.printf("| `%s` | %s | %s | %s |\n", f.Field, f.Level, strings.Join(f.Checks, ", "), mdEscape(f.Message))
			}
		}
		if len(p.Mutations) > 0 {
			ew.printf("\nInjects into pods:\n\n")
			for _, m := range p.Mutations {
				ew.printf("- `%s` → %s\n", m.Field, mdEscape(m.Sets))
			}
		}
		if len(p.Gaps) > 0 {
			ew.printf("\nNot expressible in PSS:\n\n")
			for _, g := range p.Gaps {
				ew.printf("- `%s`: %s\n", g.Field, mdEscape(g.Message))
			}
		}
		for _, n := range p.Notes {
			ew.printf("\n> Note, `%s`: %s\n", n.Field, mdEscape(n.Message))
		}
	}
	return ew.err
}

// mdEscape keeps table cells intact.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// countOf is "1 thing" or "N things".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
