package report

import (
	"fmt"
	"strings"

	"github.com/psp2psa/psp2psa/relabel"
	"github.com/psp2psa/psp2psa/review"
)

// relabelLines lists, per scope with grants, who may change Pod Security
// labels and how, marking those who gain privileged pods by it, then who
// may use a privileged PSP there today. Each entry is one line of text or
// markdown.
func relabelLines(r *relabel.Result) (title string, lines []string) {
	if r == nil {
		return "", nil
	}
	scopes := append([]relabel.Scope{r.Cluster}, r.Namespaces...)
	for _, s := range scopes {
		if len(s.Relabel) == 0 {
			continue
		}
		where := "cluster-wide (every namespace)"
		if s.Namespace != "" {
			where = "namespace " + s.Namespace
		}
		lines = append(lines, where+":")
		widened := map[relabel.Grant]bool{}
		for _, g := range s.Widened {
			widened[g] = true
		}
		for _, g := range s.Relabel {
			line := fmt.Sprintf("  - %s: %s (%s of %s)", g.Subject, g.Via, g.Binding, g.Role)
			if widened[g] {
				line += "; gains privileged pods"
			}
			lines = append(lines, line)
		}
		privileged := strings.Join(s.Privileged, ", ")
		switch {
		case s.Namespace == "" && privileged == "":
			privileged = "system:masters alone"
		case s.Namespace == "":
			privileged += " (and system:masters)"
		case privileged == "":
			privileged = "those cluster-wide alone"
		default:
			privileged += " (and those cluster-wide)"
		}
		lines = append(lines, "  may use a privileged PSP here today: "+privileged)
	}
	title = fmt.Sprintf("Who may change Pod Security labels, and so choose privileged (privileged PSPs, those that admit privileged containers: %s)",
		orDash(pspNames(r.PrivilegedPolicies)))
	return title, lines
}

func textRelabel(ew *errWriter, r *review.Review) {
	title, lines := relabelLines(r.Relabel)
	if len(lines) == 0 {
		return
	}
	ew.printf("\n%s", wrap("", "", title))
	for _, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		indent := "  " + l[:len(l)-len(trimmed)]
		ew.printf("%s", wrap(indent, indent+"    ", trimmed))
	}
}

func mdRelabel(m *mdBudget, r *review.Review) {
	title, lines := relabelLines(r.Relabel)
	if len(lines) == 0 {
		return
	}
	m.share(4)
	open := "\n<details><summary>" + htmlEscape(title) + "</summary>\n\n"
	if !m.add(open) {
		m.leftOut(len(lines), "relabel lines")
		return
	}
	shown := 0
	for _, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		prefix := "- "
		switch {
		case trimmed != l && strings.HasPrefix(trimmed, "- "):
			prefix = "  "
		case trimmed != l:
			prefix = "  - "
		}
		if !m.add(prefix + mdEscape(trimmed) + "\n") {
			break
		}
		shown++
	}
	m.leftOut(len(lines)-shown, "relabel lines")
	m.must("\n</details>\n")
}
