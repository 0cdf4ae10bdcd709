package review

import (
	"fmt"

	"github.com/psp2psa/psp2psa/hygiene"
)

// hygieneWords say what each security-context issue means.
var hygieneWords = map[string]string{
	hygiene.RunAsUserUnset:      "runAsUser is unset (the image decides the UID, often root)",
	hygiene.RunAsUserRoot:       "runAsUser is 0 (root)",
	hygiene.RunAsGroupUnset:     "runAsGroup is unset (the primary group is the image's, often GID 0)",
	hygiene.RunAsGroupRoot:      "runAsGroup is 0",
	hygiene.FSGroupUnset:        "the pod has volumes but no fsGroup",
	hygiene.RunAsNonRootMissing: "runAsNonRoot is not true",
}

// hygiene warns of each security-context issue of every workload that
// runs, judged on its template once the plan's patch is applied (what the
// plan leaves), with the ID its PSP's ranges propose.
func (c *checker) hygiene() []Finding {
	var out []Finding
	for i := range c.p.Workloads {
		w := &c.p.Workloads[i]
		if w.OwnedBy != "" || (w.Rejected() && !w.Unknown()) || w.PatchedTemplate() == nil {
			continue
		}
		for _, issue := range hygiene.Check(w.PatchedTemplate(), c.policies[w.AdmittedBy]) {
			where := ""
			if len(issue.Containers) > 0 {
				where = " (container " + listWords(issue.Containers, 5) + ")"
				if len(issue.Containers) > 1 {
					where = " (containers " + listWords(issue.Containers, 5) + ")"
				}
			}
			f := Finding{Rule: issue.ID, Severity: Warning, Namespace: w.Namespace, Workload: w.Ref(), Containers: issue.Containers,
				Location: c.location(w.Source), Message: fmt.Sprintf("%s: %s%s", w.Ref(), hygieneWords[issue.ID], where)}
			if p := issue.Pin; p != nil {
				f.Proposal = fmt.Sprintf("spec.%s: %d (%s; plan --pin-ids writes it)", p.Field, p.Value, p.From)
			}
			out = append(out, f)
		}
	}
	return out
}
