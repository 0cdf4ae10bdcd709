package convert

import (
	"fmt"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.supplementalGroups ({rule: MustRunAs|MayRunAs|RunAsAny, ranges}).

PSS control: none; no check looks at supplementalGroups.

Allowed values:
  - baseline: no opinion
  - restricted: no opinion

Witnesses: group 0 for RunAsAny, each range's minimum otherwise.
Restrictions: a group outside the ranges, always a gap. MustRunAs fills in
the first minimum when the pod sets no supplemental groups.
*/

func init() { register(rule{field: "supplementalGroups", analyze: analyzeSupplementalGroups}) }

func analyzeSupplementalGroups(p *psp.PodSecurityPolicy) analysis {
	s := p.Spec.SupplementalGroups
	return groupAnalysis("supplementalGroups", s.Rule, s.Ranges, func(gid int64) podChange {
		return podChange{
			name:  fmt.Sprintf("supplemental group %d", gid),
			apply: func(pod *corev1.Pod) { podSecurity(pod).SupplementalGroups = []int64{gid} },
		}
	})
}
