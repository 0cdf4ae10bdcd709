package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.allowedCapabilities ("*" allows every capability).

PSS controls: Capabilities (checks capabilities_baseline, baseline, and
capabilities_restricted, restricted from v1.22).

Allowed values:
  - baseline: a subset of AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID,
    KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID,
    SYS_CHROOT
  - restricted: empty, or only NET_BIND_SERVICE

Witnesses: a container adding each listed capability (with "*",
SYS_ADMIN). Restrictions: adding a capability of each PSS class that the
PSP neither allows nor adds by default.
*/

func init() { register(rule{field: "allowedCapabilities", analyze: analyzeAllowedCapabilities}) }

// capabilityExamples are one capability beyond baseline, one baseline-only
// and the one restricted allows; the evaluator judges them.
var capabilityExamples = []corev1.Capability{"SYS_ADMIN", "CHOWN", "NET_BIND_SERVICE"}

func analyzeAllowedCapabilities(p *psp.PodSecurityPolicy) analysis {
	allowed := p.Spec.AllowedCapabilities
	a := analysis{
		explain: func(c findingContext) string {
			what := strings.Join(c.witnesses, ", ")
			if slices.Contains(allowed, psp.AllowAllCapabilities) {
				what = "any capability (e.g. SYS_ADMIN)"
			}
			return "allowedCapabilities lets containers add " + what + "; " + capabilitiesAllowedAt(c.level)
		},
		explainGap: func(lost []lostRestriction) string {
			return "allowedCapabilities keeps containers from adding " + describeLost(lost)
		},
	}
	if slices.Contains(allowed, psp.AllowAllCapabilities) {
		a.witnesses = []podChange{addCapabilityChange("SYS_ADMIN")}
		return a
	}
	for _, c := range allowed {
		a.witnesses = append(a.witnesses, addCapabilityChange(c))
	}
	for _, c := range capabilityExamples {
		if !slices.Contains(allowed, c) && !slices.Contains(p.Spec.DefaultAddCapabilities, c) {
			a.restrictions = append(a.restrictions, addCapabilityChange(c))
		}
	}
	return a
}

// addCapabilityChange makes the container add the capability; it keeps
// dropping ALL, so only the addition is judged.
func addCapabilityChange(c corev1.Capability) podChange {
	return podChange{
		name: string(c),
		apply: func(pod *corev1.Pod) {
			if caps := appCapabilities(pod); !slices.Contains(caps.Add, c) {
				caps.Add = append(caps.Add, c)
			}
		},
	}
}
