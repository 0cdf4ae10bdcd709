package convert

import "testing"

func TestRuleReadOnlyRootFilesystem(t *testing.T) {
	runRuleCases(t, "readOnlyRootFilesystem", []ruleCase{
		{name: "readOnlyRootFilesystem false is restricted", level: "restricted", mutations: []string{}, gaps: []string{}},
		{
			name:      "readOnlyRootFilesystem true is restricted, injected, and a gap",
			patch:     `spec: {readOnlyRootFilesystem: true}`,
			level:     "restricted",
			mutations: []string{"readOnlyRootFilesystem"},
			gaps:      []string{"readOnlyRootFilesystem"},
		},
	})
}
