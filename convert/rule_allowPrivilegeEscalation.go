package convert

import (
	"github.com/psp2psa/psp2psa/psp"
)

/*
PSP field: spec.allowPrivilegeEscalation (*bool; omitted means true, the
apiserver's default).

PSS control: Privilege Escalation (check allowPrivilegeEscalation,
restricted from v1.8).

Allowed values:
  - baseline: no opinion
  - restricted: false

false also fills in allowPrivilegeEscalation: false where a container
leaves it unset and defaultAllowPrivilegeEscalation does not say otherwise.
*/

func init() {
	register(rule{field: "allowPrivilegeEscalation", analyze: analyzeAllowPrivilegeEscalation})
}

func analyzeAllowPrivilegeEscalation(p *psp.PodSecurityPolicy) analysis {
	if p.Spec.AllowPrivilegeEscalationOrDefault() {
		what := "allowPrivilegeEscalation: true"
		if p.Spec.AllowPrivilegeEscalation == nil {
			what = "allowPrivilegeEscalation is omitted (the apiserver defaults it to true), which"
		}
		return analysis{
			witnesses: []podChange{allowPrivilegeEscalationChange("allowPrivilegeEscalation: true")},
			explain: func(findingContext) string {
				return what + " lets containers escalate privileges; restricted requires allowPrivilegeEscalation: false"
			},
		}
	}
	if p.Spec.DefaultAllowPrivilegeEscalation != nil {
		return analysis{}
	}
	const sets = "container securityContext.allowPrivilegeEscalation: false"
	return analysis{mutations: []Mutation{{
		Field:   "allowPrivilegeEscalation",
		Sets:    sets,
		Message: "allowPrivilegeEscalation: false → " + sets + " when unset",
	}}}
}
