package patch

import (
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Seccomp and AppArmor profiles have two spellings: the legacy annotations
// PSP read and wrote, and the securityContext fields that replaced them.
// Patches always write the field form; these helpers read either spelling
// as a field, with the precedence the apiserver's annotation/field sync
// gives them (a field wins over the annotation of the same scope, a
// container's own profile over the pod's).
//
// An annotation value with no field form (neither runtime/default,
// docker/default, unconfined nor localhost/<name>) is kept as a profile
// whose Type is the raw value: no PSA check accepts it and
// knownProfileType rejects it, so no patch ever writes it.

// seccompFromAnnotation returns a seccomp annotation value in field form.
func seccompFromAnnotation(v string) *corev1.SeccompProfile {
	switch {
	case v == psp.SeccompProfileRuntimeDefault || v == psp.SeccompProfileDockerDefault:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case v == psp.SeccompProfileNameUnconfined:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	case strings.HasPrefix(v, psp.SeccompLocalhostProfilePrefix) && len(v) > len(psp.SeccompLocalhostProfilePrefix):
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new(strings.TrimPrefix(v, psp.SeccompLocalhostProfilePrefix))}
	}
	return &corev1.SeccompProfile{Type: corev1.SeccompProfileType(v)}
}

// appArmorFromAnnotation returns an AppArmor annotation value in field form.
func appArmorFromAnnotation(v string) *corev1.AppArmorProfile {
	switch {
	case v == psp.AppArmorProfileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case v == psp.AppArmorProfileNameUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case strings.HasPrefix(v, psp.AppArmorLocalhostPrefix) && len(v) > len(psp.AppArmorLocalhostPrefix):
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: new(strings.TrimPrefix(v, psp.AppArmorLocalhostPrefix))}
	}
	return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileType(v)}
}

// podSeccomp is the pod's own seccomp profile: its field, else its
// annotation; nil when neither is set.
func podSeccomp(meta *metav1.ObjectMeta, spec *corev1.PodSpec) *corev1.SeccompProfile {
	if sc := spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		return sc.SeccompProfile
	}
	if v, ok := meta.Annotations[psp.SeccompPodAnnotation]; ok {
		return seccompFromAnnotation(v)
	}
	return nil
}

// containerOwnSeccomp is the container's own seccomp profile: its field,
// else its container annotation; nil when neither is set.
func containerOwnSeccomp(meta *metav1.ObjectMeta, c *corev1.Container) *corev1.SeccompProfile {
	if sc := c.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		return sc.SeccompProfile
	}
	if v, ok := meta.Annotations[psp.SeccompContainerAnnotationPrefix+c.Name]; ok {
		return seccompFromAnnotation(v)
	}
	return nil
}

// containerOwnAppArmor is the container's own AppArmor profile: its field,
// else its annotation; nil when neither is set. An empty annotation means
// unset, as it did to PSP and does to PSA.
func containerOwnAppArmor(meta *metav1.ObjectMeta, c *corev1.Container) *corev1.AppArmorProfile {
	if sc := c.SecurityContext; sc != nil && sc.AppArmorProfile != nil {
		return sc.AppArmorProfile
	}
	if v := meta.Annotations[psp.AppArmorContainerAnnotationPrefix+c.Name]; v != "" {
		return appArmorFromAnnotation(v)
	}
	return nil
}

// effectiveAppArmor is the profile the container runs with: its own, else
// the pod's field.
func effectiveAppArmor(meta *metav1.ObjectMeta, spec *corev1.PodSpec, c *corev1.Container) *corev1.AppArmorProfile {
	if p := containerOwnAppArmor(meta, c); p != nil {
		return p
	}
	if sc := spec.SecurityContext; sc != nil {
		return sc.AppArmorProfile
	}
	return nil
}

// annotationIfPresent returns key when the annotation exists, else "".
func annotationIfPresent(meta *metav1.ObjectMeta, key string) string {
	if _, ok := meta.Annotations[key]; ok {
		return key
	}
	return ""
}

func knownSeccompType(t corev1.SeccompProfileType) bool {
	switch t {
	case corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined, corev1.SeccompProfileTypeLocalhost:
		return true
	}
	return false
}

func knownAppArmorType(t corev1.AppArmorProfileType) bool {
	switch t {
	case corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined, corev1.AppArmorProfileTypeLocalhost:
		return true
	}
	return false
}

// seccompValue is a seccomp profile as a Change value.
func seccompValue(p *corev1.SeccompProfile) map[string]string {
	v := map[string]string{"type": string(p.Type)}
	if p.LocalhostProfile != nil {
		v["localhostProfile"] = *p.LocalhostProfile
	}
	return v
}

// appArmorValue is an AppArmor profile as a Change value.
func appArmorValue(p *corev1.AppArmorProfile) map[string]string {
	v := map[string]string{"type": string(p.Type)}
	if p.LocalhostProfile != nil {
		v["localhostProfile"] = *p.LocalhostProfile
	}
	return v
}

// seLinuxValue is SELinux options as a Change value, unset parts left out.
func seLinuxValue(o *corev1.SELinuxOptions) map[string]string {
	v := map[string]string{}
	for key, part := range map[string]string{"user": o.User, "role": o.Role, "type": o.Type, "level": o.Level} {
		if part != "" {
			v[key] = part
		}
	}
	return v
}

func runtimeDefaultSeccomp() *corev1.SeccompProfile {
	return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
}

func runtimeDefaultAppArmor() *corev1.AppArmorProfile {
	return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
}

// sameProfile compares two profiles semantically (nil equals nil).
func sameProfile[T any](a, b *T) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// Legacy annotation keys, by scope.
const seccompPodAnnotation = psp.SeccompPodAnnotation

func seccompContainerAnnotation(name string) string {
	return psp.SeccompContainerAnnotationPrefix + name
}

func appArmorContainerAnnotation(name string) string {
	return psp.AppArmorContainerAnnotationPrefix + name
}
