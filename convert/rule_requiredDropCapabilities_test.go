package convert

import "testing"

func TestRuleRequiredDropCapabilities(t *testing.T) {
	runRuleCases(t, "requiredDropCapabilities", []ruleCase{
		{
			name:      "requiredDropCapabilities ALL is restricted and injected",
			level:     "restricted",
			mutations: []string{"requiredDropCapabilities"},
			gaps:      []string{},
		},
		{
			name:      "requiredDropCapabilities empty is baseline",
			patch:     `spec: {requiredDropCapabilities: null}`,
			level:     "baseline",
			findings:  []string{"requiredDropCapabilities@restricted: capabilities_restricted"},
			mutations: []string{},
			messages:  []string{"requiredDropCapabilities is empty, so containers keep the runtime's default capabilities; restricted requires dropping ALL"},
		},
		{
			name:      "requiredDropCapabilities NET_RAW only is baseline and dropping NET_RAW is a gap",
			patch:     `spec: {requiredDropCapabilities: [NET_RAW]}`,
			level:     "baseline",
			findings:  []string{"requiredDropCapabilities@restricted: capabilities_restricted"},
			mutations: []string{"requiredDropCapabilities"},
			gaps:      []string{"requiredDropCapabilities"},
		},
		{
			name:     "requiredDropCapabilities lowercase all is baseline",
			patch:    `spec: {requiredDropCapabilities: [all]}`,
			level:    "baseline",
			findings: []string{"requiredDropCapabilities@restricted: capabilities_restricted"},
			messages: []string{"drops only all (names are compared as written: PSA wants ALL in capitals)"},
		},
		{
			name:    "requiredDropCapabilities empty is restricted before v1.22",
			patch:   `spec: {requiredDropCapabilities: null}`,
			version: "v1.21",
			level:   "restricted",
		},
		{
			name:     "requiredDropCapabilities ALL with SYS_ADMIN allowed is a gap at privileged",
			patch:    `spec: {allowedCapabilities: [SYS_ADMIN]}`,
			level:    "privileged",
			findings: []string{"allowedCapabilities@baseline: capabilities_baseline"},
			gaps:     []string{"requiredDropCapabilities"},
		},
	})
}
