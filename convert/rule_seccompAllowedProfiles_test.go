package convert

import (
	"slices"
	"testing"
)

func TestRuleSeccompAllowedProfiles(t *testing.T) {
	const field = "annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]"
	runRuleCases(t, field, []ruleCase{
		{
			name:  "seccomp runtime/default is restricted and rejecting localhost profiles is a gap",
			level: "restricted",
			gaps:  []string{field},
			notes: []string{},
		},
		{
			// The default profile is what keeps such pods in; without it
			// 1.24 rejects them, and restricted does too.
			name:  "seccomp allowedProfileNames runtime/default without a default rejects every pod that names no profile: a note",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/defaultProfileName: null}}`,
			level: "restricted",
			notes: []string{field},
		},
		{
			name: "seccomp annotations absent admit only pods without a profile and are baseline",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: null,
  seccomp.security.alpha.kubernetes.io/defaultProfileName: null}}`,
			level:    "baseline",
			findings: []string{field + "@restricted: seccompProfile_restricted"},
			messages: []string{"there is no seccomp allowedProfileNames annotation, so 1.24 admission admits only pods without a seccomp profile"},
			gaps:     []string{field},
			notes:    []string{},
		},
		{
			name: "seccomp annotations absent are restricted before v1.19, when PSS read the annotations",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: null,
  seccomp.security.alpha.kubernetes.io/defaultProfileName: null}}`,
			version: "v1.18",
			level:   "restricted",
		},
		{
			name: "seccomp allowedProfileNames with a trailing comma and no default is baseline",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: "runtime/default,",
  seccomp.security.alpha.kubernetes.io/defaultProfileName: null}}`,
			level:    "baseline",
			findings: []string{field + "@restricted: seccompProfile_restricted"},
			messages: []string{"has an empty entry and there is no default profile"},
			notes:    []string{},
		},
		{
			name:     "seccomp allowedProfileNames with unconfined is privileged",
			patch:    `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: "runtime/default,unconfined"}}`,
			level:    "privileged",
			findings: []string{field + "@baseline: seccompProfile_baseline"},
			messages: []string{"seccomp allowedProfileNames allows unconfined; baseline allows only"},
		},
		{
			name:     "seccomp allowedProfileNames with unconfined is privileged before v1.19 through the annotation",
			patch:    `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: "runtime/default,unconfined"}}`,
			version:  "v1.18",
			level:    "privileged",
			findings: []string{field + "@baseline: seccompProfile_baseline"},
		},
		{
			name:     "seccomp allowedProfileNames * is privileged",
			patch:    `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: "*"}}`,
			level:    "privileged",
			findings: []string{field + "@baseline: seccompProfile_baseline"},
			messages: []string{"seccomp allowedProfileNames * allows any profile, unconfined included"},
			gaps:     []string{},
		},
		{
			name: "seccomp allowedProfileNames with one localhost profile and no default is restricted",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: localhost/profiles/app.json,
  seccomp.security.alpha.kubernetes.io/defaultProfileName: null}}`,
			level: "restricted",
			gaps:  []string{field},
			notes: []string{field},
		},
		{
			name: "seccomp allowedProfileNames localhost/ without a profile name is baseline: the stored pod has no seccompProfile field",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: localhost/,
  seccomp.security.alpha.kubernetes.io/defaultProfileName: null}}`,
			level:    "baseline",
			findings: []string{field + "@restricted: seccompProfile_restricted"},
			messages: []string{"seccomp allowedProfileNames allows localhost/, but localhost/ names no profile and so has no seccompProfile field form"},
		},
		{
			name: "seccomp allowedProfileNames localhost/ without a profile name is restricted before v1.19, when PSS read the annotation",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: localhost/,
  seccomp.security.alpha.kubernetes.io/defaultProfileName: null}}`,
			version: "v1.18",
			level:   "restricted",
		},
		{
			name: "seccomp docker/default is runtime/default",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: docker/default,
  seccomp.security.alpha.kubernetes.io/defaultProfileName: docker/default}}`,
			level: "restricted",
		},
	})
}

func TestSeccompAllowListWithoutDefaultNote(t *testing.T) {
	p := patchedPSP(t, basePSP, `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: "runtime/default,localhost/app.json",
  seccomp.security.alpha.kubernetes.io/defaultProfileName: null}}`)
	got := Convert(p, version(t, "latest"))
	want := []Note{{
		Field: "annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]",
		Message: "seccomp allowedProfileNames (runtime/default,localhost/app.json) does not allow an unset profile and there is no defaultProfileName: " +
			"1.24 admission rejects every pod that names no seccomp profile, so only workloads that set an allowed profile themselves run under this PSP",
	}}
	if !slices.Equal(got.Notes, want) {
		t.Errorf("notes = %+v, want %+v", got.Notes, want)
	}
}
