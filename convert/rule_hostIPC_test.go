package convert

import "testing"

func TestRuleHostIPC(t *testing.T) {
	runRuleCases(t, "hostIPC", []ruleCase{
		{name: "hostIPC false is restricted", patch: `spec: {hostIPC: false}`, level: "restricted"},
		{
			name:     "hostIPC true is privileged",
			patch:    `spec: {hostIPC: true}`,
			level:    "privileged",
			findings: []string{"hostIPC@baseline: hostNamespaces"},
			messages: []string{"baseline forbids host namespaces"},
		},
	})
}
