package patch

import (
	"encoding/json"

	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/target"
	corev1 "k8s.io/api/core/v1"
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
func (p Patch) ForServer(t target.Target, template *corev1.PodTemplateSpec) Patch {
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
			if containerOwnAppArmor(&template.ObjectMeta, ref.c) == nil {
				out = append(out, annotationChange(ch, ref.kind, ref.c.Name, value))
			}
		}
	}
	sortChanges(&template.Spec, out)
	return Patch{Changes: out}
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
