package convert

import "testing"

func TestRuleRunAsGroup(t *testing.T) {
	runRuleCases(t, "runAsGroup", []ruleCase{
		{name: "runAsGroup omitted is restricted", level: "restricted", mutations: []string{}, gaps: []string{}},
		{name: "runAsGroup RunAsAny is restricted", patch: `spec: {runAsGroup: {rule: RunAsAny}}`, level: "restricted", gaps: []string{}},
		{
			name:      "runAsGroup MustRunAs 30-40 is restricted, injects GID 30, and the range is a gap",
			patch:     `spec: {runAsGroup: {rule: MustRunAs, ranges: [{min: 30, max: 40}]}}`,
			level:     "restricted",
			mutations: []string{"runAsGroup"},
			gaps:      []string{"runAsGroup"},
		},
		{
			name:      "runAsGroup MayRunAs 30-40 is restricted and the range is a gap",
			patch:     `spec: {runAsGroup: {rule: MayRunAs, ranges: [{min: 30, max: 40}]}}`,
			level:     "restricted",
			mutations: []string{},
			gaps:      []string{"runAsGroup"},
		},
		{
			name:  "runAsGroup MustRunAs without ranges admits no pod",
			patch: `spec: {runAsGroup: {rule: MustRunAs}}`,
			level: "restricted",
			notes: []string{"runAsGroup"},
		},
	})
}
