package artifacts

import (
	"fmt"
	"strings"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/gatekeeper"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
)

// GatekeeperConstraintsName is the file, under --write-dir --gap-policies
// gatekeeper, holding the Gatekeeper Constraints that keep what PSS cannot
// express.
const GatekeeperConstraintsName = "gatekeeper-constraints.yaml"

// GatekeeperConstraintsFile returns DIR/gatekeeper-constraints.yaml with
// what it holds now; ok is false when the plan needs no Constraint.
func GatekeeperConstraintsFile(p *plan.Plan, policies []psp.Policy, dir string, deny bool) (f File, ok bool, err error) {
	data, err := GatekeeperConstraints(p, policies, deny)
	if err != nil {
		return File{}, false, err
	}
	return gapFile(dir, GatekeeperConstraintsName, data)
}

// GatekeeperConstraints returns, as one multi-document YAML stream, the
// Constraints of the gatekeeper-library's pod-security-policy templates
// that keep the gaps of every PSP admitting workloads of the plan, matched
// to the namespaces the ValidatingAdmissionPolicy bindings select; nil when
// there is none. Comments say, per Constraint, where the template checks
// something else than the PSP, and, per PSP, the gaps no template keeps.
// With deny false the Constraints warn, else they deny.
func GatekeeperConstraints(p *plan.Plan, policies []psp.Policy, deny bool) ([]byte, error) {
	return gapDocuments(p, policies, gatekeeperHeader(deny), func(r *convert.PolicyResult, spec *psp.PodSecurityPolicy, use namespaceUse) (string, error) {
		kept, unexpressed := gatekeeper.ForGaps(spec, r.Gaps)
		if len(kept) == 0 {
			return "", nil
		}
		bound, left := use.bound(r.Name)
		var fields []string
		for _, k := range kept {
			fields = append(fields, k.Fields...)
		}
		var b strings.Builder
		b.WriteString(gapComment(r.Name, fields, notKeptLines(unexpressed, gatekeeper.NotExpressed), bound, left,
			"No Constraints: no namespace has only workloads it admits."))
		if len(bound) == 0 {
			return b.String(), nil
		}
		for i, k := range kept {
			if i > 0 {
				b.WriteString("---\n")
			}
			for _, l := range k.Limits {
				b.WriteString("# " + k.Kind + " differs from the PSP: " + l + ".\n")
			}
			data, err := renderObject(gatekeeper.ConstraintFor(r.Name, k, bound, deny))
			if err != nil {
				return "", fmt.Errorf("psp %s: %s constraint: %w", r.Name, k.Kind, err)
			}
			b.Write(data)
		}
		return b.String(), nil
	})
}

func gatekeeperHeader(deny bool) string {
	mode := "enforcementAction warn: a violation is a warning to the client and is listed by\n" +
		"# the audit; nothing is rejected. Once no warnings remain, switch to deny."
	if deny {
		mode = "enforcementAction deny: a violating pod is rejected, as PSP rejected it.\n" +
			"# Start with warn where violations may still appear."
	}
	return strings.Join([]string{
		"# Gatekeeper Constraints that keep PodSecurityPolicy restrictions no Pod Security",
		"# Standards level expresses (psp2psa plan --gap-policies gatekeeper). They need the",
		"# gatekeeper-library's pod-security-policy ConstraintTemplates installed",
		"# (library/pod-security-policy/*/template.yaml). Per PSP that admits workloads, one",
		"# Constraint per template, with the PSP's values as parameters, matching Pods in the",
		"# namespaces whose workloads only that PSP admits.",
		"# " + mode,
		"# They match Pods, as PSP did. An ExpansionTemplate (expansion.gatekeeper.sh) for",
		"# the pod controllers makes them apply to workload templates too.",
		"# Where a template checks something else than the PSP did, a comment above the",
		"# Constraint says so. Values the PSP filled in are not all required: the workload",
		"# patches write them into the templates.",
	}, "\n") + "\n"
}
