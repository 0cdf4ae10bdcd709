package psp

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// spec.fsGroup, spec.supplementalGroups and spec.runAsGroup: which group
// IDs a pod (fsGroup, supplementalGroups) or a container (runAsGroup,
// effective value) may use.
//
//   - MustRunAs: at least one group must be given and every group must fall
//     in the ranges; an unset value is defaulted to the first range's min.
//   - MayRunAs: no default; groups that are given must fall in the ranges.
//   - RunAsAny: no default, no check. An omitted runAsGroup means RunAsAny.
//
// Port of pkg/security/podsecuritypolicy/group (1.24).
type groupStrategy struct {
	rule   string // MustRunAs, MayRunAs or RunAsAny; the three PSP fields spell them alike
	ranges []IDRange
}

const (
	groupRuleMustRunAs = "MustRunAs"
	groupRuleMayRunAs  = "MayRunAs"
	groupRuleRunAsAny  = "RunAsAny"
)

// newGroupStrategy builds the strategy of one group field; kind names the
// field in errors as 1.24 did ("FSGroup", "SupplementalGroups", "RunAsGroup").
func newGroupStrategy(kind, rule string, ranges []IDRange) (groupStrategy, error) {
	switch rule {
	case groupRuleMustRunAs, groupRuleMayRunAs:
		if len(ranges) == 0 {
			return groupStrategy{}, fmt.Errorf("ranges must be supplied for %s", rule)
		}
	case groupRuleRunAsAny:
	default:
		return groupStrategy{}, fmt.Errorf("Unrecognized %s strategy type %s", kind, rule)
	}
	return groupStrategy{rule: rule, ranges: ranges}, nil
}

func newRunAsGroupStrategy(opts *RunAsGroupStrategyOptions) (groupStrategy, error) {
	if opts == nil {
		return groupStrategy{rule: groupRuleRunAsAny}, nil
	}
	return newGroupStrategy("RunAsGroup", string(opts.Rule), opts.Ranges)
}

// generate returns the groups to default an unset list to, or nil.
func (s groupStrategy) generate() []int64 {
	if s.rule != groupRuleMustRunAs {
		return nil
	}
	return []int64{s.ranges[0].Min}
}

// generateSingle returns the group to default an unset single value
// (fsGroup, runAsGroup) to, or nil.
func (s groupStrategy) generateSingle() *int64 {
	if s.rule != groupRuleMustRunAs {
		return nil
	}
	gid := s.ranges[0].Min
	return &gid
}

func (s groupStrategy) validate(fldPath *field.Path, groups []int64) field.ErrorList {
	var errs field.ErrorList
	switch s.rule {
	case groupRuleRunAsAny:
		return nil
	case groupRuleMustRunAs:
		if len(groups) == 0 {
			errs = append(errs, field.Invalid(fldPath, groups, "unable to validate empty groups against required ranges"))
		}
	}
	for _, g := range groups {
		if !idInRanges(g, s.ranges) {
			detail := fmt.Sprintf("group %d must be in the ranges: %v", g, s.ranges)
			errs = append(errs, field.Invalid(fldPath, groups, detail))
		}
	}
	return errs
}
