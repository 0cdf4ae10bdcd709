package convert

import "testing"

func TestRuleHostPID(t *testing.T) {
	runRuleCases(t, "hostPID", []ruleCase{
		{name: "hostPID false is restricted", patch: `spec: {hostPID: false}`, level: "restricted"},
		{
			name:     "hostPID true is privileged",
			patch:    `spec: {hostPID: true}`,
			level:    "privileged",
			findings: []string{"hostPID@baseline: hostNamespaces"},
			messages: []string{"baseline forbids host namespaces"},
		},
	})
}
