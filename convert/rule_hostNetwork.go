package convert

import (
	"slices"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.hostNetwork.

PSS controls: Host Namespaces (check hostNamespaces, baseline) and
HostProcess (check windowsHostProcess, baseline).

Allowed values:
  - baseline: false or unset
  - restricted: false or unset

1.24 admission never looked at securityContext.windowsOptions.hostProcess
(beta and on by default in 1.23-1.25), and pod validation only requires
hostNetwork: true for it (REFERENCE §8). So hostNetwork: true also admits
Windows HostProcess pods, which baseline rejects through their own check:
holding such pods out takes baseline for both reasons.
*/

func init() { register(rule{field: "hostNetwork", analyze: analyzeHostNetwork}) }

const hostProcessWitness = "Windows HostProcess pod"

func analyzeHostNetwork(p *psp.PodSecurityPolicy) analysis {
	if !p.Spec.HostNetwork {
		return analysis{}
	}
	return analysis{
		witnesses: []podChange{{
			name:  "hostNetwork: true",
			apply: func(pod *corev1.Pod) { pod.Spec.HostNetwork = true },
		}, {
			name: hostProcessWitness,
			apply: func(pod *corev1.Pod) {
				pod.Spec.HostNetwork = true
				podSecurity(pod).WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: new(true)}
			},
		}},
		explain: func(c findingContext) string {
			msg := "hostNetwork: true lets pods use the node's network namespace"
			forbids := string(c.level) + " forbids host namespaces"
			if slices.Contains(c.witnesses, hostProcessWitness) {
				msg += ", and so lets Windows HostProcess pods in, which need it and which 1.24 admission never checked"
				forbids += " and HostProcess pods"
			}
			return msg + "; " + forbids
		},
	}
}
