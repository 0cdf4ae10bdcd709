package convert

import (
	"github.com/psp2psa/psp2psa/psp"
)

/*
PSP annotation: apparmor.security.beta.kubernetes.io/defaultProfileName.

PSS control: AppArmor (check appArmorProfile, baseline).

Allowed values:
  - baseline: unset, runtime/default, localhost/*
  - restricted: same

1.24 admission writes the default into every container that has no
profile (as the container annotation; today's form is the appArmorProfile
field) and then checks it against allowedProfileNames when that is set.
*/

func init() {
	register(rule{field: annotationField(psp.AppArmorDefaultProfileAnnotation), analyze: analyzeAppArmorDefaultProfile})
}

func analyzeAppArmorDefaultProfile(p *psp.PodSecurityPolicy) analysis {
	s := appArmorOf(p)
	field := annotationField(psp.AppArmorDefaultProfileAnnotation)
	switch {
	case s.def == "" || s.admitsNothing():
		return analysis{}
	case !s.unsetAdmitted():
		return analysis{notes: []Note{{
			Field: field,
			Message: "apparmor defaultProfileName " + s.def + " is not in allowedProfileNames: 1.24 admission writes it into every container " +
				"without a profile and then rejects the pod, so only pods that set an allowed profile themselves are admitted",
		}}}
	}
	sets := "container securityContext.appArmorProfile: " + appArmorFieldText(s.def)
	return analysis{
		witnesses: []podChange{appArmorChange(s.def+" (the default)", s.def, false)},
		mutations: []Mutation{{
			Field: field,
			Sets:  sets,
			Message: "apparmor defaultProfileName " + s.def + " → " + sets +
				" when the container has no profile (1.24 wrote the annotation container.apparmor.security.beta.kubernetes.io/<container>)",
		}},
		explain: func(c findingContext) string {
			return "apparmor defaultProfileName " + s.def + " gives every container without a profile that profile; " +
				string(c.level) + " allows only runtime/default and localhost/* profiles" +
				" (the docs' table has no opinion on defaultProfileName, but 1.24 admission writes it into the pods it admits)"
		},
	}
}
