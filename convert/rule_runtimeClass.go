package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.runtimeClass ({allowedRuntimeClassNames, defaultRuntimeClassName}).

PSS control: none; no check looks at runtimeClassName. (Exemptions by
runtime class are cluster configuration, not a level.)

Allowed values:
  - baseline: no opinion
  - restricted: no opinion

1.24 admission fills in the default when the pod sets no runtime class and
admits an unset class always, a set one only when listed ("*" lists all).
Witnesses: each allowed class; restrictions: a class not listed.
*/

func init() { register(rule{field: "runtimeClass", analyze: analyzeRuntimeClass}) }

func analyzeRuntimeClass(p *psp.PodSecurityPolicy) analysis {
	rc := p.Spec.RuntimeClass
	if rc == nil {
		return analysis{}
	}
	allowed := rc.AllowedRuntimeClassNames
	allowsAll := slices.Contains(allowed, psp.AllowAllRuntimeClassNames)
	admits := func(name string) bool { return allowsAll || slices.Contains(allowed, name) }
	if rc.DefaultRuntimeClassName != nil && !admits(*rc.DefaultRuntimeClassName) && len(allowed) == 0 {
		return admitsNothing("runtimeClass", "runtimeClass.defaultRuntimeClassName "+*rc.DefaultRuntimeClassName+
			" with no allowedRuntimeClassNames: 1.24 admission gives every pod a class it then rejects, so the PSP admits no pod")
	}
	var a analysis
	for _, name := range allowed {
		if name != psp.AllowAllRuntimeClassNames {
			a.witnesses = append(a.witnesses, runtimeClassChange(name))
		}
	}
	if rc.DefaultRuntimeClassName != nil {
		def := *rc.DefaultRuntimeClassName
		a.mutations = []Mutation{{
			Field:   "runtimeClass.defaultRuntimeClassName",
			Sets:    "pod runtimeClassName: " + def,
			Message: "runtimeClass.defaultRuntimeClassName → pod runtimeClassName: " + def + " when unset",
		}}
	}
	if !allowsAll {
		a.restrictions = []podChange{runtimeClassChange(otherName("other-runtime", allowed))}
		a.explainGap = func(lost []lostRestriction) string {
			only := "no runtime class"
			if len(allowed) > 0 {
				only = "the runtime classes " + strings.Join(allowed, ", ")
			}
			return "runtimeClass.allowedRuntimeClassNames allows only " + only + "; " + levelAllows(strictestAllowing(lost)) + " any"
		}
	}
	return a
}

func runtimeClassChange(name string) podChange {
	return podChange{
		name:  "runtimeClassName " + name,
		apply: func(pod *corev1.Pod) { pod.Spec.RuntimeClassName = new(name) },
	}
}
