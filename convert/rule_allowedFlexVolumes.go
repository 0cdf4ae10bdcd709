package convert

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.allowedFlexVolumes ([{driver}]).

PSS control: none. PSS judges volumes by type (check restrictedVolumes,
restricted, forbids flexVolume); a level that allows flexVolume allows
every driver.

Allowed values:
  - baseline: no opinion
  - restricted: no opinion

The flexVolume witness belongs to spec.volumes, which uses the first driver
here. This rule only restricts, and only when spec.volumes allows
flexVolume: a driver the list does not name.
*/

func init() { register(rule{field: "allowedFlexVolumes", analyze: analyzeAllowedFlexVolumes}) }

func analyzeAllowedFlexVolumes(p *psp.PodSecurityPolicy) analysis {
	allowed := p.Spec.AllowedFlexVolumes
	if len(allowed) == 0 || !allowsVolumeType(p.Spec, psp.FlexVolume) {
		return analysis{}
	}
	var drivers []string
	for _, f := range allowed {
		drivers = append(drivers, f.Driver)
	}
	other := otherName("example.com/other-flex", drivers)
	return analysis{
		restrictions: []podChange{{
			name: "flexVolume driver " + other,
			apply: func(pod *corev1.Pod) {
				putVolume(pod, corev1.Volume{
					Name:         "witness-flex",
					VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: other}},
				})
			},
		}},
		explainGap: func(lost []lostRestriction) string {
			return "allowedFlexVolumes limits flexVolume drivers to " + strings.Join(drivers, ", ") + "; " +
				levelAllows(strictestAllowing(lost)) + " every driver"
		},
	}
}

// otherName returns a name not in taken, based on base.
func otherName(base string, taken []string) string {
	name := base
	for i := 2; slices.Contains(taken, name); i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}
