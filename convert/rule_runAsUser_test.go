package convert

import "testing"

func TestRuleRunAsUser(t *testing.T) {
	runRuleCases(t, "runAsUser", []ruleCase{
		{
			name:      "runAsUser MustRunAsNonRoot is restricted and injects runAsNonRoot",
			level:     "restricted",
			mutations: []string{"runAsUser"},
			gaps:      []string{},
		},
		{
			name:      "runAsUser RunAsAny is baseline",
			patch:     `spec: {runAsUser: {rule: RunAsAny}}`,
			level:     "baseline",
			findings:  []string{"runAsUser@restricted: runAsNonRoot,runAsUser"},
			mutations: []string{},
			messages:  []string{"runAsUser RunAsAny lets containers run as root; restricted requires runAsNonRoot: true and forbids runAsUser: 0"},
		},
		{
			name:     "runAsUser RunAsAny is baseline before v1.23 through runAsNonRoot alone",
			patch:    `spec: {runAsUser: {rule: RunAsAny}}`,
			version:  "v1.22",
			level:    "baseline",
			findings: []string{"runAsUser@restricted: runAsNonRoot"},
		},
		{
			// A container that sets neither field gets UID 1000 and no
			// runAsNonRoot, which MustRunAsNonRoot would have written.
			name:      "runAsUser MustRunAs 1000-65535 is baseline: it injects UID 1000 but never runAsNonRoot, and the range is a gap",
			patch:     `spec: {runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 65535}]}}`,
			level:     "baseline",
			findings:  []string{"runAsUser@restricted: runAsNonRoot"},
			mutations: []string{"runAsUser"},
			gaps:      []string{"runAsUser"},
			messages: []string{"runAsUser MustRunAs writes runAsUser: 1000 into containers that set neither runAsUser nor runAsNonRoot, " +
				"but never runAsNonRoot: true (a workload patch can add it, since UID 1000 is not root); restricted requires runAsNonRoot: true"},
		},
		{
			name:     "runAsUser MustRunAs 1000-65535 is baseline before v1.23 too",
			patch:    `spec: {runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 65535}]}}`,
			version:  "v1.22",
			level:    "baseline",
			findings: []string{"runAsUser@restricted: runAsNonRoot"},
		},
		{
			name:     "runAsUser MustRunAs 0-65535 is baseline",
			patch:    `spec: {runAsUser: {rule: MustRunAs, ranges: [{min: 0, max: 65535}]}}`,
			level:    "baseline",
			findings: []string{"runAsUser@restricted: runAsNonRoot,runAsUser"},
			messages: []string{"runAsUser MustRunAs ranges 0-65535 include UID 0 (root)"},
		},
		{
			name:     "runAsUser MustRunAs with a later range starting at 0 is baseline",
			patch:    `spec: {runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 2000}, {min: 0, max: 0}]}}`,
			level:    "baseline",
			findings: []string{"runAsUser@restricted: runAsNonRoot,runAsUser"},
			messages: []string{"ranges 1000-2000, 0 include UID 0 (root); runAsUser MustRunAs writes runAsUser: 1000 into containers that set neither"},
		},
		{
			name:  "runAsUser MustRunAs without ranges admits no pod",
			patch: `spec: {runAsUser: {rule: MustRunAs}}`,
			level: "restricted",
			notes: []string{"runAsUser"},
		},
	})
}
