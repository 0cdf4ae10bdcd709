package vap

import (
	"fmt"

	"github.com/psp2psa/psp2psa/psp"
)

/*
PSP fields: spec.runAsUser, spec.runAsGroup, spec.supplementalGroups,
spec.fsGroup.

PSS checks runAsUser only for root (runAsNonRoot, runAsUser, restricted)
and no group at all, so ranges are always gaps.

  - runAsUser MustRunAs: every container's effective UID (container, else
    pod) is set and in a range. 1.24 filled in the first range's minimum
    where both were unset; the workload patches now write it.
  - runAsUser MustRunAsNonRoot: every container's effective runAsNonRoot is
    not false and its effective UID not 0; one of them must be set, where
    1.24 filled in runAsNonRoot: true.
  - runAsGroup MustRunAs: every container's effective GID is set and in a
    range; MayRunAs: a set one is in a range.
  - fsGroup MustRunAs: the pod's fsGroup is set and in a range; MayRunAs: a
    set one is in a range.
  - supplementalGroups MustRunAs: the list is not empty and every group is
    in a range; MayRunAs: every listed group is in a range.

RunAsAny restricts nothing. An unknown rule, or MustRunAs/MayRunAs without
ranges, made 1.24 skip the PSP altogether; such a PSP admits no pod and
gets no rule.
*/

func runAsUserRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "runAsUser"
	s := p.Spec.RunAsUser
	switch s.Rule {
	case psp.RunAsUserStrategyMustRunAs:
		if len(s.Ranges) == 0 {
			return nil
		}
		uids := containerValues(effective(field) + fmt.Sprintf(".orValue(%d)", unsetID))
		return idRangeRule(p, field, uids, "uid", true, s.Ranges,
			"every container must set runAsUser (container or pod) to a UID in "+idRangesText(s.Ranges))
	case psp.RunAsUserStrategyMustRunAsNonRoot:
		nonRoot, uid := effective("runAsNonRoot"), effective("runAsUser")
		return []Rule{{
			Field:      field,
			Expression: everyContainer(nonRoot + ".orValue(" + uid + ".hasValue()) && " + uid + ".orValue(1) != 0"),
			Message:    message(p, field, "every container must run as non-root: runAsNonRoot: true or a non-zero runAsUser (container or pod), and never runAsNonRoot: false or runAsUser: 0"),
		}}
	}
	return nil
}

func runAsGroupRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "runAsGroup"
	s := p.Spec.RunAsGroup
	if s == nil || len(s.Ranges) == 0 {
		return nil
	}
	gids := containerValues(effective(field) + fmt.Sprintf(".orValue(%d)", unsetID))
	switch s.Rule {
	case psp.RunAsGroupStrategyMustRunAs:
		return idRangeRule(p, field, gids, "gid", true, s.Ranges,
			"every container must set runAsGroup (container or pod) to a GID in "+idRangesText(s.Ranges))
	case psp.RunAsGroupStrategyMayRunAs:
		return idRangeRule(p, field, gids, "gid", false, s.Ranges,
			"a container's runAsGroup (container or pod), when set, must be in "+idRangesText(s.Ranges))
	}
	return nil
}

func fsGroupRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "fsGroup"
	s := p.Spec.FSGroup
	if len(s.Ranges) == 0 {
		return nil
	}
	gid := fmt.Sprintf("[object.spec.?securityContext.?fsGroup.orValue(%d)]", unsetID)
	switch s.Rule {
	case psp.FSGroupStrategyMustRunAs:
		return idRangeRule(p, field, gid, "gid", true, s.Ranges,
			"the pod must set securityContext.fsGroup to a GID in "+idRangesText(s.Ranges))
	case psp.FSGroupStrategyMayRunAs:
		return idRangeRule(p, field, gid, "gid", false, s.Ranges,
			"the pod's securityContext.fsGroup, when set, must be in "+idRangesText(s.Ranges))
	}
	return nil
}

func supplementalGroupsRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "supplementalGroups"
	s := p.Spec.SupplementalGroups
	if len(s.Ranges) == 0 {
		return nil
	}
	groups := "object.spec.?securityContext.?supplementalGroups.orValue([])"
	inRanges := groups + ".all(gid, " + inIDRanges("gid", s.Ranges) + ")"
	switch s.Rule {
	case psp.SupplementalGroupsStrategyMustRunAs:
		return []Rule{{
			Field:      field,
			Expression: "size(" + groups + ") > 0 && " + inRanges,
			Message:    message(p, field, "the pod must list securityContext.supplementalGroups, each in "+idRangesText(s.Ranges)),
		}}
	case psp.SupplementalGroupsStrategyMayRunAs:
		return []Rule{{
			Field:      field,
			Expression: inRanges,
			Message:    message(p, field, "every group in the pod's securityContext.supplementalGroups must be in "+idRangesText(s.Ranges)),
		}}
	}
	return nil
}

// idRangeRule keeps a MustRunAs rule (every ID set and in a range) or a
// MayRunAs one (every ID that is set in a range) over ids, a CEL list
// holding unsetID where an ID is not set; v names the element.
func idRangeRule(p *psp.PodSecurityPolicy, field, ids, v string, must bool, ranges []psp.IDRange, msg string) []Rule {
	cond := inIDRanges(v, ranges)
	if !must {
		cond = fmt.Sprintf("%s == %d || ", v, unsetID) + cond
	}
	return []Rule{{Field: field, Expression: ids + ".all(" + v + ", " + cond + ")", Message: message(p, field, msg)}}
}
