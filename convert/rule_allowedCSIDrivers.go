package convert

import (
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.allowedCSIDrivers ([{name}]), for inline CSI volumes.

PSS control: none. PSS judges volumes by type (check restrictedVolumes,
restricted, allows csi); every level allows every CSI driver.

Allowed values:
  - baseline: no opinion
  - restricted: no opinion

The csi witness belongs to spec.volumes, which uses the first driver here.
This rule only restricts, and only when spec.volumes allows csi: a driver
the list does not name.
*/

func init() { register(rule{field: "allowedCSIDrivers", analyze: analyzeAllowedCSIDrivers}) }

func analyzeAllowedCSIDrivers(p *psp.PodSecurityPolicy) analysis {
	allowed := p.Spec.AllowedCSIDrivers
	if len(allowed) == 0 || !allowsVolumeType(p.Spec, psp.CSI) {
		return analysis{}
	}
	var drivers []string
	for _, d := range allowed {
		drivers = append(drivers, d.Name)
	}
	other := otherName("other.csi.example.com", drivers)
	return analysis{
		restrictions: []podChange{{
			name: "csi driver " + other,
			apply: func(pod *corev1.Pod) {
				putVolume(pod, corev1.Volume{
					Name:         "witness-csi",
					VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: other}},
				})
			},
		}},
		explainGap: func(lost []lostRestriction) string {
			return "allowedCSIDrivers limits inline CSI volumes to the drivers " + strings.Join(drivers, ", ") + "; " +
				levelAllows(strictestAllowing(lost)) + " every driver"
		},
	}
}
