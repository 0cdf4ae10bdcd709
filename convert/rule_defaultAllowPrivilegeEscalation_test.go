package convert

import "testing"

func TestRuleDefaultAllowPrivilegeEscalation(t *testing.T) {
	runRuleCases(t, "defaultAllowPrivilegeEscalation", []ruleCase{
		{name: "defaultAllowPrivilegeEscalation unset is restricted", level: "restricted", mutations: []string{}},
		{
			name:      "defaultAllowPrivilegeEscalation false with allowPrivilegeEscalation false is restricted",
			patch:     `spec: {defaultAllowPrivilegeEscalation: false}`,
			level:     "restricted",
			mutations: []string{"defaultAllowPrivilegeEscalation"},
		},
		{
			name:      "defaultAllowPrivilegeEscalation false with allowPrivilegeEscalation true is baseline",
			patch:     `spec: {defaultAllowPrivilegeEscalation: false, allowPrivilegeEscalation: true}`,
			level:     "baseline",
			findings:  []string{"allowPrivilegeEscalation@restricted: allowPrivilegeEscalation"},
			mutations: []string{"defaultAllowPrivilegeEscalation"},
		},
		{
			name:  "defaultAllowPrivilegeEscalation true is baseline",
			patch: `spec: {defaultAllowPrivilegeEscalation: true, allowPrivilegeEscalation: true}`,
			level: "baseline",
			findings: []string{
				"defaultAllowPrivilegeEscalation@restricted: allowPrivilegeEscalation",
				"allowPrivilegeEscalation@restricted: allowPrivilegeEscalation",
			},
			mutations: []string{"defaultAllowPrivilegeEscalation"},
			messages: []string{"defaultAllowPrivilegeEscalation: true gives every container that leaves it unset allowPrivilegeEscalation: true",
				"the docs' table has no opinion on default fields"},
		},
	})
}
