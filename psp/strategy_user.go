package psp

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// spec.runAsUser: which UID every container (init, regular, ephemeral) may
// run as, read from the container's securityContext, else the pod's.
//
//   - MustRunAs: the UID must be set and fall in one of the ranges; an
//     unset UID is defaulted to the first range's min.
//   - MustRunAsNonRoot: runAsNonRoot must not be false and runAsUser not 0;
//     when neither is set the container gets runAsNonRoot: true (that
//     default lives in mutateContainer, as in 1.24).
//   - RunAsAny: no default, no check.
//
// Port of pkg/security/podsecuritypolicy/user (1.24).
type userStrategy struct {
	rule   RunAsUserStrategy
	ranges []IDRange
}

func newUserStrategy(opts RunAsUserStrategyOptions) (userStrategy, error) {
	switch opts.Rule {
	case RunAsUserStrategyMustRunAs:
		if len(opts.Ranges) == 0 {
			return userStrategy{}, fmt.Errorf("MustRunAs requires at least one range")
		}
	case RunAsUserStrategyMustRunAsNonRoot, RunAsUserStrategyRunAsAny:
	default:
		return userStrategy{}, fmt.Errorf("Unrecognized RunAsUser strategy type %s", opts.Rule)
	}
	return userStrategy{rule: opts.Rule, ranges: opts.Ranges}, nil
}

// generate returns the UID to default an unset runAsUser to, or nil.
func (s userStrategy) generate() *int64 {
	if s.rule != RunAsUserStrategyMustRunAs {
		return nil
	}
	uid := s.ranges[0].Min
	return &uid
}

// validate checks a container's effective runAsNonRoot and runAsUser;
// scPath is the container's securityContext path.
func (s userStrategy) validate(scPath *field.Path, runAsNonRoot *bool, runAsUser *int64) field.ErrorList {
	switch s.rule {
	case RunAsUserStrategyMustRunAs:
		return s.validateMustRunAs(scPath, runAsUser)
	case RunAsUserStrategyMustRunAsNonRoot:
		return validateNonRoot(scPath, runAsNonRoot, runAsUser)
	}
	return nil
}

func (s userStrategy) validateMustRunAs(scPath *field.Path, runAsUser *int64) field.ErrorList {
	if runAsUser == nil {
		return field.ErrorList{field.Required(scPath.Child("runAsUser"), "")}
	}
	if !idInRanges(*runAsUser, s.ranges) {
		detail := fmt.Sprintf("must be in the ranges: %v", s.ranges)
		return field.ErrorList{field.Invalid(scPath.Child("runAsUser"), *runAsUser, detail)}
	}
	return nil
}

// validateNonRoot passes an unset UID when runAsNonRoot is set, trusting
// the kubelet to check the image's user at run time, as 1.24 did.
func validateNonRoot(scPath *field.Path, runAsNonRoot *bool, runAsUser *int64) field.ErrorList {
	switch {
	case runAsNonRoot == nil && runAsUser == nil:
		return field.ErrorList{field.Required(scPath.Child("runAsNonRoot"), "must be true")}
	case runAsNonRoot != nil && !*runAsNonRoot:
		return field.ErrorList{field.Invalid(scPath.Child("runAsNonRoot"), *runAsNonRoot, "must be true")}
	case runAsUser != nil && *runAsUser == 0:
		return field.ErrorList{field.Invalid(scPath.Child("runAsUser"), *runAsUser, "running with the root UID is forbidden")}
	}
	return nil
}

// idInRanges reports whether id falls in one of the inclusive ranges.
func idInRanges(id int64, ranges []IDRange) bool {
	for _, r := range ranges {
		if id >= r.Min && id <= r.Max {
			return true
		}
	}
	return false
}
