package convert

import "testing"

func TestRuleHostPorts(t *testing.T) {
	runRuleCases(t, "hostPorts", []ruleCase{
		{name: "hostPorts empty is restricted", level: "restricted", gaps: []string{}},
		{
			name:     "hostPorts 80 is privileged and the other ports are a gap",
			patch:    `spec: {hostPorts: [{min: 80, max: 80}]}`,
			level:    "privileged",
			findings: []string{"hostPorts@baseline: hostPorts"},
			gaps:     []string{"hostPorts"},
			messages: []string{"hostPorts allows host ports 80; baseline forbids host ports"},
		},
		{
			name:     "hostPorts 0-65535 is privileged without a gap",
			patch:    `spec: {hostPorts: [{min: 0, max: 65535}]}`,
			level:    "privileged",
			findings: []string{"hostPorts@baseline: hostPorts"},
			gaps:     []string{},
		},
		{
			name:     "hostPorts up to 65536, which 1.24 accepted, is privileged without a gap",
			patch:    `spec: {hostPorts: [{min: 1, max: 65536}]}`,
			level:    "privileged",
			findings: []string{"hostPorts@baseline: hostPorts"},
			gaps:     []string{},
		},
		{
			name:  "hostPorts 0-0 allows no host port and is restricted",
			patch: `spec: {hostPorts: [{min: 0, max: 0}]}`,
			level: "restricted",
		},
	})
}
