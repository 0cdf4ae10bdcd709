package convert

import "testing"

func TestRuleHostNetwork(t *testing.T) {
	runRuleCases(t, "hostNetwork", []ruleCase{
		{name: "hostNetwork false is restricted", patch: `spec: {hostNetwork: false}`, level: "restricted"},
		{
			name:     "hostNetwork true is privileged",
			patch:    `spec: {hostNetwork: true}`,
			level:    "privileged",
			findings: []string{"hostNetwork@baseline: hostNamespaces"},
			messages: []string{"baseline forbids host namespaces"},
		},
	})
}
