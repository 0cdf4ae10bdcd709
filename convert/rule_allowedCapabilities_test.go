package convert

import "testing"

func TestRuleAllowedCapabilities(t *testing.T) {
	runRuleCases(t, "allowedCapabilities", []ruleCase{
		{
			name:  "allowedCapabilities empty is restricted and forbidding NET_BIND_SERVICE is a gap",
			level: "restricted",
			gaps:  []string{"allowedCapabilities"},
		},
		{
			name:  "allowedCapabilities NET_BIND_SERVICE only is restricted",
			patch: `spec: {allowedCapabilities: [NET_BIND_SERVICE]}`,
			level: "restricted",
			gaps:  []string{},
		},
		{
			name:     "allowedCapabilities CHOWN is baseline",
			patch:    `spec: {allowedCapabilities: [CHOWN]}`,
			level:    "baseline",
			findings: []string{"allowedCapabilities@restricted: capabilities_restricted"},
			messages: []string{"allowedCapabilities lets containers add CHOWN; restricted allows adding only NET_BIND_SERVICE"},
		},
		{
			name:    "allowedCapabilities CHOWN is restricted before v1.22",
			patch:   `spec: {allowedCapabilities: [CHOWN]}`,
			version: "v1.21",
			level:   "restricted",
		},
		{
			name:     "allowedCapabilities SYS_ADMIN is privileged",
			patch:    `spec: {allowedCapabilities: [SYS_ADMIN]}`,
			level:    "privileged",
			findings: []string{"allowedCapabilities@baseline: capabilities_baseline"},
		},
		{
			name:     "allowedCapabilities moby defaults with NET_RAW (the docs' baseline PSP) is privileged and forbidding SYS_ADMIN is then a gap",
			patch:    `spec: {allowedCapabilities: [CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE]}`,
			level:    "privileged",
			findings: []string{"allowedCapabilities@baseline: capabilities_baseline"},
			messages: []string{"lets containers add NET_RAW; baseline allows adding only AUDIT_WRITE"},
			gaps:     []string{"allowedCapabilities"},
		},
		{
			name:  "allowedCapabilities * is privileged",
			patch: `spec: {allowedCapabilities: ["*"], requiredDropCapabilities: null}`,
			level: "privileged",
			findings: []string{
				"allowedCapabilities@baseline: capabilities_baseline",
				"requiredDropCapabilities@restricted: capabilities_restricted",
			},
			messages: []string{"lets containers add any capability (e.g. SYS_ADMIN)"},
			gaps:     []string{},
		},
	})
}
