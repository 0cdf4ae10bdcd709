package convert

import (
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.privileged.

PSS control: Privileged Containers (check privileged, baseline). A
privileged container escalates by definition, so it also fails
allowPrivilegeEscalation (restricted).

Allowed values:
  - baseline: false or unset
  - restricted: false or unset

1.24 admission: with allowPrivilegeEscalation: false the PSP injects
allowPrivilegeEscalation: false into privileged containers and pod
validation rejects the pair, so such a PSP admits no privileged pod
(REFERENCE §7). The docs' table calls it privileged; this rule follows the
code: no finding, and a note.
*/

func init() { register(rule{field: "privileged", analyze: analyzePrivileged}) }

func analyzePrivileged(p *psp.PodSecurityPolicy) analysis {
	if !p.Spec.Privileged {
		return analysis{}
	}
	if !p.Spec.AllowPrivilegeEscalationOrDefault() {
		return analysis{notes: []Note{{
			Field: "privileged",
			Message: "privileged: true has no effect: with allowPrivilegeEscalation: false, 1.24 admission sets allowPrivilegeEscalation: false " +
				"on privileged containers and pod validation rejects them (the docs' table would call this PSP privileged)",
		}}}
	}
	return analysis{
		witnesses: []podChange{{
			name: "privileged container",
			apply: func(pod *corev1.Pod) {
				sc := appSecurity(pod)
				sc.Privileged = new(true)
				sc.AllowPrivilegeEscalation = new(true)
			},
		}},
		explain: func(c findingContext) string {
			return "privileged: true lets containers run privileged; " + string(c.level) + " forbids privileged containers"
		},
	}
}
