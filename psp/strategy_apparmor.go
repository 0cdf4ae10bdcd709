package psp

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The AppArmor annotations of a PSP: allowedProfileNames and
// defaultProfileName, applied to every container's profile
// (annotation container.apparmor.security.beta.kubernetes.io/<name>).
//
//   - No allowedProfileNames annotation: AppArmor is not checked at all
//     (unconfined is admitted).
//   - A list (split on commas): the profile must be set and be in the list.
//     Unlike seccomp, a trailing comma does not allow an unset profile.
//   - defaultProfileName: written as the container's annotation when the
//     container has no profile.
//
// Deviation from 1.24: pods today may carry the profile as the
// securityContext.appArmorProfile field (container, else pod), which a 1.24
// server did not know. Servers since 1.30 copy that field into the
// annotation, so the field is treated as if it were the annotation: it is
// validated, and it stops the default from being written.
//
// Port of pkg/security/podsecuritypolicy/apparmor (1.24).
type appArmorStrategy struct {
	defaultProfile string
	// allowed is nil when the PSP has no allowedProfileNames annotation.
	allowed map[string]bool
	// allowedString is the annotation as written, for messages.
	allowedString string
}

func newAppArmorStrategy(p *PodSecurityPolicy) appArmorStrategy {
	s := appArmorStrategy{
		defaultProfile: p.Annotations[AppArmorDefaultProfileAnnotation],
		allowedString:  p.Annotations[AppArmorAllowedProfilesAnnotation],
	}
	if names, set := AppArmorAllowedProfiles(p); set {
		s.allowed = make(map[string]bool, len(names))
		for _, name := range names {
			s.allowed[name] = true
		}
	}
	return s
}

// generate writes the default profile annotation for a container that has
// no profile.
func (s appArmorStrategy) generate(pod *corev1.Pod, c *corev1.Container) {
	if s.defaultProfile == "" || appArmorProfileForContainer(pod, c) != "" {
		return
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[AppArmorContainerAnnotationPrefix+c.Name] = s.defaultProfile
}

func (s appArmorStrategy) validate(pod *corev1.Pod, c *corev1.Container) field.ErrorList {
	if s.allowed == nil {
		return nil
	}
	path := field.NewPath("pod", "metadata", "annotations").Key(AppArmorContainerAnnotationPrefix + c.Name)
	profile := appArmorProfileForContainer(pod, c)
	if profile == "" {
		if len(s.allowed) > 0 {
			return field.ErrorList{field.Forbidden(path, "AppArmor profile must be set")}
		}
		return nil
	}
	if !s.allowed[profile] {
		msg := fmt.Sprintf("%s is not an allowed profile. Allowed values: %q", profile, s.allowedString)
		return field.ErrorList{field.Forbidden(path, msg)}
	}
	return nil
}

// appArmorProfileForContainer is the container's profile in annotation
// form: its annotation, else its appArmorProfile field, else the pod's
// field (the precedence of the 1.30+ field/annotation sync).
func appArmorProfileForContainer(pod *corev1.Pod, c *corev1.Container) string {
	if profile := pod.Annotations[AppArmorContainerAnnotationPrefix+c.Name]; profile != "" {
		return profile
	}
	if c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil {
		return AppArmorAnnotationForField(c.SecurityContext.AppArmorProfile)
	}
	if pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.AppArmorProfile != nil {
		return AppArmorAnnotationForField(pod.Spec.SecurityContext.AppArmorProfile)
	}
	return ""
}

// AppArmorAnnotationForField returns an appArmorProfile field in annotation
// form ("runtime/default", "unconfined", "localhost/<name>"), or "" for a
// Localhost profile without a name or an unknown type.
func AppArmorAnnotationForField(profile *corev1.AppArmorProfile) string {
	switch profile.Type {
	case corev1.AppArmorProfileTypeUnconfined:
		return AppArmorProfileNameUnconfined
	case corev1.AppArmorProfileTypeRuntimeDefault:
		return AppArmorProfileRuntimeDefault
	case corev1.AppArmorProfileTypeLocalhost:
		if profile.LocalhostProfile != nil {
			return AppArmorLocalhostPrefix + *profile.LocalhostProfile
		}
	}
	return ""
}
