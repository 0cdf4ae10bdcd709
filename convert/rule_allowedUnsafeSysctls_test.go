package convert

import "testing"

func TestRuleAllowedUnsafeSysctls(t *testing.T) {
	sysctlsBlock := []string{"allowedUnsafeSysctls@baseline: sysctls"}
	runRuleCases(t, "allowedUnsafeSysctls", []ruleCase{
		{name: "allowedUnsafeSysctls empty is restricted", level: "restricted"},
		{
			name:     "allowedUnsafeSysctls kernel.msgmax is privileged",
			patch:    `spec: {allowedUnsafeSysctls: [kernel.msgmax]}`,
			level:    "privileged",
			findings: sysctlsBlock,
			messages: []string{"allowedUnsafeSysctls (kernel.msgmax) lets pods set kernel.msgmax; baseline v1.37 allows only"},
		},
		{
			name:     "allowedUnsafeSysctls * is privileged",
			patch:    `spec: {allowedUnsafeSysctls: ["*"]}`,
			level:    "privileged",
			findings: sysctlsBlock,
		},
		{
			name:     "allowedUnsafeSysctls net.ipv4.ip_local_reserved_ports is privileged before v1.27",
			patch:    `spec: {allowedUnsafeSysctls: [net.ipv4.ip_local_reserved_ports]}`,
			version:  "v1.26",
			level:    "privileged",
			findings: sysctlsBlock,
		},
		{
			name:    "allowedUnsafeSysctls net.ipv4.ip_local_reserved_ports is restricted from v1.27",
			patch:   `spec: {allowedUnsafeSysctls: [net.ipv4.ip_local_reserved_ports]}`,
			version: "v1.27",
			level:   "restricted",
		},
		{
			name:     "allowedUnsafeSysctls net.ipv4.tcp_keepalive_* is privileged before v1.29",
			patch:    `spec: {allowedUnsafeSysctls: [net.ipv4.tcp_keepalive_*]}`,
			version:  "v1.28",
			level:    "privileged",
			findings: sysctlsBlock,
		},
		{
			name:     "allowedUnsafeSysctls net.ipv4.tcp_keepalive_* is privileged from v1.29 too, for names PSS does not list",
			patch:    `spec: {allowedUnsafeSysctls: [net.ipv4.tcp_keepalive_*]}`,
			version:  "v1.29",
			level:    "privileged",
			findings: sysctlsBlock,
			messages: []string{"lets pods set net.ipv4.tcp_keepalive_psp2psa_unlisted;"},
		},
		{
			name:    "allowedUnsafeSysctls net.ipv4.tcp_keepalive_time is restricted from v1.29",
			patch:   `spec: {allowedUnsafeSysctls: [net.ipv4.tcp_keepalive_time]}`,
			version: "v1.29",
			level:   "restricted",
		},
		{
			name:     "allowedUnsafeSysctls net.ipv4.tcp_rmem is privileged before v1.32",
			patch:    `spec: {allowedUnsafeSysctls: [net.ipv4.tcp_rmem]}`,
			version:  "v1.31",
			level:    "privileged",
			findings: sysctlsBlock,
		},
		{
			name:    "allowedUnsafeSysctls net.ipv4.tcp_rmem is restricted from v1.32",
			patch:   `spec: {allowedUnsafeSysctls: [net.ipv4.tcp_rmem]}`,
			version: "v1.32",
			level:   "restricted",
		},
		{
			name:     "allowedUnsafeSysctls net.ipv4.tcp_notsent_lowat is privileged before v1.37",
			patch:    `spec: {allowedUnsafeSysctls: [net.ipv4.tcp_notsent_lowat]}`,
			version:  "v1.36",
			level:    "privileged",
			findings: sysctlsBlock,
		},
		{
			name:    "allowedUnsafeSysctls net.ipv4.tcp_notsent_lowat is restricted from v1.37",
			patch:   `spec: {allowedUnsafeSysctls: [net.ipv4.tcp_notsent_lowat]}`,
			version: "v1.37",
			level:   "restricted",
		},
		{
			name:  "allowedUnsafeSysctls names that forbiddenSysctls forbids are never admitted",
			patch: `spec: {allowedUnsafeSysctls: [kernel.msgmax], forbiddenSysctls: [kernel.msg*]}`,
			level: "restricted",
		},
	})
}
