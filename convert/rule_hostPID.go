package convert

import (
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.hostPID.

PSS control: Host Namespaces (check hostNamespaces, baseline).

Allowed values:
  - baseline: false or unset
  - restricted: false or unset
*/

func init() { register(rule{field: "hostPID", analyze: analyzeHostPID}) }

func analyzeHostPID(p *psp.PodSecurityPolicy) analysis {
	if !p.Spec.HostPID {
		return analysis{}
	}
	return analysis{
		witnesses: []podChange{{
			name:  "hostPID: true",
			apply: func(pod *corev1.Pod) { pod.Spec.HostPID = true },
		}},
		explain: func(c findingContext) string {
			return "hostPID: true lets pods use the node's process namespace; " + string(c.level) + " forbids host namespaces"
		},
	}
}
