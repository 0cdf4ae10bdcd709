package artifacts

import (
	"path/filepath"
	"strings"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
)

// gapDocuments renders, for every PSP that admits at least one counted
// workload of the plan, the documents of one policy engine that keep its
// gaps, joined into one stream after header; nil when no PSP yields any.
// render gets the PSP's conversion, its spec and the namespaces its
// workloads are admitted in, and returns "" when it keeps nothing.
func gapDocuments(p *plan.Plan, policies []psp.Policy, header string,
	render func(r *convert.PolicyResult, spec *psp.PodSecurityPolicy, use namespaceUse) (string, error)) ([]byte, error) {
	byName := map[string]*psp.PodSecurityPolicy{}
	for _, pol := range policies {
		byName[pol.PSP.Name] = pol.PSP // the last one read wins, as in the plan
	}
	use := admittedNamespaces(p)
	var docs []string
	for i := range p.Policies {
		r := &p.Policies[i]
		spec := byName[r.Name]
		if spec == nil || len(use.byPolicy[r.Name]) == 0 {
			continue
		}
		doc, err := render(r, spec, use)
		if err != nil {
			return nil, err
		}
		if doc != "" {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return nil, nil
	}
	return []byte(header + strings.Join(docs, "---\n")), nil
}

// gapFile is DIR/name holding data with what it holds now; ok is false
// when data is nil.
func gapFile(dir, name string, data []byte) (File, bool, error) {
	if data == nil {
		return File{}, false, nil
	}
	files, err := withCurrentContents([]File{newFile(filepath.Join(dir, name), data)})
	if err != nil {
		return File{}, false, err
	}
	return files[0], true, nil
}

// gapComment words what one PSP's documents keep and leave out: the fields
// kept (if any), the lines of notKept, the namespaces matched or the reason
// there are none, and the namespaces left out.
func gapComment(pspName string, kept []string, notKept []string, bound, left []string, unbound string) string {
	lines := []string{"PodSecurityPolicy " + pspName + ":"}
	if len(kept) > 0 {
		lines[0] += " keeps " + strings.Join(kept, ", ") + "."
	}
	lines = append(lines, notKept...)
	if len(bound) > 0 {
		lines = append(lines, "Matches the namespaces whose workloads it admits: "+strings.Join(bound, ", ")+".")
	} else {
		lines = append(lines, unbound)
	}
	for _, l := range left {
		lines = append(lines, "Not matched: "+l+".")
	}
	return "# " + strings.Join(lines, "\n# ") + "\n"
}

// notKeptLines words the gaps no document keeps, with why.
func notKeptLines(gaps []convert.Gap, why func(field string) string) []string {
	var out []string
	for _, g := range gaps {
		out = append(out, "Not kept, "+g.Field+": "+g.Message+". ("+why(g.Field)+")")
	}
	return out
}
