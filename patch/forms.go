package patch

import (
	"encoding/json"
	"fmt"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ForServer returns the patch in the form the target server accepts,
// field by field. Patches are computed with fields; before 1.30 there is
// no AppArmor field (the server rejects it under strict field validation
// and drops it otherwise, losing the profile), so each appArmorProfile
// change becomes the container annotation
// container.apparmor.security.beta.kubernetes.io/<name> that PSP wrote and
// those servers read. A pod-level profile becomes the annotation of every
// container without a profile of its own. template is the template the
// patch was computed for.
func (p Patch) ForServer(t apiserver.Target, template *corev1.PodTemplateSpec) Patch {
	if t.AppArmorField() || !p.hasField(FieldAppArmorProfile) {
		return p
	}
	var out []Change
	for _, ch := range p.Changes {
		if ch.Field != FieldAppArmorProfile {
			out = append(out, ch)
			continue
		}
		value := appArmorAnnotationValue(ch.Value)
		if ch.Container != "" {
			out = append(out, annotationChange(ch, ch.ContainerKind, ch.Container, value))
			continue
		}
		for _, ref := range allContainers(&template.Spec) {
			if containerOwnAppArmor(&template.ObjectMeta, ref.c) == nil && !p.setsAppArmorOf(ref.kind, ref.c.Name) {
				out = append(out, annotationChange(ch, ref.kind, ref.c.Name, value))
			}
		}
	}
	sortChanges(&template.Spec, out)
	return Patch{Changes: out}
}

// setsAppArmorOf reports whether the patch sets the container's own
// AppArmor profile, which wins over the pod's.
func (p Patch) setsAppArmorOf(kind, container string) bool {
	for _, ch := range p.Changes {
		if ch.Field == FieldAppArmorProfile && ch.ContainerKind == kind && ch.Container == container {
			return true
		}
	}
	return false
}

func (p Patch) hasField(field string) bool {
	for _, ch := range p.Changes {
		if ch.Field == field {
			return true
		}
	}
	return false
}

// annotationChange turns a field change into the annotation that carries
// the same profile for one container.
func annotationChange(field Change, kind, container, value string) Change {
	ch := field
	ch.ContainerKind, ch.Container = kind, container
	ch.Field, ch.Value = "", value
	ch.Annotation = appArmorContainerAnnotation(container)
	if ch.RemoveAnnotation == ch.Annotation {
		ch.RemoveAnnotation = ""
	}
	return ch
}

// appArmorAnnotationValue is a profile change's value as the annotation
// spells it: runtime/default, unconfined or localhost/<name>.
func appArmorAnnotationValue(v any) string {
	raw, _ := json.Marshal(v)
	var profile corev1.AppArmorProfile
	if json.Unmarshal(raw, &profile) != nil {
		return ""
	}
	switch profile.Type {
	case corev1.AppArmorProfileTypeRuntimeDefault:
		return psp.AppArmorProfileRuntimeDefault
	case corev1.AppArmorProfileTypeUnconfined:
		return psp.AppArmorProfileNameUnconfined
	case corev1.AppArmorProfileTypeLocalhost:
		if profile.LocalhostProfile != nil {
			return psp.AppArmorLocalhostPrefix + *profile.LocalhostProfile
		}
	}
	return string(profile.Type)
}

// LegacyForms returns the changes that keep what the template's seccomp
// annotations mean on a server that no longer reads them. Up to 1.26 the
// server copied an annotation into the seccompProfile field of its scope
// (the pod, or the container it names); from 1.27 nothing does and the
// kubelet ignores it, so a container annotated "unconfined" under a
// RuntimeDefault pod would quietly run RuntimeDefault, and a pod annotated
// runtime/default would run Unconfined. Each annotation whose scope has
// no field becomes that field, and goes. Values with no field form are
// left alone.
func LegacyForms(template *corev1.PodTemplateSpec, t apiserver.Target) Patch {
	if t.CopiesSeccompAnnotations() || len(template.Annotations) == 0 {
		return Patch{}
	}
	meta := &template.ObjectMeta
	var changes []Change
	if sc := template.Spec.SecurityContext; sc == nil || sc.SeccompProfile == nil {
		if ch, ok := legacySeccomp(meta, seccompPodAnnotation); ok {
			changes = append(changes, ch)
		}
	}
	for _, ref := range allContainers(&template.Spec) {
		if sc := ref.c.SecurityContext; sc != nil && sc.SeccompProfile != nil {
			continue
		}
		if ch, ok := legacySeccomp(meta, seccompContainerAnnotation(ref.c.Name)); ok {
			ch.Container, ch.ContainerKind = ref.c.Name, ref.kind
			changes = append(changes, ch)
		}
	}
	sortChanges(&template.Spec, changes)
	return Patch{Changes: changes}
}

// legacySeccomp is the change that moves the annotation key into its
// field, if the template has it with a value the field can hold.
func legacySeccomp(meta *metav1.ObjectMeta, key string) (Change, bool) {
	value, ok := meta.Annotations[key]
	if !ok {
		return Change{}, false
	}
	profile := seccompFromAnnotation(value)
	if !knownSeccompType(profile.Type) {
		return Change{}, false
	}
	return Change{
		Field: FieldSeccompProfile, Value: seccompValue(profile), RemoveAnnotation: key,
		Reason: fmt.Sprintf("annotation %s: %s is ignored from Kubernetes 1.27; the field keeps the profile", key, value),
	}, true
}

// Merge adds the changes of other that set a field p does not already
// set, in patch order for the template.
func (p Patch) Merge(other Patch, template *corev1.PodTemplateSpec) Patch {
	if other.Empty() {
		return p
	}
	type place struct{ kind, container, field, annotation string }
	have := map[place]bool{}
	for _, ch := range p.Changes {
		have[place{ch.ContainerKind, ch.Container, ch.Field, ch.Annotation}] = true
	}
	out := append([]Change{}, p.Changes...)
	for _, ch := range other.Changes {
		if !have[place{ch.ContainerKind, ch.Container, ch.Field, ch.Annotation}] {
			out = append(out, ch)
		}
	}
	sortChanges(&template.Spec, out)
	return Patch{Changes: out}
}
