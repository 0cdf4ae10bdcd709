package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.requiredDropCapabilities.

PSS control: Capabilities (check capabilities_restricted, restricted from
v1.22).

Allowed values:
  - baseline: no opinion
  - restricted: must include ALL

1.24 admission adds the list to every container's drops, whatever the
container says, and compares names as written: "all" is not "ALL"
(REFERENCE §7), and PSA wants "ALL".
*/

func init() {
	register(rule{field: "requiredDropCapabilities", analyze: analyzeRequiredDropCapabilities})
}

func analyzeRequiredDropCapabilities(p *psp.PodSecurityPolicy) analysis {
	drops := p.Spec.RequiredDropCapabilities
	list := strings.Join(capNames(drops), ", ")
	var a analysis
	if !slices.Contains(drops, "ALL") {
		name := "container drops nothing"
		if len(drops) > 0 {
			name = "container drops only " + list
		}
		a.witnesses = []podChange{{
			name:  name,
			apply: func(pod *corev1.Pod) { appCapabilities(pod).Drop = slices.Clone(drops) },
		}}
		a.explain = func(c findingContext) string {
			what := "requiredDropCapabilities is empty"
			if len(drops) > 0 {
				what = "requiredDropCapabilities drops only " + list
			}
			if slices.ContainsFunc(drops, func(c corev1.Capability) bool { return strings.EqualFold(string(c), "ALL") }) {
				what += " (names are compared as written: PSA wants ALL in capitals)"
			}
			return what + ", so containers keep the runtime's default capabilities; restricted requires dropping ALL"
		}
	}
	if len(drops) == 0 {
		return a
	}
	a.mutations = []Mutation{{
		Field:   "requiredDropCapabilities",
		Sets:    "container securityContext.capabilities.drop: [" + list + "]",
		Message: "requiredDropCapabilities → every container's securityContext.capabilities.drop gets " + list + " added to its own drops",
	}}
	a.restrictions = []podChange{{
		name:  "container drops nothing",
		apply: func(pod *corev1.Pod) { appCapabilities(pod).Drop = nil },
	}}
	a.explainGap = func(lost []lostRestriction) string {
		level := strictestAllowing(lost)
		if level == "restricted" {
			return "requiredDropCapabilities makes every container drop " + list + ", which no PSS level of this version requires"
		}
		return "requiredDropCapabilities makes every container drop " + list + ", which " + string(level) + " does not require"
	}
	return a
}
