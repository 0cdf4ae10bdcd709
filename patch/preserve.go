package patch

import (
	"fmt"
	"slices"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// PreservePatch returns the smallest patch that makes the template carry,
// without PSP, what the PSP named pspName wrote into it at admission.
// admitted is the pod the PSP admitted (psp.Admit's Pod), built from this
// template.
//
// Only the fields a PSP defaults are compared (REFERENCE §3, 1.24
// MutatePod): pod supplementalGroups, fsGroup, seLinuxOptions, seccomp and
// runtimeClassName; per container runAsUser, runAsGroup, seLinuxOptions,
// runAsNonRoot, capabilities, readOnlyRootFilesystem,
// allowPrivilegeEscalation and AppArmor. Each change goes where the PSP
// put the value: a container default stays on the container, even when
// every container got the same one. Profiles are compared by effect
// (annotation or field) and written in field form; where the template's
// own annotation stood for the replaced profile, the change removes it.
//
// The PSP already ran the workload with these values, so no change
// carries a warning.
func PreservePatch(template *corev1.PodTemplateSpec, admitted *corev1.Pod, pspName string) Patch {
	changes := preservePod(template, admitted, pspName)
	for _, ref := range allContainers(&template.Spec) {
		got := findContainer(&admitted.Spec, ref.kind, ref.c.Name)
		if got == nil {
			continue
		}
		changes = append(changes, preserveContainer(template, admitted, ref, got, pspName)...)
	}
	changes = append(changes, nonRootForInjectedUIDs(admitted, changes, pspName)...)
	sortChanges(&template.Spec, changes)
	return Patch{Changes: changes}
}

// nonRootForInjectedUIDs keeps what a runAsUser MustRunAs PSP whose
// ranges exclude 0 guaranteed: every container runs as a non-zero UID.
// PSP injected the UID but never runAsNonRoot, which Pod Security
// restricted requires. Where the PSP injected a UID, every container of
// the admitted pod runs as a non-zero UID, and nothing says runAsNonRoot,
// the pod-level runAsNonRoot: true changes nothing at run time (the
// kubelet's check only refuses UID 0) and lets the workload pass
// restricted.
func nonRootForInjectedUIDs(admitted *corev1.Pod, changes []Change, pspName string) []Change {
	if !slices.ContainsFunc(changes, func(ch Change) bool { return ch.Field == FieldRunAsUser }) {
		return nil
	}
	podSC := admitted.Spec.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	if podSC.RunAsNonRoot != nil {
		return nil
	}
	for _, ref := range allContainers(&admitted.Spec) {
		uid := effectiveRunAsUser(&admitted.Spec, ref.c)
		if uid == nil || *uid == 0 || (ref.c.SecurityContext != nil && ref.c.SecurityContext.RunAsNonRoot != nil) {
			return nil
		}
	}
	return []Change{{Field: FieldRunAsNonRoot, Value: true,
		Reason: fmt.Sprintf("kept from PSP %s (runAsUser MustRunAs ran every container as a non-zero UID; restricted wants runAsNonRoot: true)", pspName)}}
}

func injected(pspName, why string) string {
	return fmt.Sprintf("injected by PSP %s (%s)", pspName, why)
}

func preservePod(template *corev1.PodTemplateSpec, admitted *corev1.Pod, pspName string) []Change {
	var changes []Change
	was := template.Spec.SecurityContext
	if was == nil {
		was = &corev1.PodSecurityContext{}
	}
	is := admitted.Spec.SecurityContext
	if is == nil {
		is = &corev1.PodSecurityContext{}
	}
	add := func(field string, value any, why string) {
		changes = append(changes, Change{Field: field, Value: value, Reason: injected(pspName, why)})
	}

	if len(is.SupplementalGroups) > 0 && !slices.Equal(was.SupplementalGroups, is.SupplementalGroups) {
		add(FieldSupplementalGroups, slices.Clone(is.SupplementalGroups), "supplementalGroups MustRunAs")
	}
	if is.FSGroup != nil && !equality.Semantic.DeepEqual(was.FSGroup, is.FSGroup) {
		add(FieldFSGroup, *is.FSGroup, "fsGroup MustRunAs")
	}
	if is.SELinuxOptions != nil && !equality.Semantic.DeepEqual(was.SELinuxOptions, is.SELinuxOptions) {
		add(FieldSELinuxOptions, seLinuxValue(is.SELinuxOptions), "seLinux MustRunAs")
	}
	if got := admitted.Spec.RuntimeClassName; got != nil && !equality.Semantic.DeepEqual(template.Spec.RuntimeClassName, got) {
		add(FieldRuntimeClassName, *got, "runtimeClass.defaultRuntimeClassName")
	}

	// 1.24 wrote the default as the pod annotation; servers copied it into
	// the field. Compare what each pod runs with.
	want := podSeccomp(&admitted.ObjectMeta, &admitted.Spec)
	have := podSeccomp(&template.ObjectMeta, &template.Spec)
	if want != nil && knownSeccompType(want.Type) && !sameProfile(have, want) && !unconfinedByDefault(have, want) {
		changes = append(changes, Change{
			Field:            FieldSeccompProfile,
			Value:            seccompValue(want),
			Reason:           injected(pspName, "annotation "+psp.SeccompDefaultProfileAnnotation),
			RemoveAnnotation: annotationIfPresent(&template.ObjectMeta, psp.SeccompPodAnnotation),
		})
	}
	return changes
}

func preserveContainer(template *corev1.PodTemplateSpec, admitted *corev1.Pod, ref containerRef, got *corev1.Container, pspName string) []Change {
	var changes []Change
	was := ref.c.SecurityContext
	if was == nil {
		was = &corev1.SecurityContext{}
	}
	is := got.SecurityContext
	if is == nil {
		is = &corev1.SecurityContext{}
	}
	add := func(field string, value any, why string) {
		changes = append(changes, Change{Container: ref.c.Name, ContainerKind: ref.kind, Field: field, Value: value, Reason: injected(pspName, why)})
	}
	differs := func(a, b any) bool { return !equality.Semantic.DeepEqual(a, b) }

	if is.RunAsUser != nil && differs(was.RunAsUser, is.RunAsUser) {
		add(FieldRunAsUser, *is.RunAsUser, "runAsUser MustRunAs")
	}
	if is.RunAsGroup != nil && differs(was.RunAsGroup, is.RunAsGroup) {
		add(FieldRunAsGroup, *is.RunAsGroup, "runAsGroup MustRunAs")
	}
	if is.RunAsNonRoot != nil && differs(was.RunAsNonRoot, is.RunAsNonRoot) {
		add(FieldRunAsNonRoot, *is.RunAsNonRoot, "runAsUser MustRunAsNonRoot")
	}
	if is.SELinuxOptions != nil && differs(was.SELinuxOptions, is.SELinuxOptions) {
		add(FieldSELinuxOptions, seLinuxValue(is.SELinuxOptions), "seLinux MustRunAs")
	}
	if is.Capabilities != nil {
		var wasAdd, wasDrop []corev1.Capability
		if was.Capabilities != nil {
			wasAdd, wasDrop = was.Capabilities.Add, was.Capabilities.Drop
		}
		if !sameCapabilitySet(wasAdd, is.Capabilities.Add) {
			add(FieldCapabilitiesAdd, capabilityStrings(is.Capabilities.Add), "defaultAddCapabilities")
		}
		if !sameCapabilitySet(wasDrop, is.Capabilities.Drop) {
			add(FieldCapabilitiesDrop, capabilityStrings(is.Capabilities.Drop), "requiredDropCapabilities")
		}
	}
	if is.ReadOnlyRootFilesystem != nil && differs(was.ReadOnlyRootFilesystem, is.ReadOnlyRootFilesystem) {
		add(FieldReadOnlyRootFilesystem, *is.ReadOnlyRootFilesystem, "readOnlyRootFilesystem")
	}
	if is.AllowPrivilegeEscalation != nil && differs(was.AllowPrivilegeEscalation, is.AllowPrivilegeEscalation) {
		why := "defaultAllowPrivilegeEscalation"
		if !*is.AllowPrivilegeEscalation {
			why = "defaultAllowPrivilegeEscalation or allowPrivilegeEscalation: false"
		}
		add(FieldAllowPrivilegeEscalation, *is.AllowPrivilegeEscalation, why)
	}

	want := effectiveAppArmor(&admitted.ObjectMeta, &admitted.Spec, got)
	if want != nil && knownAppArmorType(want.Type) && !sameProfile(effectiveAppArmor(&template.ObjectMeta, &template.Spec, ref.c), want) {
		changes = append(changes, Change{
			Container: ref.c.Name, ContainerKind: ref.kind,
			Field:            FieldAppArmorProfile,
			Value:            appArmorValue(want),
			Reason:           injected(pspName, "annotation "+psp.AppArmorDefaultProfileAnnotation),
			RemoveAnnotation: annotationIfPresent(&template.ObjectMeta, psp.AppArmorContainerAnnotationPrefix+ref.c.Name),
		})
	}
	return changes
}

// sameCapabilitySet compares capability lists as sets: PSP rewrote a list
// it changed sorted and without duplicates, and left it alone otherwise.
func sameCapabilitySet(a, b []corev1.Capability) bool {
	sa, sb := capabilityStrings(a), capabilityStrings(b)
	slices.Sort(sa)
	slices.Sort(sb)
	return slices.Equal(slices.Compact(sa), slices.Compact(sb))
}

func capabilityStrings(caps []corev1.Capability) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = string(c)
	}
	return out
}

// unconfinedByDefault reports an injected Unconfined profile on a pod that
// sets none: an unset profile already runs Unconfined (unless the kubelet
// runs with --seccomp-default), and writing Unconfined out would fail
// baseline for no change in behaviour.
func unconfinedByDefault(have, want *corev1.SeccompProfile) bool {
	return have == nil && want.Type == corev1.SeccompProfileTypeUnconfined
}
