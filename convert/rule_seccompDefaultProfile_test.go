package convert

import "testing"

func TestRuleSeccompDefaultProfile(t *testing.T) {
	const field = "annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]"
	const allowed = "annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]"
	runRuleCases(t, field, []ruleCase{
		{name: "seccomp defaultProfileName runtime/default is restricted and injected", level: "restricted", mutations: []string{field}},
		{
			name: "seccomp defaultProfileName unconfined with unconfined allowed (the docs' baseline PSP) is privileged",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: "docker/default,runtime/default,unconfined",
  seccomp.security.alpha.kubernetes.io/defaultProfileName: unconfined}}`,
			level:     "privileged",
			findings:  []string{allowed + "@baseline: seccompProfile_baseline", field + "@baseline: seccompProfile_baseline"},
			mutations: []string{field},
			messages:  []string{"seccomp defaultProfileName unconfined gives every pod without a profile that profile"},
		},
		{
			name: "seccomp defaultProfileName localhost/ without a profile name is injected as the annotation only and is baseline",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: localhost/,
  seccomp.security.alpha.kubernetes.io/defaultProfileName: localhost/}}`,
			level:     "baseline",
			findings:  []string{allowed + "@restricted: seccompProfile_restricted", field + "@restricted: seccompProfile_restricted"},
			mutations: []string{field},
			messages:  []string{"seccomp defaultProfileName localhost/ gives every pod without a profile that profile; restricted allows only RuntimeDefault and Localhost profiles; the default localhost/ names no profile"},
		},
		{
			name:  "seccomp defaultProfileName without allowedProfileNames admits no pod",
			patch: `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: null}}`,
			level: "restricted",
			notes: []string{field},
		},
		{
			name:      "seccomp defaultProfileName that allowedProfileNames does not allow is noted and not injected",
			patch:     `metadata: {annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: localhost/app.json}}`,
			level:     "restricted",
			mutations: []string{},
			notes:     []string{field},
		},
	})
}
