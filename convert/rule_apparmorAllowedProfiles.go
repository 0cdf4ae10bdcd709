package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP annotation: apparmor.security.beta.kubernetes.io/allowedProfileNames
(comma-separated profile names, no wildcard).

PSS control: AppArmor (check appArmorProfile, baseline).

Allowed values:
  - baseline: runtime/default, localhost/*; containers may leave it unset
  - restricted: same

1.24 admission: without the annotation AppArmor is not checked at all, so
containers may run unconfined (REFERENCE §7), which baseline forbids. With
it, every container needs a listed profile: an unset one is rejected unless
the default profile (rule_apparmorDefaultProfile.go) fills it in. Witness
pods carry the 1.24 container annotation, which PSA checks at every
version.
*/

func init() {
	register(rule{field: annotationField(psp.AppArmorAllowedProfilesAnnotation), analyze: analyzeAppArmorAllowedProfiles})
}

// appArmorPolicy is the 1.24 AppArmor strategy of a PSP.
type appArmorPolicy struct {
	listed  bool
	entries []string // non-empty entries, in order, without repeats
	raw     string
	def     string
}

func appArmorOf(p *psp.PodSecurityPolicy) appArmorPolicy {
	s := appArmorPolicy{def: p.Annotations[psp.AppArmorDefaultProfileAnnotation]}
	s.raw, s.listed = p.Annotations[psp.AppArmorAllowedProfilesAnnotation]
	if s.listed {
		for _, e := range strings.Split(s.raw, ",") {
			if e != "" && !slices.Contains(s.entries, e) {
				s.entries = append(s.entries, e)
			}
		}
	}
	return s
}

// admits is 1.24's validation of a container's profile ("" for none).
func (s appArmorPolicy) admits(profile string) bool {
	return !s.listed || profile != "" && slices.Contains(s.entries, profile)
}

// unsetAdmitted reports whether a container without a profile is admitted,
// with the default profile if there is one.
func (s appArmorPolicy) unsetAdmitted() bool { return s.admits(s.def) }

func (s appArmorPolicy) admitsNothing() bool { return s.listed && len(s.entries) == 0 }

// required is the profile every admitted container needs when an unset one
// is rejected, or "" when it is not.
func (s appArmorPolicy) required() string {
	if s.unsetAdmitted() || len(s.entries) == 0 {
		return ""
	}
	for _, want := range []string{psp.AppArmorProfileRuntimeDefault, psp.AppArmorLocalhostPrefix} {
		for _, e := range s.entries {
			if strings.HasPrefix(e, want) {
				return e
			}
		}
	}
	return s.entries[0]
}

func analyzeAppArmorAllowedProfiles(p *psp.PodSecurityPolicy) analysis {
	s := appArmorOf(p)
	field := annotationField(psp.AppArmorAllowedProfilesAnnotation)
	if s.admitsNothing() {
		return admitsNothing(field, "apparmor allowedProfileNames lists no profile: 1.24 admission rejects every container, so the PSP admits no pod")
	}
	if !s.listed {
		return analysis{
			witnesses: []podChange{appArmorChange(psp.AppArmorProfileNameUnconfined, psp.AppArmorProfileNameUnconfined, false)},
			explain: func(c findingContext) string {
				return "there is no apparmor allowedProfileNames annotation, so 1.24 admission does not check AppArmor and containers may run unconfined; " +
					string(c.level) + " allows only runtime/default and localhost/* profiles"
			},
		}
	}
	required := s.required()
	var notes []Note
	if slices.Contains(strings.Split(s.raw, ","), "") {
		notes = []Note{{Field: field, Message: "apparmor allowedProfileNames has an empty entry (a trailing comma): the docs' table reads it as " +
			"\"unset allowed\", but 1.24 admission rejects a container without a profile whenever the list is set"}}
	}
	a := analysis{
		notes: notes,
		explain: func(c findingContext) string {
			return "apparmor allowedProfileNames allows " + strings.Join(c.witnesses, ", ") + "; " +
				string(c.level) + " allows only runtime/default and localhost/* profiles"
		},
		explainGap: func(lost []lostRestriction) string {
			return "apparmor allowedProfileNames (" + s.raw + ") rejects " + describeLost(lost)
		},
	}
	for _, e := range s.entries {
		a.witnesses = append(a.witnesses, appArmorChange(e, e, e == required))
	}
	for _, profile := range []string{psp.AppArmorProfileRuntimeDefault, otherLocalhostProfile, psp.AppArmorProfileNameUnconfined} {
		if !s.admits(profile) {
			a.restrictions = append(a.restrictions, appArmorChange(localhostName(profile, s.entries), profile, false))
		}
	}
	if !s.unsetAdmitted() {
		a.restrictions = append(a.restrictions, appArmorChange("no AppArmor profile", "", false))
	}
	return a
}

// appArmorChange sets the witness container's profile as the 1.24
// annotation ("" removes it).
func appArmorChange(name, profile string, required bool) podChange {
	return podChange{
		name:     name,
		required: required,
		apply: func(pod *corev1.Pod) {
			setAnnotation(pod, psp.AppArmorContainerAnnotationPrefix+witnessContainerName, profile)
		},
	}
}

// appArmorFieldText words the field form of a 1.24 profile name.
func appArmorFieldText(profile string) string {
	switch {
	case profile == psp.AppArmorProfileRuntimeDefault:
		return "{type: RuntimeDefault}"
	case strings.HasPrefix(profile, psp.AppArmorLocalhostPrefix):
		return "{type: Localhost, localhostProfile: " + strings.TrimPrefix(profile, psp.AppArmorLocalhostPrefix) + "}"
	}
	return "{type: Unconfined}"
}
