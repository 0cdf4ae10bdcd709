package psp

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// spec.defaultAddCapabilities, spec.requiredDropCapabilities and
// spec.allowedCapabilities, applied to every container's
// securityContext.capabilities (there is no pod-level value).
//
//   - Default: add = (defaultAdd − container drop) ∪ container add,
//     drop = requiredDrop ∪ container drop, each sorted; the container's
//     own list is kept as is when neither set grows. Names are compared as
//     written: "all" and "ALL" are different capabilities to 1.24.
//   - Check: with "*" in allowedCapabilities anything goes; otherwise every
//     added capability must be in defaultAdd or allowed, and every
//     requiredDrop must be dropped. A container without capabilities fails
//     when the PSP has defaultAdd or requiredDrop (the default always sets
//     them, so this only catches pods the default did not reach).
//
// Port of pkg/security/podsecuritypolicy/capabilities (1.24).
type capabilitiesStrategy struct {
	defaultAdd   []corev1.Capability
	requiredDrop []corev1.Capability
	allowed      []corev1.Capability
}

func newCapabilitiesStrategy(spec *PodSecurityPolicySpec) capabilitiesStrategy {
	return capabilitiesStrategy{
		defaultAdd:   spec.DefaultAddCapabilities,
		requiredDrop: spec.RequiredDropCapabilities,
		allowed:      spec.AllowedCapabilities,
	}
}

// generate returns the container's capabilities after the defaults: the
// container's own pointer when nothing changes, else a new value.
func (s capabilitiesStrategy) generate(c *corev1.Container) *corev1.Capabilities {
	defaultAdd := capabilitySet(s.defaultAdd)
	requiredDrop := capabilitySet(s.requiredDrop)
	containerAdd := sets.New[string]()
	containerDrop := sets.New[string]()

	var current *corev1.Capabilities
	if c.SecurityContext != nil && c.SecurityContext.Capabilities != nil {
		current = c.SecurityContext.Capabilities
		containerAdd = capabilitySet(current.Add)
		containerDrop = capabilitySet(current.Drop)
	}

	// A container that drops a default add does not get it.
	defaultAdd = defaultAdd.Difference(containerDrop)
	combinedAdd := defaultAdd.Union(containerAdd)
	combinedDrop := requiredDrop.Union(containerDrop)
	if combinedAdd.Len() == containerAdd.Len() && combinedDrop.Len() == containerDrop.Len() {
		return current
	}
	return &corev1.Capabilities{
		Add:  capabilityList(combinedAdd),
		Drop: capabilityList(combinedDrop),
	}
}

func (s capabilitiesStrategy) validate(fldPath *field.Path, caps *corev1.Capabilities) field.ErrorList {
	if caps == nil {
		if len(s.defaultAdd) == 0 && len(s.requiredDrop) == 0 {
			return nil
		}
		return field.ErrorList{field.Invalid(fldPath, caps, "required capabilities are not set on the securityContext")}
	}

	allowed := capabilitySet(s.allowed)
	if allowed.Has(string(AllowAllCapabilities)) {
		return nil
	}

	var errs field.ErrorList
	defaultAdd := capabilitySet(s.defaultAdd)
	for _, c := range caps.Add {
		if !defaultAdd.Has(string(c)) && !allowed.Has(string(c)) {
			errs = append(errs, field.Invalid(fldPath.Child("add"), string(c), "capability may not be added"))
		}
	}
	dropped := capabilitySet(caps.Drop)
	for _, required := range s.requiredDrop {
		if !dropped.Has(string(required)) {
			errs = append(errs, field.Invalid(fldPath.Child("drop"), caps.Drop,
				fmt.Sprintf("%s is required to be dropped but was not found", required)))
		}
	}
	return errs
}

func capabilitySet(caps []corev1.Capability) sets.Set[string] {
	s := sets.New[string]()
	for _, c := range caps {
		s.Insert(string(c))
	}
	return s
}

// capabilityList is the set sorted, or nil when empty (as 1.24 wrote it).
func capabilityList(s sets.Set[string]) []corev1.Capability {
	if s.Len() == 0 {
		return nil
	}
	var caps []corev1.Capability
	for _, c := range sets.List(s) {
		caps = append(caps, corev1.Capability(c))
	}
	return caps
}
