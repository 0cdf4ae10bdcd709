package convert

import (
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.hostNetwork.

PSS control: Host Namespaces (check hostNamespaces, baseline).

Allowed values:
  - baseline: false or unset
  - restricted: false or unset
*/

func init() { register(rule{field: "hostNetwork", analyze: analyzeHostNetwork}) }

func analyzeHostNetwork(p *psp.PodSecurityPolicy) analysis {
	if !p.Spec.HostNetwork {
		return analysis{}
	}
	return analysis{
		witnesses: []podChange{{
			name:  "hostNetwork: true",
			apply: func(pod *corev1.Pod) { pod.Spec.HostNetwork = true },
		}},
		explain: func(c findingContext) string {
			return "hostNetwork: true lets pods use the node's network namespace; " + string(c.level) + " forbids host namespaces"
		},
	}
}
