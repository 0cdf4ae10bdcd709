package convert

import "testing"

func TestRuleAppArmorDefaultProfile(t *testing.T) {
	const field = "annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]"
	const allowed = "annotations[apparmor.security.beta.kubernetes.io/allowedProfileNames]"
	runRuleCases(t, field, []ruleCase{
		{name: "apparmor defaultProfileName runtime/default is restricted and injected", level: "restricted", mutations: []string{field}},
		{
			name:      "apparmor defaultProfileName without allowedProfileNames is injected but unconfined stays allowed",
			patch:     `metadata: {annotations: {apparmor.security.beta.kubernetes.io/allowedProfileNames: null}}`,
			level:     "privileged",
			findings:  []string{allowed + "@baseline: appArmorProfile"},
			mutations: []string{field},
		},
		{
			name: "apparmor defaultProfileName unconfined with unconfined allowed is privileged",
			patch: `metadata: {annotations: {apparmor.security.beta.kubernetes.io/allowedProfileNames: "runtime/default,unconfined",
  apparmor.security.beta.kubernetes.io/defaultProfileName: unconfined}}`,
			level:    "privileged",
			findings: []string{allowed + "@baseline: appArmorProfile", field + "@baseline: appArmorProfile"},
			messages: []string{"apparmor defaultProfileName unconfined gives every container without a profile that profile"},
		},
		{
			name:      "apparmor defaultProfileName that allowedProfileNames does not allow is noted and not injected",
			patch:     `metadata: {annotations: {apparmor.security.beta.kubernetes.io/defaultProfileName: localhost/k8s-app}}`,
			level:     "restricted",
			mutations: []string{},
			notes:     []string{field},
		},
	})
}
