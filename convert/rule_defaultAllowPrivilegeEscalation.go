package convert

import (
	"fmt"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.defaultAllowPrivilegeEscalation (*bool).

PSS control: Privilege Escalation (check allowPrivilegeEscalation,
restricted from v1.8).

Allowed values:
  - baseline: no opinion
  - restricted: unset or false (with allowPrivilegeEscalation: false)

1.24 admission writes the value into every container that leaves
allowPrivilegeEscalation unset: true gives those containers
allowPrivilegeEscalation: true (when allowPrivilegeEscalation allows it,
which validation requires).
*/

func init() {
	register(rule{field: "defaultAllowPrivilegeEscalation", analyze: analyzeDefaultAllowPrivilegeEscalation})
}

func analyzeDefaultAllowPrivilegeEscalation(p *psp.PodSecurityPolicy) analysis {
	def := p.Spec.DefaultAllowPrivilegeEscalation
	if def == nil {
		return analysis{}
	}
	sets := fmt.Sprintf("container securityContext.allowPrivilegeEscalation: %t", *def)
	a := analysis{mutations: []Mutation{{
		Field:   "defaultAllowPrivilegeEscalation",
		Sets:    sets,
		Message: fmt.Sprintf("defaultAllowPrivilegeEscalation %t → %s when unset", *def, sets),
	}}}
	if *def && p.Spec.AllowPrivilegeEscalationOrDefault() {
		a.witnesses = []podChange{allowPrivilegeEscalationChange("container left unset gets allowPrivilegeEscalation: true")}
		a.explain = func(findingContext) string {
			return "defaultAllowPrivilegeEscalation: true gives every container that leaves it unset allowPrivilegeEscalation: true; " +
				"restricted requires allowPrivilegeEscalation: false (the docs' table has no opinion on default fields, " +
				"but 1.24 admission writes this one into the pods it admits)"
		}
	}
	return a
}

func allowPrivilegeEscalationChange(name string) podChange {
	return podChange{
		name:  name,
		apply: func(pod *corev1.Pod) { appSecurity(pod).AllowPrivilegeEscalation = new(true) },
	}
}
