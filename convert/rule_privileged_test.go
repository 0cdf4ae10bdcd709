package convert

import "testing"

func TestRulePrivileged(t *testing.T) {
	runRuleCases(t, "privileged", []ruleCase{
		{name: "privileged false is restricted", level: "restricted", notes: []string{}},
		{
			name:  "privileged true is privileged",
			patch: `spec: {privileged: true, allowPrivilegeEscalation: true}`,
			level: "privileged",
			findings: []string{
				"privileged@baseline: privileged",
				"allowPrivilegeEscalation@restricted: allowPrivilegeEscalation",
			},
			messages: []string{"privileged: true lets containers run privileged; baseline forbids privileged containers"},
		},
		{
			name:     "privileged true with allowPrivilegeEscalation omitted is privileged",
			patch:    `spec: {privileged: true, allowPrivilegeEscalation: null}`,
			level:    "privileged",
			findings: []string{"privileged@baseline: privileged", "allowPrivilegeEscalation@restricted: allowPrivilegeEscalation"},
		},
		{
			name:  "privileged true with allowPrivilegeEscalation false admits no privileged pod",
			patch: `spec: {privileged: true}`,
			level: "restricted",
			notes: []string{"privileged"},
		},
	})
}
