package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
)

/*
PSP annotation: seccomp.security.alpha.kubernetes.io/allowedProfileNames
(comma-separated; "*" allows any profile, an empty entry such as a trailing
comma allows no profile; docker/default and runtime/default are the same).

PSS controls: Seccomp (check seccompProfile_baseline, baseline; from v1.19
seccompProfile_restricted, restricted). Before v1.19 PSS read the seccomp
annotations, from v1.19 the seccompProfile fields; a 1.24 apiserver kept
both in sync, so witnesses set both.

Allowed values:
  - baseline: runtime/default, docker/default, localhost/*, and the empty
    entry (pods without a profile)
  - restricted: runtime/default, docker/default, localhost/*

1.24 admission: without the annotation only pods without a profile are
admitted (any profile is "seccomp may not be set"), which restricted
rejects from v1.19. A pod without a profile gets the default profile
(rule_seccompDefaultProfile.go), so it stays unset only when there is none.

The other way round, an allow-list with no empty entry and no "*" and no
default profile rejects every pod that names no profile: only workloads
that set an allowed profile themselves run today. The table reads such a
list as restricted and says nothing about the pods it keeps out; a note
does. (Restricted rejects those pods too, baseline does not: when baseline
is the level, the lost restriction is also a gap.)
*/

func init() {
	register(rule{field: annotationField(psp.SeccompAllowedProfilesAnnotation), analyze: analyzeSeccompAllowedProfiles})
}

// seccompPolicy is the 1.24 seccomp strategy of a PSP.
type seccompPolicy struct {
	listed  bool            // the allowedProfileNames annotation is present
	entries []string        // its entries in order, "*" left out
	allowed map[string]bool // as 1.24 parsed them
	any     bool            // "*" is listed
	def     string          // defaultProfileName
}

func seccompOf(p *psp.PodSecurityPolicy) seccompPolicy {
	s := seccompPolicy{allowed: map[string]bool{}, def: p.Annotations[psp.SeccompDefaultProfileAnnotation]}
	raw, listed := p.Annotations[psp.SeccompAllowedProfilesAnnotation]
	s.listed = listed
	if !listed {
		return s
	}
	for _, entry := range strings.Split(raw, ",") {
		if entry == psp.AllowAllProfiles {
			s.any = true
			continue
		}
		if entry == psp.SeccompProfileDockerDefault || entry == psp.SeccompProfileRuntimeDefault {
			s.allowed[psp.SeccompProfileDockerDefault] = true
			s.allowed[psp.SeccompProfileRuntimeDefault] = true
		}
		s.allowed[entry] = true
		s.entries = append(s.entries, entry)
	}
	return s
}

// admits is 1.24's validation of a pod's effective profile ("" for none).
func (s seccompPolicy) admits(profile string) bool {
	if !s.any && len(s.allowed) == 0 && profile != "" {
		return false
	}
	return (len(s.allowed) == 0 && profile == "") || s.any || s.allowed[profile]
}

// explicitProfiles are the profiles a pod may set itself, one per
// distinct profile; "*" stands for unconfined.
func (s seccompPolicy) explicitProfiles() []string {
	var out []string
	for _, e := range s.entries {
		if e == psp.SeccompProfileDockerDefault {
			e = psp.SeccompProfileRuntimeDefault
		}
		if e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if s.any && !slices.Contains(out, psp.SeccompProfileNameUnconfined) {
		out = append(out, psp.SeccompProfileNameUnconfined)
	}
	return out
}

// unsetStaysUnset reports whether a pod without a profile is admitted
// without one.
func (s seccompPolicy) unsetStaysUnset() bool { return s.def == "" && s.admits("") }

// defaultApplies reports whether a pod without a profile is admitted with
// the default profile.
func (s seccompPolicy) defaultApplies() bool { return s.def != "" && s.admits(s.def) }

func (s seccompPolicy) admitsNothing() bool {
	return len(s.explicitProfiles()) == 0 && !s.unsetStaysUnset() && !s.defaultApplies()
}

// required names the witness every admitted pod needs when the clean
// pod's runtime/default is rejected: "" when it is not, else a profile,
// "unset" or "default".
func (s seccompPolicy) required() string {
	if s.admits(psp.SeccompProfileRuntimeDefault) {
		return ""
	}
	explicit := s.explicitProfiles()
	for _, p := range explicit {
		if strings.HasPrefix(p, psp.SeccompLocalhostProfilePrefix) {
			return p
		}
	}
	switch {
	case s.unsetStaysUnset():
		return "unset"
	case s.defaultApplies():
		return "default"
	case len(explicit) > 0:
		return explicit[0]
	}
	return ""
}

func analyzeSeccompAllowedProfiles(p *psp.PodSecurityPolicy) analysis {
	s := seccompOf(p)
	if s.admitsNothing() {
		return analysis{} // the default profile's rule says why
	}
	required := s.required()
	var a analysis
	if s.listed && s.def == "" && !s.admits("") {
		a.notes = append(a.notes, Note{
			Field: annotationField(psp.SeccompAllowedProfilesAnnotation),
			Message: "seccomp allowedProfileNames (" + p.Annotations[psp.SeccompAllowedProfilesAnnotation] + ") does not allow an unset profile " +
				"and there is no defaultProfileName: 1.24 admission rejects every pod that names no seccomp profile, " +
				"so only workloads that set an allowed profile themselves run under this PSP",
		})
	}
	for _, profile := range s.explicitProfiles() {
		a.witnesses = append(a.witnesses, seccompChange(profile, profile, required == profile))
	}
	if s.unsetStaysUnset() {
		a.witnesses = append(a.witnesses, seccompChange("no seccomp profile", "", required == "unset"))
	}
	a.explain = func(c findingContext) string { return explainSeccompAllowed(s, c) }

	for _, profile := range []string{psp.SeccompProfileRuntimeDefault, otherLocalhostProfile, psp.SeccompProfileNameUnconfined} {
		if !s.admits(profile) {
			a.restrictions = append(a.restrictions, seccompChange(localhostName(profile, s.entries), profile, false))
		}
	}
	if !s.unsetStaysUnset() && !s.defaultApplies() {
		a.restrictions = append(a.restrictions, seccompChange("no seccomp profile", "", false))
	}
	a.explainGap = func(lost []lostRestriction) string {
		if !s.listed {
			return "without a seccomp allowedProfileNames annotation 1.24 admission rejects every seccomp profile: " + describeLost(lost)
		}
		return "seccomp allowedProfileNames (" + p.Annotations[psp.SeccompAllowedProfilesAnnotation] + ") rejects " + describeLost(lost)
	}
	return a
}

func explainSeccompAllowed(s seccompPolicy, c findingContext) string {
	if c.level == api.LevelBaseline {
		what := "seccomp allowedProfileNames allows " + strings.Join(c.witnesses, ", ")
		if s.any {
			what = "seccomp allowedProfileNames * allows any profile, unconfined included"
		}
		return what + "; baseline allows only runtime/default (docker/default) and localhost/* profiles"
	}
	why := "seccomp allowedProfileNames has an empty entry and there is no default profile, so pods may run without a seccomp profile " +
		"(a trailing comma also makes a 1.24 apiserver reject the PSP; an empty annotation does not)"
	switch {
	case !s.listed:
		why = "there is no seccomp allowedProfileNames annotation, so 1.24 admission admits only pods without a seccomp profile"
	case s.any:
		why = "seccomp allowedProfileNames * with no default profile lets pods run without a seccomp profile"
	}
	var whys []string
	if slices.Contains(c.witnesses, psp.SeccompLocalhostProfilePrefix) {
		whys = append(whys, "seccomp allowedProfileNames allows localhost/, but "+annotationOnlyWhy)
	}
	if len(whys) < len(c.witnesses) {
		whys = append(whys, why)
	}
	return strings.Join(whys, "; ") + "; restricted requires a RuntimeDefault or Localhost profile"
}

// otherLocalhostProfile stands for the localhost profiles a PSP does not
// list.
const otherLocalhostProfile = "localhost/psp2psa-other-profile"

// localhostName names a profile restriction for messages: the made-up
// localhost profile stands for every localhost profile not listed.
func localhostName(profile string, listed []string) string {
	if profile != otherLocalhostProfile {
		return profile
	}
	for _, e := range listed {
		if strings.HasPrefix(e, "localhost/") {
			return "other localhost/* profiles"
		}
	}
	return "localhost/* profiles"
}

// seccompChange gives the pod the profile both as the 1.24 annotation and
// as the field ("" removes both).
func seccompChange(name, profile string, required bool) podChange {
	return podChange{
		name:     name,
		required: required,
		apply: func(pod *corev1.Pod) {
			setAnnotation(pod, psp.SeccompPodAnnotation, profile)
			podSecurity(pod).SeccompProfile = seccompField(profile)
		},
	}
}

// seccompField is the field form of a 1.24 profile name, as the 1.24
// apiserver derived it from the annotation it stored
// (podutil.SeccompFieldForAnnotation). "localhost/" without a profile
// name has none: the pod keeps the annotation only, which PSS reads only
// before v1.19.
func seccompField(profile string) *corev1.SeccompProfile {
	switch {
	case profile == "":
		return nil
	case profile == psp.SeccompProfileRuntimeDefault || profile == psp.SeccompProfileDockerDefault:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case strings.HasPrefix(profile, psp.SeccompLocalhostProfilePrefix):
		name := strings.TrimPrefix(profile, psp.SeccompLocalhostProfilePrefix)
		if name == "" {
			return nil
		}
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &name}
	}
	return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
}

// annotationOnlyWhy says why localhost/, which names no profile, fails
// restricted.
const annotationOnlyWhy = "localhost/ names no profile and so has no seccompProfile field form: the apiserver keeps it " +
	"as the pod annotation only, which PSS reads only before v1.19"

// seccompSets words what a PSP default writes into a pod as it ends up
// stored: the field, or the annotation for a profile without a field form.
func seccompSets(profile string) string {
	f := seccompField(profile)
	switch {
	case f == nil:
		return "pod annotation " + psp.SeccompPodAnnotation + ": " + profile + " (no seccompProfile field form)"
	case f.LocalhostProfile != nil:
		return "pod securityContext.seccompProfile: {type: Localhost, localhostProfile: " + *f.LocalhostProfile + "}"
	}
	return "pod securityContext.seccompProfile: {type: " + string(f.Type) + "}"
}
