package convert

import (
	"strings"

	"github.com/psp2psa/psp2psa/psp"
)

/*
PSP field: spec.defaultAddCapabilities.

PSS controls: Capabilities (checks capabilities_baseline, baseline, and
capabilities_restricted, restricted from v1.22).

Allowed values:
  - baseline: a subset of AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID,
    KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID,
    SYS_CHROOT
  - restricted: empty, or only NET_BIND_SERVICE

1.24 admission adds these to every container that does not drop them by
name (dropping ALL does not count), so every admitted pod may carry them.
*/

func init() { register(rule{field: "defaultAddCapabilities", analyze: analyzeDefaultAddCapabilities}) }

func analyzeDefaultAddCapabilities(p *psp.PodSecurityPolicy) analysis {
	caps := p.Spec.DefaultAddCapabilities
	if len(caps) == 0 {
		return analysis{}
	}
	a := analysis{
		mutations: []Mutation{{
			Field: "defaultAddCapabilities",
			Sets:  "container securityContext.capabilities.add: [" + strings.Join(capNames(caps), ", ") + "]",
			Message: "defaultAddCapabilities → every container's securityContext.capabilities.add gets " +
				strings.Join(capNames(caps), ", ") + " unless the container drops it by name",
		}},
		explain: func(c findingContext) string {
			return "defaultAddCapabilities adds " + strings.Join(c.witnesses, ", ") +
				" to every container that does not drop it; " + capabilitiesAllowedAt(c.level)
		},
	}
	for _, c := range caps {
		a.witnesses = append(a.witnesses, addCapabilityChange(c))
	}
	return a
}
