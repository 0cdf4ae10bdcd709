package convert

import (
	"fmt"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.fsGroup ({rule: MustRunAs|MayRunAs|RunAsAny, ranges}).

PSS control: none; no check looks at fsGroup.

Allowed values:
  - baseline: no opinion
  - restricted: no opinion

Witnesses: fsGroup 0 for RunAsAny, each range's minimum otherwise.
Restrictions: an fsGroup outside the ranges, always a gap. MustRunAs fills
in the first minimum when the pod sets no fsGroup.
*/

func init() { register(rule{field: "fsGroup", analyze: analyzeFSGroup}) }

func analyzeFSGroup(p *psp.PodSecurityPolicy) analysis {
	s := p.Spec.FSGroup
	return groupAnalysis("fsGroup", s.Rule, s.Ranges, func(gid int64) podChange {
		return podChange{
			name:  fmt.Sprintf("fsGroup %d", gid),
			apply: func(pod *corev1.Pod) { podSecurity(pod).FSGroup = new(gid) },
		}
	})
}
