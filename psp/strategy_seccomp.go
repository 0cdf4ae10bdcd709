package psp

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The seccomp annotations of a PSP: allowedProfileNames and
// defaultProfileName. The pod's profile is read from the pod annotation,
// else the pod's seccompProfile field; a container's from its field, else
// its container annotation, else the pod's field, else the pod annotation.
//
//   - No allowedProfileNames annotation: only an unset profile is allowed
//     ("seccomp may not be set").
//   - A list (split on commas): the profile must be in it; "*" allows any;
//     a trailing comma adds "", which allows an unset profile;
//     docker/default and runtime/default allow each other.
//   - defaultProfileName: written as the pod annotation when the pod has
//     neither the annotation nor the field. A pod with only the field gets
//     the annotation too (1.24 copied the field into it), which counts as a
//     mutation.
//
// Port of pkg/security/podsecuritypolicy/seccomp (1.24).
type seccompStrategy struct {
	defaultProfile string
	// allowed is nil when the PSP has no allowedProfileNames annotation.
	allowed map[string]bool
	// allowedString is the annotation as written, for messages.
	allowedString string
	allowAny      bool
}

func newSeccompStrategy(p *PodSecurityPolicy) seccompStrategy {
	s := seccompStrategy{
		defaultProfile: p.Annotations[SeccompDefaultProfileAnnotation],
		allowedString:  p.Annotations[SeccompAllowedProfilesAnnotation],
	}
	names, set := SeccompAllowedProfiles(p)
	if !set {
		return s
	}
	s.allowed = make(map[string]bool, len(names))
	for _, name := range names {
		if name == AllowAllProfiles {
			s.allowAny = true
			continue
		}
		// 1.24 converts docker/default into runtime/default, so either
		// name allows both.
		if name == SeccompProfileDockerDefault || name == SeccompProfileRuntimeDefault {
			s.allowed[SeccompProfileDockerDefault] = true
			s.allowed[SeccompProfileRuntimeDefault] = true
		}
		s.allowed[name] = true
	}
	return s
}

// SeccompAllowedProfiles returns the PSP's seccomp allowedProfileNames
// split on commas exactly as 1.24 split them (a trailing comma yields an
// empty name, which allows an unset profile), and whether the annotation
// is present at all.
func SeccompAllowedProfiles(p *PodSecurityPolicy) (names []string, set bool) {
	return splitProfileList(p.Annotations, SeccompAllowedProfilesAnnotation)
}

// AppArmorAllowedProfiles returns the PSP's AppArmor allowedProfileNames
// split on commas as 1.24 split them, and whether the annotation is
// present. Absent means AppArmor is not checked at all.
func AppArmorAllowedProfiles(p *PodSecurityPolicy) (names []string, set bool) {
	return splitProfileList(p.Annotations, AppArmorAllowedProfilesAnnotation)
}

func splitProfileList(annotations map[string]string, key string) ([]string, bool) {
	list, ok := annotations[key]
	if !ok {
		return nil, false
	}
	return strings.Split(list, ","), true
}

// generate returns the pod annotation value MutatePod writes: the pod's
// own annotation, else its field in annotation form, else the PSP default.
func (s seccompStrategy) generate(pod *corev1.Pod) string {
	if profile := pod.Annotations[SeccompPodAnnotation]; profile != "" {
		return profile
	}
	if sc := pod.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		return SeccompAnnotationForField(sc.SeccompProfile)
	}
	return s.defaultProfile
}

func (s seccompStrategy) validatePod(pod *corev1.Pod) field.ErrorList {
	path := field.NewPath("pod", "metadata", "annotations").Key(SeccompPodAnnotation)
	profile := pod.Annotations[SeccompPodAnnotation]
	if profile == "" && pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.SeccompProfile != nil {
		profile = SeccompAnnotationForField(pod.Spec.SecurityContext.SeccompProfile)
	}
	return s.validateProfile(path, profile)
}

func (s seccompStrategy) validateContainer(pod *corev1.Pod, c *corev1.Container) field.ErrorList {
	path := field.NewPath("pod", "metadata", "annotations").Key(SeccompContainerAnnotationPrefix + c.Name)
	return s.validateProfile(path, seccompProfileForContainer(pod, c))
}

func (s seccompStrategy) validateProfile(path *field.Path, profile string) field.ErrorList {
	if !s.allowAny && len(s.allowed) == 0 && profile != "" {
		return field.ErrorList{field.Forbidden(path, "seccomp may not be set")}
	}
	if !s.profileAllowed(profile) {
		msg := fmt.Sprintf("%s is not an allowed seccomp profile. Valid values are %v", profile, s.allowedString)
		return field.ErrorList{field.Forbidden(path, msg)}
	}
	return nil
}

// profileAllowed passes an unset profile when the PSP lists no profiles:
// that is the runtime's default, as before seccomp was configurable.
func (s seccompStrategy) profileAllowed(profile string) bool {
	if len(s.allowed) == 0 && profile == "" {
		return true
	}
	return s.allowAny || s.allowed[profile]
}

// seccompProfileForContainer is the container's profile in annotation form,
// in 1.24's order of precedence.
func seccompProfileForContainer(pod *corev1.Pod, c *corev1.Container) string {
	if c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil {
		return SeccompAnnotationForField(c.SecurityContext.SeccompProfile)
	}
	if profile, ok := pod.Annotations[SeccompContainerAnnotationPrefix+c.Name]; ok {
		return profile
	}
	if pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.SeccompProfile != nil {
		return SeccompAnnotationForField(pod.Spec.SecurityContext.SeccompProfile)
	}
	return pod.Annotations[SeccompPodAnnotation]
}

// SeccompAnnotationForField returns a seccompProfile field in annotation
// form ("runtime/default", "unconfined", "localhost/<path>"), or "" for a
// Localhost profile without a path or an unknown type (1.24
// podutil.SeccompAnnotationForField).
func SeccompAnnotationForField(profile *corev1.SeccompProfile) string {
	switch profile.Type {
	case corev1.SeccompProfileTypeUnconfined:
		return SeccompProfileNameUnconfined
	case corev1.SeccompProfileTypeRuntimeDefault:
		return SeccompProfileRuntimeDefault
	case corev1.SeccompProfileTypeLocalhost:
		if profile.LocalhostProfile != nil {
			return SeccompLocalhostProfilePrefix + *profile.LocalhostProfile
		}
	}
	return ""
}
