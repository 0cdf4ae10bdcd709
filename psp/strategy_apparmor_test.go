package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func appArmorAnnotations(allowed, defaultProfile string) func(*PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		if allowed != "-" {
			p.Annotations[AppArmorAllowedProfilesAnnotation] = allowed
		}
		if defaultProfile != "" {
			p.Annotations[AppArmorDefaultProfileAnnotation] = defaultProfile
		}
	}
}

func appArmorProfile(t corev1.AppArmorProfileType, localhost ...string) *corev1.AppArmorProfile {
	profile := &corev1.AppArmorProfile{Type: t}
	if len(localhost) > 0 {
		profile.LocalhostProfile = &localhost[0]
	}
	return profile
}

func TestAdmitAppArmor(t *testing.T) { runAdmitCases(t, appArmorCases()) }

func appArmorCases() []admitCase {
	const (
		appKey  = AppArmorContainerAnnotationPrefix + "app"
		appPath = "pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]"
	)
	return []admitCase{
		{
			name: "no allowed list does not check AppArmor: unconfined is admitted",
			pod:  podAnnotation(appKey, "unconfined"),
		},
		{
			name:     "no allowed list still writes the default profile",
			psp:      appArmorAnnotations("-", "runtime/default"),
			defaults: podAnnotation(appKey, "runtime/default"),
		},
		{
			name:     "default profile is written per container",
			psp:      appArmorAnnotations("runtime/default", "runtime/default"),
			defaults: podAnnotation(appKey, "runtime/default"),
		},
		{
			name: "a container's allowed profile is kept",
			psp:  appArmorAnnotations("runtime/default,localhost/custom", "runtime/default"),
			pod:  podAnnotation(appKey, "localhost/custom"),
		},
		{
			name:   "allowed list rejects an unset profile",
			psp:    appArmorAnnotations("runtime/default", ""),
			errors: []string{appPath + ": Forbidden: AppArmor profile must be set"},
		},
		{
			name:   "a trailing comma does not allow an unset profile",
			psp:    appArmorAnnotations("runtime/default,", ""),
			errors: []string{appPath + ": Forbidden: AppArmor profile must be set"},
		},
		{
			name:   "a profile outside the list is rejected",
			psp:    appArmorAnnotations("runtime/default", ""),
			pod:    podAnnotation(appKey, "localhost/foo"),
			errors: []string{appPath + `: Forbidden: localhost/foo is not an allowed profile. Allowed values: "runtime/default"`},
		},
		{
			name: "there is no wildcard: * is just a name",
			psp:  appArmorAnnotations("*", ""),
			pod:  podAnnotation(appKey, "runtime/default"),
			errors: []string{
				appPath + `: Forbidden: runtime/default is not an allowed profile. Allowed values: "*"`,
			},
			invalidPolicy: `invalid AppArmor profile name: "*"`,
		},
		{
			// The only AppArmor list 1.24 stored without checking names.
			name:   "an empty allowed list admits no pod",
			psp:    appArmorAnnotations("", ""),
			errors: []string{appPath + ": Forbidden: AppArmor profile must be set"},
		},
		{
			name:   "an empty allowed list rejects every profile",
			psp:    appArmorAnnotations("", ""),
			pod:    podAnnotation(appKey, "runtime/default"),
			errors: []string{appPath + `: Forbidden: runtime/default is not an allowed profile. Allowed values: ""`},
		},
		// Deviation from 1.24, which knew no appArmorProfile field: the
		// field counts as the annotation (1.30+ servers sync them).
		{
			name: "a container's appArmorProfile field is validated like the annotation",
			psp:  appArmorAnnotations("runtime/default", "runtime/default"),
			pod: func(p *corev1.Pod) {
				containerSC(p).AppArmorProfile = appArmorProfile(corev1.AppArmorProfileTypeUnconfined)
			},
			errors: []string{appPath + `: Forbidden: unconfined is not an allowed profile. Allowed values: "runtime/default"`},
		},
		{
			name: "a pod's appArmorProfile field counts for its containers and stops the default",
			psp:  appArmorAnnotations("localhost/custom", "runtime/default"),
			pod: func(p *corev1.Pod) {
				podSC(p).AppArmorProfile = appArmorProfile(corev1.AppArmorProfileTypeLocalhost, "custom")
			},
		},
		{
			name: "a container's field beats the pod's field",
			psp:  appArmorAnnotations("runtime/default", ""),
			pod: func(p *corev1.Pod) {
				podSC(p).AppArmorProfile = appArmorProfile(corev1.AppArmorProfileTypeUnconfined)
				containerSC(p).AppArmorProfile = appArmorProfile(corev1.AppArmorProfileTypeRuntimeDefault)
			},
		},
		{
			name: "the annotation beats the field",
			psp:  appArmorAnnotations("runtime/default", ""),
			pod: both(podAnnotation(appKey, "runtime/default"), func(p *corev1.Pod) {
				containerSC(p).AppArmorProfile = appArmorProfile(corev1.AppArmorProfileTypeUnconfined)
			}),
		},
	}
}

func TestAdmitAppArmorNamesContainers(t *testing.T) {
	// The annotation is keyed by container name: each container of every
	// kind gets its own.
	policy := permissivePSP()
	appArmorAnnotations("runtime/default", "runtime/default")(policy)
	pod := plainPod()
	pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
	pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
	podAnnotation(AppArmorContainerAnnotationPrefix+"app", "runtime/default")(pod)

	got := Admit(policy, pod)
	want := map[string]string{
		AppArmorContainerAnnotationPrefix + "app":   "runtime/default",
		AppArmorContainerAnnotationPrefix + "init":  "runtime/default",
		AppArmorContainerAnnotationPrefix + "debug": "runtime/default",
		ValidatedPSPAnnotation:                      "psp-sa",
	}
	if !got.Mutated || !equalMaps(got.Pod.Annotations, want) {
		t.Errorf("Mutated = %v, annotations = %v; want true, %v", got.Mutated, got.Pod.Annotations, want)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestAppArmorAnnotationForField(t *testing.T) {
	tests := []struct {
		profile *corev1.AppArmorProfile
		want    string
	}{
		{appArmorProfile(corev1.AppArmorProfileTypeRuntimeDefault), "runtime/default"},
		{appArmorProfile(corev1.AppArmorProfileTypeUnconfined), "unconfined"},
		{appArmorProfile(corev1.AppArmorProfileTypeLocalhost, "k8s-nginx"), "localhost/k8s-nginx"},
		{appArmorProfile(corev1.AppArmorProfileTypeLocalhost), ""},
	}
	for _, tc := range tests {
		if got := AppArmorAnnotationForField(tc.profile); got != tc.want {
			t.Errorf("AppArmorAnnotationForField(%+v) = %q, want %q", tc.profile, got, tc.want)
		}
	}
}
