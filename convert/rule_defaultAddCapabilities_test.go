package convert

import "testing"

func TestRuleDefaultAddCapabilities(t *testing.T) {
	runRuleCases(t, "defaultAddCapabilities", []ruleCase{
		{name: "defaultAddCapabilities empty is restricted", level: "restricted", mutations: []string{}},
		{
			name:      "defaultAddCapabilities NET_BIND_SERVICE is restricted and injected",
			patch:     `spec: {defaultAddCapabilities: [NET_BIND_SERVICE]}`,
			level:     "restricted",
			mutations: []string{"defaultAddCapabilities"},
		},
		{
			name:      "defaultAddCapabilities CHOWN is baseline",
			patch:     `spec: {defaultAddCapabilities: [CHOWN]}`,
			level:     "baseline",
			findings:  []string{"defaultAddCapabilities@restricted: capabilities_restricted"},
			mutations: []string{"defaultAddCapabilities"},
			messages:  []string{"defaultAddCapabilities adds CHOWN to every container that does not drop it"},
		},
		{
			name:     "defaultAddCapabilities NET_ADMIN is privileged",
			patch:    `spec: {defaultAddCapabilities: [NET_BIND_SERVICE, NET_ADMIN]}`,
			level:    "privileged",
			findings: []string{"defaultAddCapabilities@baseline: capabilities_baseline"},
			messages: []string{"defaultAddCapabilities adds NET_ADMIN to"},
		},
	})
}
