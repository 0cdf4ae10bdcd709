package convert

import (
	"github.com/psp2psa/psp2psa/psp"
	"k8s.io/pod-security-admission/api"
)

/*
PSP annotation: seccomp.security.alpha.kubernetes.io/defaultProfileName.

PSS controls: Seccomp (check seccompProfile_baseline, baseline; from v1.19
seccompProfile_restricted, restricted).

Allowed values:
  - baseline: unset, runtime/default, docker/default, localhost/*
  - restricted: same

1.24 admission writes the default into every pod that has no profile (as
the pod annotation; the apiserver mirrored it into the field) and then
checks it against allowedProfileNames like any other profile: a default
that is not allowed, or any default without allowedProfileNames, gets
those pods rejected. Without any allowed profile that leaves no pod at all.
*/

func init() {
	register(rule{field: annotationField(psp.SeccompDefaultProfileAnnotation), analyze: analyzeSeccompDefaultProfile})
}

func analyzeSeccompDefaultProfile(p *psp.PodSecurityPolicy) analysis {
	s := seccompOf(p)
	field := annotationField(psp.SeccompDefaultProfileAnnotation)
	switch {
	case s.def == "":
		return analysis{}
	case s.admitsNothing() && !s.listed:
		return admitsNothing(field, "seccomp defaultProfileName "+s.def+" without allowedProfileNames: 1.24 admission writes the default "+
			"into every pod without a profile and then rejects it (seccomp may not be set), and rejects every pod that sets one, so the PSP admits no pod")
	case s.admitsNothing():
		return admitsNothing(field, "seccomp defaultProfileName "+s.def+" is not in allowedProfileNames, which allows no profile: "+
			"1.24 admission rejects every pod, so the PSP admits no pod")
	case !s.defaultApplies():
		return analysis{notes: []Note{{
			Field: field,
			Message: "seccomp defaultProfileName " + s.def + " is not allowed by allowedProfileNames: 1.24 admission writes it into every pod " +
				"without a profile and then rejects the pod, so only pods that set an allowed profile themselves are admitted",
		}}}
	}
	sets := seccompSets(s.def)
	return analysis{
		witnesses: []podChange{seccompChange(s.def+" (the default)", s.def, s.required() == "default")},
		mutations: []Mutation{{
			Field: field,
			Sets:  sets,
			Message: "seccomp defaultProfileName " + s.def + " → " + sets +
				" when neither the pod nor its annotations set a profile",
		}},
		explain: func(c findingContext) string {
			allows := "runtime/default (docker/default) and localhost/* profiles"
			if c.level == api.LevelRestricted {
				allows = "RuntimeDefault and Localhost profiles"
			}
			why := ""
			if c.level == api.LevelRestricted && seccompField(s.def) == nil {
				why = "; the default " + annotationOnlyWhy
			}
			return "seccomp defaultProfileName " + s.def + " gives every pod without a profile that profile; " +
				string(c.level) + " allows only " + allows + why +
				" (the docs' table has no opinion on defaultProfileName, but 1.24 admission writes it into the pods it admits)"
		},
	}
}
