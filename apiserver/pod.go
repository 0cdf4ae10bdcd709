package apiserver

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Seccomp annotation keys and values the 1.19–1.26 servers sync with the
// seccompProfile fields.
const (
	seccompPodAnnotation             = "seccomp.security.alpha.kubernetes.io/pod"
	seccompContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/"
	seccompRuntimeDefault            = "runtime/default"
	seccompDockerDefault             = "docker/default"
	seccompUnconfined                = "unconfined"
	seccompLocalhostPrefix           = "localhost/"
)

// PrepareForAdmission does to a new pod what the target server does
// before validating admission (Pod Security admission among it) sees it:
// on 1.19–1.26 the pod strategy's applySeccompVersionSkew syncs each
// seccomp annotation with its field (an annotation without a field becomes
// the field, a field without an annotation the annotation), so an
// annotated "unconfined" container is Unconfined to Pod Security there.
// From 1.27 the annotations mean nothing and are left alone. The pod is
// changed in place.
func (t Target) PrepareForAdmission(pod *corev1.Pod) {
	if !t.CopiesSeccompAnnotations() {
		return
	}
	var podField *corev1.SeccompProfile
	if sc := pod.Spec.SecurityContext; sc != nil {
		podField = sc.SeccompProfile
	}
	if f := syncSeccomp(&pod.ObjectMeta, seccompPodAnnotation, podField); f != nil {
		if pod.Spec.SecurityContext == nil {
			pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
		}
		pod.Spec.SecurityContext.SeccompProfile = f
	}
	for _, c := range containers(&pod.Spec) {
		var field *corev1.SeccompProfile
		if c.SecurityContext != nil {
			field = c.SecurityContext.SeccompProfile
		}
		if f := syncSeccomp(&pod.ObjectMeta, seccompContainerAnnotationPrefix+c.Name, field); f != nil {
			if c.SecurityContext == nil {
				c.SecurityContext = &corev1.SecurityContext{}
			}
			c.SecurityContext.SeccompProfile = f
		}
	}
}

// syncSeccomp is one step of applySeccompVersionSkew: a field without an
// annotation writes the annotation; an annotation without a field gives
// the field to set, returned (nil when there is none to set).
func syncSeccomp(meta *metav1.ObjectMeta, key string, field *corev1.SeccompProfile) *corev1.SeccompProfile {
	value, hasAnnotation := meta.Annotations[key]
	switch {
	case field != nil && !hasAnnotation:
		if v := seccompAnnotationFor(field); v != "" {
			if meta.Annotations == nil {
				meta.Annotations = map[string]string{}
			}
			meta.Annotations[key] = v
		}
	case hasAnnotation && field == nil:
		return seccompFieldFor(value)
	}
	return nil
}

func seccompFieldFor(annotation string) *corev1.SeccompProfile {
	switch {
	case annotation == seccompUnconfined:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	case annotation == seccompRuntimeDefault || annotation == seccompDockerDefault:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case strings.HasPrefix(annotation, seccompLocalhostPrefix) && len(annotation) > len(seccompLocalhostPrefix):
		name := strings.TrimPrefix(annotation, seccompLocalhostPrefix)
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &name}
	}
	return nil
}

func seccompAnnotationFor(field *corev1.SeccompProfile) string {
	switch field.Type {
	case corev1.SeccompProfileTypeUnconfined:
		return seccompUnconfined
	case corev1.SeccompProfileTypeRuntimeDefault:
		return seccompRuntimeDefault
	case corev1.SeccompProfileTypeLocalhost:
		if field.LocalhostProfile != nil {
			return seccompLocalhostPrefix + *field.LocalhostProfile
		}
	}
	return ""
}

// containers are the pod's init, regular and ephemeral containers.
func containers(spec *corev1.PodSpec) []*corev1.Container {
	var out []*corev1.Container
	for i := range spec.InitContainers {
		out = append(out, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		out = append(out, &spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		out = append(out, (*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	return out
}
