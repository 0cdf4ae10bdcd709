package convert

import (
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.readOnlyRootFilesystem.

PSS control: none; no level requires a read-only root filesystem.

Allowed values:
  - baseline: no opinion
  - restricted: no opinion

true fills in readOnlyRootFilesystem: true where a container leaves it
unset and rejects containers that set false: a mutation and a gap.
*/

func init() { register(rule{field: "readOnlyRootFilesystem", analyze: analyzeReadOnlyRootFilesystem}) }

func analyzeReadOnlyRootFilesystem(p *psp.PodSecurityPolicy) analysis {
	if !p.Spec.ReadOnlyRootFilesystem {
		return analysis{}
	}
	return analysis{
		mutations: []Mutation{{
			Field:   "readOnlyRootFilesystem",
			Sets:    "container securityContext.readOnlyRootFilesystem: true",
			Message: "readOnlyRootFilesystem: true → container securityContext.readOnlyRootFilesystem: true when unset",
		}},
		restrictions: []podChange{{
			name:  "writable root filesystem",
			apply: func(pod *corev1.Pod) { appSecurity(pod).ReadOnlyRootFilesystem = new(false) },
		}},
		explainGap: func(lost []lostRestriction) string {
			return "readOnlyRootFilesystem: true requires read-only root filesystems; " + levelAllows(strictestAllowing(lost)) + " writable ones"
		},
	}
}
