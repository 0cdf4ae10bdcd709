package convert

import "testing"

func TestRuleAllowPrivilegeEscalation(t *testing.T) {
	runRuleCases(t, "allowPrivilegeEscalation", []ruleCase{
		{
			name:      "allowPrivilegeEscalation false is restricted and injects false",
			level:     "restricted",
			mutations: []string{"allowPrivilegeEscalation"},
		},
		{
			name:      "allowPrivilegeEscalation true is baseline",
			patch:     `spec: {allowPrivilegeEscalation: true}`,
			level:     "baseline",
			findings:  []string{"allowPrivilegeEscalation@restricted: allowPrivilegeEscalation"},
			mutations: []string{},
			messages:  []string{"allowPrivilegeEscalation: true lets containers escalate privileges; restricted requires allowPrivilegeEscalation: false"},
		},
		{
			name:     "allowPrivilegeEscalation omitted is true and baseline",
			patch:    `spec: {allowPrivilegeEscalation: null}`,
			level:    "baseline",
			findings: []string{"allowPrivilegeEscalation@restricted: allowPrivilegeEscalation"},
			messages: []string{"allowPrivilegeEscalation is omitted (the apiserver defaults it to true), which lets containers escalate privileges"},
		},
		{
			name:    "allowPrivilegeEscalation true is restricted before v1.8",
			patch:   `spec: {allowPrivilegeEscalation: true}`,
			version: "v1.7",
			level:   "restricted",
		},
	})
}
