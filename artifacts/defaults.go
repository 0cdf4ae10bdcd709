package artifacts

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/defaults"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
)

// DefaultsPoliciesName is the file, under --write-dir --defaults-as-policy,
// holding the MutatingAdmissionPolicies that write the PSPs' defaults.
const DefaultsPoliciesName = "mutating-admission-policies.yaml"

// DefaultsPoliciesFile returns DIR/mutating-admission-policies.yaml with
// what it holds now, and the workloads (namespace/kind/name) that the
// policies give what their PSP gave them; ok is false when no PSP admitting
// workloads writes a default.
func DefaultsPoliciesFile(p *plan.Plan, policies []psp.Policy, dir string) (f File, relying []string, ok bool, err error) {
	data, relying, err := DefaultsPolicies(p, policies)
	if err != nil {
		return File{}, nil, false, err
	}
	f, ok, err = gapFile(dir, DefaultsPoliciesName, data)
	return f, relying, ok, err
}

// DefaultsPolicies returns, as one multi-document YAML stream, a
// MutatingAdmissionPolicy and its binding for every PSP that admits
// workloads of the plan and writes defaults into pods, bound to the
// namespaces whose workloads only it admits (as the
// ValidatingAdmissionPolicies are), and the workloads it mutated there,
// which rely on the policies where they do not carry the plan's patch.
func DefaultsPolicies(p *plan.Plan, policies []psp.Policy) ([]byte, []string, error) {
	var relying []string
	data, err := gapDocuments(p, policies, defaultsHeader, func(r *convert.PolicyResult, spec *psp.PodSecurityPolicy, use namespaceUse) (string, error) {
		ds := defaults.ForPolicy(spec)
		if len(ds) == 0 {
			return "", nil
		}
		bound, left := use.bound(r.Name)
		var sets []string
		for _, d := range ds {
			sets = append(sets, d.Sets)
		}
		mutated := mutatedWorkloads(p, r.Name, bound)
		relying = append(relying, mutated...)
		lines := []string{"Writes " + strings.Join(sets, "; ") + "."}
		if len(mutated) > 0 {
			lines = append(lines, "Workloads it mutated, which rely on it where they do not carry the plan's patch: "+strings.Join(mutated, ", ")+".")
		}
		var b strings.Builder
		b.WriteString(gapComment(r.Name, nil, lines, bound, left, "No binding: no namespace has only workloads it admits."))
		data, err := renderObject(defaults.Policy(r.Name, ds))
		if err != nil {
			return "", fmt.Errorf("psp %s: mutating policy: %w", r.Name, err)
		}
		b.Write(data)
		if len(bound) > 0 {
			data, err := renderObject(defaults.Binding(r.Name, bound))
			if err != nil {
				return "", fmt.Errorf("psp %s: mutating binding: %w", r.Name, err)
			}
			b.WriteString("---\n")
			b.Write(data)
		}
		return b.String(), nil
	})
	return data, relying, err
}

// mutatedWorkloads are the counted workloads in the namespaces that the
// PSP admits and mutated, as namespace/kind/name.
func mutatedWorkloads(p *plan.Plan, pspName string, namespaces []string) []string {
	var out []string
	for i := range p.Workloads {
		w := &p.Workloads[i]
		if w.AdmittedBy == pspName && w.Mutated && w.OwnedBy == "" && !w.Rejected() && slices.Contains(namespaces, w.Namespace) {
			out = append(out, w.Namespace+"/"+w.Kind+"/"+w.Name)
		}
	}
	return out
}

const defaultsHeader = "# MutatingAdmissionPolicies that write into new pods what their PodSecurityPolicy\n" +
	"# wrote (psp2psa plan --defaults-as-policy), for workloads whose manifests cannot\n" +
	"# carry the plan's patches (third-party charts). One policy per PSP that admits\n" +
	"# workloads and fills values in, bound by kubernetes.io/metadata.name to the\n" +
	"# namespaces whose workloads only it admits. Each value is written only where the\n" +
	"# pod leaves it unset, as PSP did; profiles in field form; unconfined defaults are\n" +
	"# not written.\n" +
	"# Needs Kubernetes 1.36 or later (MutatingAdmissionPolicy v1).\n"
