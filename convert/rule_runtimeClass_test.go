package convert

import "testing"

func TestRuleRuntimeClass(t *testing.T) {
	runRuleCases(t, "runtimeClass", []ruleCase{
		{name: "runtimeClass unset is restricted", level: "restricted", mutations: []string{}, gaps: []string{}},
		{
			name:  "runtimeClass * is restricted without a gap",
			patch: `spec: {runtimeClass: {allowedRuntimeClassNames: ["*"]}}`,
			level: "restricted",
			gaps:  []string{},
		},
		{
			name:      "runtimeClass gvisor with a default is restricted, injected, and the list is a gap",
			patch:     `spec: {runtimeClass: {allowedRuntimeClassNames: [gvisor], defaultRuntimeClassName: gvisor}}`,
			level:     "restricted",
			mutations: []string{"runtimeClass.defaultRuntimeClassName"},
			gaps:      []string{"runtimeClass"},
		},
		{
			name:  "runtimeClass default with an empty list admits no pod",
			patch: `spec: {runtimeClass: {allowedRuntimeClassNames: [], defaultRuntimeClassName: gvisor}}`,
			level: "restricted",
			notes: []string{"runtimeClass"},
		},
	})
}
