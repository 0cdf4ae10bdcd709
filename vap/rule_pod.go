package vap

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
)

/*
PSP fields checked on the pod: spec.forbiddenSysctls, spec.runtimeClass.

  - forbiddenSysctls: no sysctl of the pod's securityContext matches a
    pattern: a name, a prefix ending in "*", or "*" for all. PSS allows
    one fixed safe set per version, so forbidding a safe sysctl is a gap.
  - runtimeClass.allowedRuntimeClassNames: a set runtimeClassName is
    listed ("*" lists all); an unset one is allowed (1.24 filled in the
    default, which validation keeps in the list). PSS does not look at
    runtime classes.
*/

func forbiddenSysctlsRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "forbiddenSysctls"
	patterns := p.Spec.ForbiddenSysctls
	if len(patterns) == 0 {
		return nil
	}
	sysctls := "object.spec.?securityContext.?sysctls.orValue([])"
	if slices.Contains(patterns, "*") {
		return []Rule{{
			Field:      field,
			Expression: "size(" + sysctls + ") == 0",
			Message:    message(p, field, "pods may not set sysctls"),
		}}
	}
	var matches []string
	for _, pattern := range patterns {
		if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
			matches = append(matches, "s.name.startsWith("+quote(prefix)+")")
		} else {
			matches = append(matches, "s.name == "+quote(pattern))
		}
	}
	return []Rule{{
		Field:      field,
		Expression: sysctls + ".all(s, !" + orJoin(matches) + ")",
		Message:    message(p, field, "pods may not set the sysctls "+strings.Join(patterns, ", ")),
	}}
}

func runtimeClassRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "runtimeClass"
	rc := p.Spec.RuntimeClass
	if rc == nil || slices.Contains(rc.AllowedRuntimeClassNames, psp.AllowAllRuntimeClassNames) {
		return nil
	}
	if len(rc.AllowedRuntimeClassNames) == 0 {
		return []Rule{{
			Field:      field,
			Expression: "!has(object.spec.runtimeClassName)",
			Message:    message(p, field, "pods may not set runtimeClassName"),
		}}
	}
	return []Rule{{
		Field:      field,
		Expression: "!has(object.spec.runtimeClassName) || object.spec.runtimeClassName in " + stringList(rc.AllowedRuntimeClassNames),
		Message:    message(p, field, "runtimeClassName must be one of "+strings.Join(rc.AllowedRuntimeClassNames, ", ")),
	}}
}
