package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.allowedUnsafeSysctls (names; a trailing "*" matches a
prefix, a lone "*" everything).

PSS control: Sysctls (check sysctls, baseline). The safe set grows with the
version: v1.27, v1.29, v1.32 and v1.37 added names.

Allowed values:
  - baseline: empty
  - restricted: empty

Witnesses: a pod setting each listed name; a pattern stands for every
known sysctl it matches and for a made-up name below its prefix (1.24 pod
validation checked only the name's form, and PSS lists exact names, so a
pattern always admits a name PSS rejects). Names forbiddenSysctls forbids
are left out, since 1.24 checks that list first. Which names PSS accepts
at the version is the evaluator's call.
*/

func init() { register(rule{field: "allowedUnsafeSysctls", analyze: analyzeAllowedUnsafeSysctls}) }

// knownSysctls are names a sysctl pattern stands for: the namespaced
// sysctls PSS has ever called safe and a few common unsafe ones.
var knownSysctls = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
	"net.ipv4.tcp_slow_start_after_idle",
	"net.ipv4.tcp_notsent_lowat",
	"kernel.msgmax",
	"kernel.msgmnb",
	"kernel.sem",
	"kernel.shmmax",
	"fs.mqueue.msg_max",
	"net.core.somaxconn",
	"net.ipv4.ip_forward",
	"net.ipv4.tcp_max_syn_backlog",
	"net.ipv4.conf.all.forwarding",
	"net.ipv6.conf.all.disable_ipv6",
}

func analyzeAllowedUnsafeSysctls(p *psp.PodSecurityPolicy) analysis {
	allowed := p.Spec.AllowedUnsafeSysctls
	var names []string
	for _, pattern := range allowed {
		for _, name := range sysctlsMatching(pattern) {
			if !sysctlMatchesAny(name, p.Spec.ForbiddenSysctls) && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	a := analysis{explain: func(c findingContext) string {
		return "allowedUnsafeSysctls (" + strings.Join(allowed, ", ") + ") lets pods set " + namesList(c.witnesses) +
			"; " + string(c.level) + " " + c.version.String() + " allows only the sysctls it lists as safe"
	}}
	for _, name := range names {
		a.witnesses = append(a.witnesses, sysctlChange(name))
	}
	return a
}

// sysctlsMatching expands a sysctl name or pattern to names it stands for.
// A pattern also admits names no PSS version lists, so it always stands
// for a made-up name below its prefix as well as the known names.
func sysctlsMatching(pattern string) []string {
	prefix, isPattern := strings.CutSuffix(pattern, "*")
	if !isPattern {
		return []string{pattern}
	}
	var out []string
	for _, name := range knownSysctls {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	return append(out, unlistedSysctl(prefix))
}

// unlistedSysctl is a well-formed sysctl name below the prefix that no
// list names.
func unlistedSysctl(prefix string) string {
	const name = "psp2psa_unlisted"
	if prefix == "" || strings.HasSuffix(prefix, ".") || strings.HasSuffix(prefix, "_") {
		return prefix + name
	}
	return prefix + "_" + name
}

// sysctlMatchesAny is 1.24's matching of a name against a pattern list.
func sysctlMatchesAny(name string, patterns []string) bool {
	for _, pattern := range patterns {
		if prefix, ok := strings.CutSuffix(pattern, "*"); ok && strings.HasPrefix(name, prefix) || pattern == name {
			return true
		}
	}
	return false
}

func sysctlChange(names ...string) podChange {
	return podChange{
		name: strings.Join(names, ", "),
		apply: func(pod *corev1.Pod) {
			sc := podSecurity(pod)
			for _, n := range names {
				if !slices.ContainsFunc(sc.Sysctls, func(s corev1.Sysctl) bool { return s.Name == n }) {
					sc.Sysctls = append(sc.Sysctls, corev1.Sysctl{Name: n, Value: "1"})
				}
			}
		},
	}
}
