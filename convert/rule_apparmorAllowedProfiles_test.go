package convert

import "testing"

func TestRuleAppArmorAllowedProfiles(t *testing.T) {
	const field = "annotations[apparmor.security.beta.kubernetes.io/allowedProfileNames]"
	runRuleCases(t, field, []ruleCase{
		{
			name:  "apparmor runtime/default is restricted and rejecting localhost profiles is a gap",
			level: "restricted",
			gaps:  []string{field},
		},
		{
			name: "apparmor annotations absent admit unconfined and are privileged",
			patch: `metadata: {annotations: {apparmor.security.beta.kubernetes.io/allowedProfileNames: null,
  apparmor.security.beta.kubernetes.io/defaultProfileName: null}}`,
			level:    "privileged",
			findings: []string{field + "@baseline: appArmorProfile"},
			messages: []string{"there is no apparmor allowedProfileNames annotation, so 1.24 admission does not check AppArmor"},
			gaps:     []string{},
		},
		{
			name:     "apparmor allowedProfileNames with unconfined is privileged",
			patch:    `metadata: {annotations: {apparmor.security.beta.kubernetes.io/allowedProfileNames: "runtime/default,unconfined"}}`,
			level:    "privileged",
			findings: []string{field + "@baseline: appArmorProfile"},
			messages: []string{"apparmor allowedProfileNames allows unconfined; baseline allows only runtime/default and localhost/* profiles"},
		},
		{
			name: "apparmor allowedProfileNames with one localhost profile and no default is restricted",
			patch: `metadata: {annotations: {apparmor.security.beta.kubernetes.io/allowedProfileNames: localhost/k8s-app,
  apparmor.security.beta.kubernetes.io/defaultProfileName: null}}`,
			level: "restricted",
			gaps:  []string{field},
		},
		{
			name: "apparmor allowedProfileNames with a trailing comma still requires a profile, unlike the docs' table says",
			patch: `metadata: {annotations: {apparmor.security.beta.kubernetes.io/allowedProfileNames: "runtime/default,",
  apparmor.security.beta.kubernetes.io/defaultProfileName: null}}`,
			level: "restricted",
			notes: []string{field},
			gaps:  []string{field},
		},
		{
			name:  "apparmor allowedProfileNames empty admits no pod",
			patch: `metadata: {annotations: {apparmor.security.beta.kubernetes.io/allowedProfileNames: ""}}`,
			level: "restricted",
			notes: []string{field},
		},
	})
}
