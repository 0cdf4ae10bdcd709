package convert

import "testing"

func TestRuleSupplementalGroups(t *testing.T) {
	runRuleCases(t, "supplementalGroups", []ruleCase{
		{name: "supplementalGroups RunAsAny is restricted", level: "restricted", mutations: []string{}, gaps: []string{}},
		{
			name:      "supplementalGroups MustRunAs 1-65535 is restricted, injects 1, and the range is a gap",
			patch:     `spec: {supplementalGroups: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}}`,
			level:     "restricted",
			mutations: []string{"supplementalGroups"},
			gaps:      []string{"supplementalGroups"},
		},
		{
			name:      "supplementalGroups MayRunAs 30-40 is restricted and the range is a gap",
			patch:     `spec: {supplementalGroups: {rule: MayRunAs, ranges: [{min: 30, max: 40}]}}`,
			level:     "restricted",
			mutations: []string{},
			gaps:      []string{"supplementalGroups"},
		},
		{
			name:  "supplementalGroups with a rule 1.24 does not know admits no pod",
			patch: `spec: {supplementalGroups: {rule: MustRunAsRange}}`,
			level: "restricted",
			notes: []string{"supplementalGroups"},
		},
		{
			name:  "supplementalGroups without a rule admits no pod",
			patch: `spec: {supplementalGroups: null}`,
			level: "restricted",
			notes: []string{"supplementalGroups"},
		},
	})
}
