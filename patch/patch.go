// Package patch computes the securityContext changes to a workload's pod
// template that a migration off PodSecurityPolicy needs: what the PSP
// injected at admission (PreservePatch), and what a Pod Security Standards
// level requires where a securityContext change suffices (LevelPatch).
// Patches are plain data; Apply and TemplatePatch turn them into a
// template or a strategic merge patch.
package patch

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Patch is a change to one pod template: the securityContext fields (and
// runtimeClassName) to set, and the legacy annotations their field form
// replaces. Two patches exist for a workload:
//
//   - PreservePatch keeps what a PSP injected at admission. Without PSP
//     those defaults vanish; the patched template produces the same
//     effective settings on its own.
//   - LevelPatch adds what a PSS level requires and a securityContext
//     change can give, and names every failing check it cannot fix.
//
// A Patch is plain data (the JSON schema is this struct); Apply and
// TemplatePatch turn it into a template or a strategic merge patch.
type Patch struct {
	// Changes lists every field set, pod first, then init, regular and
	// ephemeral containers in template order; within one place, in the
	// order of the field table (patchFields).
	Changes []Change `json:"changes"`
}

// Change sets one field of the pod template, or of one of its containers.
type Change struct {
	// Container is the container's name; "" for the pod.
	Container string `json:"container,omitempty"`
	// ContainerKind is ContainerKindInit, ContainerKindRegular or
	// ContainerKindEphemeral; "" for the pod.
	ContainerKind string `json:"containerKind,omitempty"`
	// Field is the path below the pod spec (pod) or below the container
	// (container), one of the Field* constants. It is "" for a change of
	// an annotation.
	Field string `json:"field,omitempty"`
	// Annotation is the pod template annotation the change sets to Value
	// (a string), where the target server has no field for the setting
	// (AppArmor before 1.30); Container names the container it is for.
	Annotation string `json:"annotation,omitempty"`
	// Value is the new value in its JSON form: int64, bool, string,
	// []string (capabilities), []int64 (supplementalGroups) or
	// map[string]string (seccompProfile, appArmorProfile, seLinuxOptions,
	// keyed by their JSON field names).
	Value any `json:"value,omitempty"`
	// Check is the PSA check the change satisfies (LevelPatch only).
	Check string `json:"check,omitempty"`
	// Reason says why the change is needed.
	Reason string `json:"reason"`
	// Warning is set where the change can break the workload.
	Warning string `json:"warning,omitempty"`
	// RemoveAnnotation is the legacy seccomp or AppArmor annotation that
	// the field form replaces; the API rejects a pod whose annotation and
	// field disagree, so it must go.
	RemoveAnnotation string `json:"removeAnnotation,omitempty"`
}

// Unfixable is a PSA check the template fails that no securityContext
// change can fix without changing what the workload is (host namespaces,
// hostPath volumes, privileged containers, explicit root, …). It is
// reported, never patched away.
type Unfixable struct {
	Check string `json:"check"`
	// Message says why a patch cannot fix it.
	Message string `json:"message"`
	// Detail is the PSA check's own verdict on the patched template.
	Detail string `json:"detail,omitempty"`
}

// Container kinds, as the pod spec names its container lists.
const (
	ContainerKindInit      = "initContainers"
	ContainerKindRegular   = "containers"
	ContainerKindEphemeral = "ephemeralContainers"
)

// Fields a Change sets. Pod fields are below spec, container fields below
// the container.
const (
	FieldRuntimeClassName         = "runtimeClassName"
	FieldSupplementalGroups       = "securityContext.supplementalGroups"
	FieldFSGroup                  = "securityContext.fsGroup"
	FieldRunAsUser                = "securityContext.runAsUser"
	FieldRunAsGroup               = "securityContext.runAsGroup"
	FieldRunAsNonRoot             = "securityContext.runAsNonRoot"
	FieldSELinuxOptions           = "securityContext.seLinuxOptions"
	FieldSeccompProfile           = "securityContext.seccompProfile"
	FieldAppArmorProfile          = "securityContext.appArmorProfile"
	FieldCapabilitiesAdd          = "securityContext.capabilities.add"
	FieldCapabilitiesDrop         = "securityContext.capabilities.drop"
	FieldReadOnlyRootFilesystem   = "securityContext.readOnlyRootFilesystem"
	FieldAllowPrivilegeEscalation = "securityContext.allowPrivilegeEscalation"
)

// Empty reports whether the patch changes nothing.
func (p Patch) Empty() bool { return len(p.Changes) == 0 }

// containerRef is one container of a pod spec with its kind and index.
type containerRef struct {
	kind  string
	index int
	c     *corev1.Container
}

// allContainers lists the spec's containers in patch order: init, regular,
// ephemeral, each by index. The pointers address the spec itself.
func allContainers(spec *corev1.PodSpec) []containerRef {
	var out []containerRef
	for i := range spec.InitContainers {
		out = append(out, containerRef{ContainerKindInit, i, &spec.InitContainers[i]})
	}
	for i := range spec.Containers {
		out = append(out, containerRef{ContainerKindRegular, i, &spec.Containers[i]})
	}
	for i := range spec.EphemeralContainers {
		c := (*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon)
		out = append(out, containerRef{ContainerKindEphemeral, i, c})
	}
	return out
}

// findContainer returns the container of the kind with the name.
func findContainer(spec *corev1.PodSpec, kind, name string) *corev1.Container {
	for _, ref := range allContainers(spec) {
		if ref.kind == kind && ref.c.Name == name {
			return ref.c
		}
	}
	return nil
}

// sortChanges puts changes in patch order: pod, then containers in the
// template's order, each by the field table; annotation-only changes last
// in their place.
func sortChanges(spec *corev1.PodSpec, changes []Change) {
	position := map[[2]string]int{}
	for i, ref := range allContainers(spec) {
		position[[2]string{ref.kind, ref.c.Name}] = i + 1
	}
	fieldRank := func(f string) int {
		if i := slices.IndexFunc(patchFields, func(pf patchField) bool { return pf.name == f }); i >= 0 {
			return i
		}
		return len(patchFields)
	}
	slices.SortStableFunc(changes, func(a, b Change) int {
		return cmp.Or(
			cmp.Compare(position[[2]string{a.ContainerKind, a.Container}], position[[2]string{b.ContainerKind, b.Container}]),
			cmp.Compare(fieldRank(a.Field), fieldRank(b.Field)),
			cmp.Compare(a.RemoveAnnotation, b.RemoveAnnotation),
		)
	})
}
