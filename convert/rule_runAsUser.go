package convert

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
)

/*
PSP field: spec.runAsUser ({rule: MustRunAs|MustRunAsNonRoot|RunAsAny, ranges}).

PSS controls: Running as Non-root (check runAsNonRoot, restricted) and
Running as Non-root user (check runAsUser, restricted from v1.23).

Allowed values:
  - baseline: anything
  - restricted: MustRunAsNonRoot

A MustRunAs range that starts at 1 or more keeps root out as well as
MustRunAsNonRoot does, but PSA checks the runAsNonRoot field, not the UID,
and MustRunAs only writes the first range's UID into a container that sets
neither runAsUser nor runAsNonRoot: that pod fails restricted's
runAsNonRoot where MustRunAsNonRoot would have written runAsNonRoot: true.
So such a PSP is baseline, and the finding says a workload patch can add
runAsNonRoot: true (safe, since the UID is not 0).

A pod that chooses a non-zero UID itself is another matter: even
MustRunAsNonRoot admits runAsUser: 1000 without runAsNonRoot unchanged, so
that field is the workload patches' work, not a PSP property (REFERENCE
§7); the engine does not count runAsNonRoot against a pod whose
containers all chose a non-zero UID, whatever runAsNonRoot says
(governable).
*/

func init() { register(rule{field: "runAsUser", analyze: analyzeRunAsUser}) }

func analyzeRunAsUser(p *psp.PodSecurityPolicy) analysis {
	s := p.Spec.RunAsUser
	switch s.Rule {
	case psp.RunAsUserStrategyRunAsAny:
		return analysis{
			witnesses: []podChange{runAsUserChange(0)},
			explain: func(c findingContext) string {
				return "runAsUser RunAsAny lets containers run as root; " + nonRootRequired(c.version)
			},
		}
	case psp.RunAsUserStrategyMustRunAsNonRoot:
		return analysis{
			mutations: []Mutation{{
				Field:   "runAsUser",
				Sets:    "container securityContext.runAsNonRoot: true",
				Message: "runAsUser MustRunAsNonRoot → container securityContext.runAsNonRoot: true when neither runAsNonRoot nor runAsUser is set",
			}},
			restrictions: []podChange{runAsUserChange(0)},
			explainGap: func(lost []lostRestriction) string {
				return "runAsUser MustRunAsNonRoot keeps root out; " + whoAllowsLost(lost)
			},
		}
	case psp.RunAsUserStrategyMustRunAs:
		if len(s.Ranges) == 0 {
			return admitsNothing("runAsUser", "runAsUser MustRunAs without ranges: 1.24 could not build the strategy, so the PSP admits no pod")
		}
		return analyzeRunAsUserMustRunAs(s.Ranges)
	}
	return admitsNothing("runAsUser", "runAsUser.rule "+quoteRule(string(s.Rule))+" is not a rule 1.24 knows, so the PSP admits no pod")
}

func analyzeRunAsUserMustRunAs(ranges []psp.IDRange) analysis {
	first := ranges[0].Min
	a := analysis{
		mutations: []Mutation{{
			Field:   "runAsUser",
			Sets:    fmt.Sprintf("container securityContext.runAsUser: %d", first),
			Message: fmt.Sprintf("runAsUser MustRunAs → container securityContext.runAsUser: %d when neither the container nor the pod sets it", first),
		}},
		explainGap: func(lost []lostRestriction) string {
			return "runAsUser MustRunAs limits UIDs to " + idRanges(ranges) + "; " + whoAllowsLost(lost)
		},
	}
	for _, r := range ranges {
		a.witnesses = append(a.witnesses, runAsUserChange(r.Min))
	}
	if first != 0 {
		a.witnesses = append(a.witnesses, defaultUIDChange(first))
	}
	a.explain = func(c findingContext) string {
		var whys []string
		root := slices.Contains(c.witnesses, runAsUserChange(0).name)
		if root {
			whys = append(whys, "runAsUser MustRunAs ranges "+idRanges(ranges)+" include UID 0 (root)")
		}
		if first != 0 && slices.Contains(c.witnesses, defaultUIDChange(first).name) {
			whys = append(whys, fmt.Sprintf("runAsUser MustRunAs writes runAsUser: %d into containers that set neither runAsUser nor runAsNonRoot, "+
				"but never runAsNonRoot: true (a workload patch can add it, since UID %d is not root)", first, first))
		}
		if !root {
			return strings.Join(whys, "; ") + "; restricted requires runAsNonRoot: true"
		}
		return strings.Join(whys, "; ") + "; " + nonRootRequired(c.version)
	}
	if !inIDRanges(0, ranges) {
		a.restrictions = append(a.restrictions, runAsUserChange(0))
	}
	a.restrictions = append(a.restrictions, runAsUserChange(outsideIDRanges(ranges, 1)))
	return a
}

// defaultUIDChange is a container that sets neither runAsUser nor
// runAsNonRoot, as MustRunAs leaves it: with the range's UID and still
// no runAsNonRoot. The pod did not choose that UID, so PSA's
// runAsNonRoot check counts against the PSP (governable).
func defaultUIDChange(uid int64) podChange {
	return podChange{
		name: fmt.Sprintf("no runAsUser (MustRunAs writes UID %d)", uid),
		apply: func(pod *corev1.Pod) {
			podSecurity(pod).RunAsNonRoot = nil
			appSecurity(pod).RunAsUser = new(uid)
		},
		written: func(pod *corev1.Pod) { podSecurity(pod).RunAsNonRoot = nil },
	}
}

// runAsUserChange runs the pod as the UID without runAsNonRoot, which no
// rule but MustRunAsNonRoot requires.
func runAsUserChange(uid int64) podChange {
	return podChange{
		name: fmt.Sprintf("UID %d", uid),
		apply: func(pod *corev1.Pod) {
			sc := podSecurity(pod)
			sc.RunAsUser = new(uid)
			sc.RunAsNonRoot = nil
		},
	}
}

func nonRootRequired(v api.Version) string {
	if v.Older(api.MajorMinorVersion(1, 23)) {
		return "restricted requires runAsNonRoot: true"
	}
	return "restricted requires runAsNonRoot: true and forbids runAsUser: 0"
}
