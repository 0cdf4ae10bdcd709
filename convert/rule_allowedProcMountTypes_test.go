package convert

import "testing"

func TestRuleAllowedProcMountTypes(t *testing.T) {
	runRuleCases(t, "allowedProcMountTypes", []ruleCase{
		{name: "allowedProcMountTypes Default is restricted", patch: `spec: {allowedProcMountTypes: [Default]}`, level: "restricted", notes: []string{}},
		{
			name:  "allowedProcMountTypes Unmasked has no effect on 1.24 and is noted",
			patch: `spec: {allowedProcMountTypes: [Default, Unmasked]}`,
			level: "restricted",
			notes: []string{"allowedProcMountTypes"},
		},
	})
}
