package convert

import (
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.hostIPC.

PSS control: Host Namespaces (check hostNamespaces, baseline).

Allowed values:
  - baseline: false or unset
  - restricted: false or unset
*/

func init() { register(rule{field: "hostIPC", analyze: analyzeHostIPC}) }

func analyzeHostIPC(p *psp.PodSecurityPolicy) analysis {
	if !p.Spec.HostIPC {
		return analysis{}
	}
	return analysis{
		witnesses: []podChange{{
			name:  "hostIPC: true",
			apply: func(pod *corev1.Pod) { pod.Spec.HostIPC = true },
		}},
		explain: func(c findingContext) string {
			return "hostIPC: true lets pods use the node's IPC namespace; " + string(c.level) + " forbids host namespaces"
		},
	}
}
