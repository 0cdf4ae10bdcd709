package psp

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// spec.runtimeClass: when set, an unset runtimeClassName is defaulted to
// defaultRuntimeClassName, and a set name must be in
// allowedRuntimeClassNames ("*" allows any). An unset name is always
// allowed. Without spec.runtimeClass nothing is defaulted or checked.
//
// Port of simpleProvider (MutatePod, validateRuntimeClassName) (1.24).
func mutateRuntimeClass(opts *RuntimeClassStrategyOptions, pod *corev1.Pod) {
	if opts == nil || pod.Spec.RuntimeClassName != nil || opts.DefaultRuntimeClassName == nil {
		return
	}
	name := *opts.DefaultRuntimeClassName
	pod.Spec.RuntimeClassName = &name
}

func validateRuntimeClass(opts *RuntimeClassStrategyOptions, pod *corev1.Pod) field.ErrorList {
	actual := pod.Spec.RuntimeClassName
	if opts == nil || actual == nil {
		return nil
	}
	if slices.Contains(opts.AllowedRuntimeClassNames, AllowAllRuntimeClassNames) ||
		slices.Contains(opts.AllowedRuntimeClassNames, *actual) {
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("spec", "runtimeClassName"), *actual, "")}
}
