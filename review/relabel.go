package review

import (
	"fmt"
	"strings"

	"github.com/psp2psa/psp2psa/relabel"
)

// relabelFindings warns of each subject that may change Pod Security
// labels (and so choose privileged) where it may use no privileged PSP
// today: one finding per subject and namespace, or cluster-wide, naming
// every grant.
func (c *checker) relabelFindings(r *relabel.Result) []Finding {
	var out []Finding
	out = append(out, c.widened(r.Cluster, RuleClusterRelabel)...)
	for _, s := range r.Namespaces {
		out = append(out, c.widened(s, RuleNamespaceRelabel)...)
	}
	return out
}

func (c *checker) widened(s relabel.Scope, rule string) []Finding {
	var order []string
	by := map[string][]relabel.Grant{}
	for _, g := range s.Widened {
		if _, ok := by[g.Subject]; !ok {
			order = append(order, g.Subject)
		}
		by[g.Subject] = append(by[g.Subject], g)
	}
	where := "every namespace's"
	if s.Namespace != "" {
		where = "namespace " + s.Namespace + "'s"
	}
	var out []Finding
	for _, subject := range order {
		grants := by[subject]
		how := make([]string, len(grants))
		for i, g := range grants {
			how[i] = fmt.Sprintf("%s (%s of %s)", g.Via, g.Binding, g.Role)
		}
		first := grants[0]
		kind := "ClusterRoleBinding"
		if first.BindingNamespace != "" {
			kind = "RoleBinding"
		}
		out = append(out, Finding{
			Rule: rule, Severity: Warning, Namespace: s.Namespace, Object: subject,
			Location: c.objectLocation(kind, first.BindingNamespace, first.BindingName),
			Message: fmt.Sprintf("%s may change %s Pod Security labels, to privileged too, but may use no privileged PSP there today: %s",
				subject, where, strings.Join(how, "; ")),
		})
	}
	return out
}

// privilegedPolicies are the PSPs of the input that admit privileged
// containers.
func (c *checker) privilegedPolicies() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range c.in.Policies {
		if p.PSP.Spec.Privileged && !seen[p.PSP.Name] {
			seen[p.PSP.Name] = true
			out = append(out, p.PSP.Name)
		}
	}
	return out
}
