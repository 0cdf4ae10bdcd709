package psp

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// spec.seLinux: the SELinux options of the pod and of every container
// (effective value: container, else pod).
//
//   - MustRunAs: the options must equal the PSP's seLinuxOptions (user,
//     role, type exactly; level with categories in any order); unset
//     options are defaulted to the PSP's.
//   - RunAsAny: no default, no check.
//
// Port of pkg/security/podsecuritypolicy/selinux (1.24).
type seLinuxStrategy struct {
	options *corev1.SELinuxOptions // nil for RunAsAny
}

func newSELinuxStrategy(opts SELinuxStrategyOptions) (seLinuxStrategy, error) {
	switch opts.Rule {
	case SELinuxStrategyMustRunAs:
		if opts.SELinuxOptions == nil {
			return seLinuxStrategy{}, fmt.Errorf("MustRunAs requires SELinuxOptions")
		}
		return seLinuxStrategy{options: opts.SELinuxOptions.DeepCopy()}, nil
	case SELinuxStrategyRunAsAny:
		return seLinuxStrategy{}, nil
	default:
		return seLinuxStrategy{}, fmt.Errorf("Unrecognized SELinuxContext strategy type %s", opts.Rule)
	}
}

// generate returns the options to default unset options to, or nil. Each
// call returns a fresh copy so that the pod never aliases the PSP.
func (s seLinuxStrategy) generate() *corev1.SELinuxOptions {
	return s.options.DeepCopy()
}

func (s seLinuxStrategy) validate(fldPath *field.Path, seLinux *corev1.SELinuxOptions) field.ErrorList {
	if s.options == nil {
		return nil
	}
	if seLinux == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var errs field.ErrorList
	if !equalSELinuxLevels(s.options.Level, seLinux.Level) {
		errs = append(errs, field.Invalid(fldPath.Child("level"), seLinux.Level, "must be "+s.options.Level))
	}
	if seLinux.Role != s.options.Role {
		errs = append(errs, field.Invalid(fldPath.Child("role"), seLinux.Role, "must be "+s.options.Role))
	}
	if seLinux.Type != s.options.Type {
		errs = append(errs, field.Invalid(fldPath.Child("type"), seLinux.Type, "must be "+s.options.Type))
	}
	if seLinux.User != s.options.User {
		errs = append(errs, field.Invalid(fldPath.Child("user"), seLinux.User, "must be "+s.options.User))
	}
	return errs
}

// equalSELinuxLevels compares levels "sX:cY,cZ": equal sensitivity and the
// same categories in any order.
func equalSELinuxLevels(expected, actual string) bool {
	if expected == actual {
		return true
	}
	expectedParts := strings.SplitN(expected, ":", 2)
	actualParts := strings.SplitN(actual, ":", 2)
	if len(expectedParts) != 2 || len(actualParts) != 2 {
		return false
	}
	if expectedParts[0] != actualParts[0] {
		return false
	}
	expectedCategories := strings.Split(expectedParts[1], ",")
	actualCategories := strings.Split(actualParts[1], ",")
	slices.Sort(expectedCategories)
	slices.Sort(actualCategories)
	return slices.Equal(expectedCategories, actualCategories)
}
