package convert

import "testing"

func TestRuleSELinux(t *testing.T) {
	runRuleCases(t, "seLinux", []ruleCase{
		{
			name:      "seLinux MustRunAs container_t is restricted, injected, and pinning the level is a gap",
			level:     "restricted",
			mutations: []string{"seLinux"},
			gaps:      []string{"seLinux"},
		},
		{
			name:      "seLinux RunAsAny is privileged",
			patch:     `spec: {seLinux: {rule: RunAsAny, seLinuxOptions: null}}`,
			level:     "privileged",
			findings:  []string{"seLinux@baseline: seLinuxOptions"},
			mutations: []string{},
			gaps:      []string{},
			messages: []string{"seLinux.rule RunAsAny lets pods set any SELinux user, role and type; baseline allows only the types " +
				"container_t, container_init_t, container_kvm_t, container_engine_t and no user or role"},
		},
		{
			name:     "seLinux RunAsAny message names container_engine_t only from v1.31",
			patch:    `spec: {seLinux: {rule: RunAsAny, seLinuxOptions: null}}`,
			version:  "v1.30",
			level:    "privileged",
			findings: []string{"seLinux@baseline: seLinuxOptions"},
			messages: []string{"only the types container_t, container_init_t, container_kvm_t and no user or role"},
		},
		{
			name:     "seLinux MustRunAs container_engine_t is privileged before v1.31",
			patch:    `spec: {seLinux: {seLinuxOptions: {type: container_engine_t}}}`,
			version:  "v1.30",
			level:    "privileged",
			findings: []string{"seLinux@baseline: seLinuxOptions"},
		},
		{
			name:    "seLinux MustRunAs container_engine_t is restricted from v1.31",
			patch:   `spec: {seLinux: {seLinuxOptions: {type: container_engine_t}}}`,
			version: "v1.31",
			level:   "restricted",
		},
		{
			name:     "seLinux MustRunAs spc_t is privileged",
			patch:    `spec: {seLinux: {seLinuxOptions: {type: spc_t}}}`,
			level:    "privileged",
			findings: []string{"seLinux@baseline: seLinuxOptions"},
			messages: []string{"seLinux MustRunAs sets seLinuxOptions {type: spc_t}; baseline allows only"},
		},
		{
			name:     "seLinux MustRunAs with a user is privileged",
			patch:    `spec: {seLinux: {seLinuxOptions: {user: system_u, type: container_t}}}`,
			level:    "privileged",
			findings: []string{"seLinux@baseline: seLinuxOptions"},
		},
		{
			name:      "seLinux MustRunAs with only a level is restricted and the level is a gap",
			patch:     `spec: {seLinux: {seLinuxOptions: {type: null, level: "s0:c123,c456"}}}`,
			level:     "restricted",
			mutations: []string{"seLinux"},
			gaps:      []string{"seLinux"},
		},
		{
			name:  "seLinux MustRunAs without options admits no pod",
			patch: `spec: {seLinux: {seLinuxOptions: null}}`,
			level: "restricted",
			notes: []string{"seLinux"},
		},
		{
			name:  "seLinux with an unknown rule admits no pod",
			patch: `spec: {seLinux: {rule: MustRunAsRange}}`,
			level: "restricted",
			notes: []string{"seLinux"},
		},
	})
}
