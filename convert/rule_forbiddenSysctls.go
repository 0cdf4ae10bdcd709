package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
)

/*
PSP field: spec.forbiddenSysctls (names; a trailing "*" matches a prefix, a
lone "*" everything).

PSS control: none. PSS has one list per version (check sysctls, baseline):
a level allows its safe set and nothing else, so forbidding a safe sysctl
is a gap, and so is forbidding an unsafe one on a PSP whose other sysctls
already keep it from baseline.

Allowed values:
  - baseline: no opinion
  - restricted: no opinion

Witness: 1.24 admits its own safe set (kernel.shm_rmid_forced,
net.ipv4.ip_local_port_range, net.ipv4.tcp_syncookies,
net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start) unless
forbidden here. Restrictions: every forbidden name, a pattern standing for
the known sysctls it matches.
*/

func init() { register(rule{field: "forbiddenSysctls", analyze: analyzeForbiddenSysctls}) }

// safeSysctls124 is the safe set of the 1.24 PSP sysctl strategy.
var safeSysctls124 = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
}

func analyzeForbiddenSysctls(p *psp.PodSecurityPolicy) analysis {
	forbidden := p.Spec.ForbiddenSysctls
	var a analysis
	if safe := slices.DeleteFunc(slices.Clone(safeSysctls124), func(n string) bool { return sysctlMatchesAny(n, forbidden) }); len(safe) > 0 {
		a.witnesses = []podChange{sysctlChange(safe...)}
		a.explain = func(c findingContext) string {
			return "1.24 admits its safe sysctls " + strings.Join(c.witnesses, "; ") + " unless forbiddenSysctls lists them; " +
				string(c.level) + " " + c.version.String() + " does not allow all of them"
		}
	}
	var names []string
	for _, pattern := range forbidden {
		for _, name := range sysctlsMatching(pattern) {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	for _, name := range names {
		a.restrictions = append(a.restrictions, sysctlChange(name))
	}
	a.explainGap = func(lost []lostRestriction) string {
		return "forbiddenSysctls (" + strings.Join(forbidden, ", ") + ") forbids " + describeLost(lost)
	}
	return a
}
