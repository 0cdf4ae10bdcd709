package convert

import "testing"

func TestRuleFsGroup(t *testing.T) {
	runRuleCases(t, "fsGroup", []ruleCase{
		{name: "fsGroup RunAsAny is restricted", level: "restricted", mutations: []string{}, gaps: []string{}},
		{
			name:      "fsGroup MustRunAs 1-65535 is restricted, injects 1, and the range is a gap",
			patch:     `spec: {fsGroup: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}}`,
			level:     "restricted",
			mutations: []string{"fsGroup"},
			gaps:      []string{"fsGroup"},
		},
		{
			name:      "fsGroup MayRunAs 30-40 is restricted and the range is a gap",
			patch:     `spec: {fsGroup: {rule: MayRunAs, ranges: [{min: 30, max: 40}]}}`,
			level:     "restricted",
			mutations: []string{},
			gaps:      []string{"fsGroup"},
		},
		{
			name:  "fsGroup with a rule 1.24 does not know admits no pod",
			patch: `spec: {fsGroup: {rule: MustRunAsRange}}`,
			level: "restricted",
			notes: []string{"fsGroup"},
		},
		{
			name:  "fsGroup without a rule admits no pod",
			patch: `spec: {fsGroup: null}`,
			level: "restricted",
			notes: []string{"fsGroup"},
		},
	})
}
