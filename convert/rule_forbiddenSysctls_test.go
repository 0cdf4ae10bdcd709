package convert

import "testing"

func TestRuleForbiddenSysctls(t *testing.T) {
	runRuleCases(t, "forbiddenSysctls", []ruleCase{
		{name: "forbiddenSysctls empty is restricted", level: "restricted", gaps: []string{}},
		{
			name:  "forbiddenSysctls * is restricted and forbidding the safe sysctls is a gap",
			patch: `spec: {forbiddenSysctls: ["*"]}`,
			level: "restricted",
			gaps:  []string{"forbiddenSysctls"},
		},
		{
			name:  "forbiddenSysctls of an unsafe sysctl is restricted without a gap",
			patch: `spec: {forbiddenSysctls: [kernel.msgmax]}`,
			level: "restricted",
			gaps:  []string{},
		},
		{
			name:     "forbiddenSysctls of an unsafe sysctl is a gap when other unsafe sysctls are allowed",
			patch:    `spec: {allowedUnsafeSysctls: [kernel.sem], forbiddenSysctls: [kernel.msgmax]}`,
			level:    "privileged",
			findings: []string{"allowedUnsafeSysctls@baseline: sysctls"},
			gaps:     []string{"forbiddenSysctls"},
		},
	})
}
