package psp

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func seccompAnnotations(allowed, defaultProfile string) func(*PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		if allowed != "-" {
			p.Annotations[SeccompAllowedProfilesAnnotation] = allowed
		}
		if defaultProfile != "" {
			p.Annotations[SeccompDefaultProfileAnnotation] = defaultProfile
		}
	}
}

func podAnnotation(key, value string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[key] = value
	}
}

func both(fs ...func(*corev1.Pod)) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		for _, f := range fs {
			f(p)
		}
	}
}

func podSeccomp(t corev1.SeccompProfileType, localhost ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { podSC(p).SeccompProfile = seccompProfile(t, localhost...) }
}

func containerSeccomp(t corev1.SeccompProfileType, localhost ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { containerSC(p).SeccompProfile = seccompProfile(t, localhost...) }
}

func seccompProfile(t corev1.SeccompProfileType, localhost ...string) *corev1.SeccompProfile {
	profile := &corev1.SeccompProfile{Type: t}
	if len(localhost) > 0 {
		profile.LocalhostProfile = &localhost[0]
	}
	return profile
}

func TestAdmitSeccomp(t *testing.T) { runAdmitCases(t, seccompCases()) }

func seccompCases() []admitCase {
	const (
		podKey       = SeccompPodAnnotation
		containerKey = SeccompContainerAnnotationPrefix + "app"
		podPath      = "pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]"
		appPath      = "pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]"
	)
	return []admitCase{
		{
			name: "no annotations admits an unset profile",
		},
		{
			name:   "no annotations forbids a pod annotation, at the pod and the container",
			pod:    podAnnotation(podKey, "runtime/default"),
			errors: []string{podPath + ": Forbidden: seccomp may not be set", appPath + ": Forbidden: seccomp may not be set"},
		},
		{
			name:   "no annotations forbids a container field",
			pod:    containerSeccomp(corev1.SeccompProfileTypeRuntimeDefault),
			errors: []string{appPath + ": Forbidden: seccomp may not be set"},
		},
		{
			// The field is copied into the annotation (a mutation) and then
			// forbidden, as 1.24 did.
			name:     "no annotations forbids a pod field and copies it into the annotation",
			pod:      podSeccomp(corev1.SeccompProfileTypeRuntimeDefault),
			defaults: podAnnotation(podKey, "runtime/default"),
			errors:   []string{podPath + ": Forbidden: seccomp may not be set", appPath + ": Forbidden: seccomp may not be set"},
		},
		{
			name:     "default profile is written as the pod annotation",
			psp:      seccompAnnotations("runtime/default", "runtime/default"),
			defaults: podAnnotation(podKey, "runtime/default"),
		},
		{
			name: "default profile does not touch a pod whose annotation is allowed",
			psp:  seccompAnnotations("runtime/default,localhost/x", "runtime/default"),
			pod:  podAnnotation(podKey, "localhost/x"),
		},
		{
			name:     "default profile is not written over a pod field; the field's value is",
			psp:      seccompAnnotations("runtime/default,localhost/x", "runtime/default"),
			pod:      podSeccomp(corev1.SeccompProfileTypeLocalhost, "x"),
			defaults: podAnnotation(podKey, "localhost/x"),
		},
		{
			// So a pod carrying only the field is mutated by every PSP,
			// which matters when the plugin prefers a non-mutating PSP.
			name: "a pod field copied into the annotation is a mutation like any default",
			psp: both2(seccompAnnotations("runtime/default", ""), func(p *PodSecurityPolicy) {
				p.Spec.ReadOnlyRootFilesystem = true
			}),
			pod: podSeccomp(corev1.SeccompProfileTypeRuntimeDefault),
			defaults: both(podAnnotation(podKey, "runtime/default"), func(p *corev1.Pod) {
				containerSC(p).ReadOnlyRootFilesystem = new(true)
			}),
		},
		{
			// 1.24 read the pod annotation first for the pod but the pod
			// field first for its containers. (Core validation rejected such
			// a pod anyway: annotation and field must agree.)
			name:   "differing pod annotation and field: the pod checks the annotation, containers the field",
			psp:    seccompAnnotations("runtime/default", ""),
			pod:    both(podAnnotation(podKey, "runtime/default"), podSeccomp(corev1.SeccompProfileTypeUnconfined)),
			errors: []string{appPath + ": Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default"},
		},
		{
			name:   "allowed list rejects an unset profile",
			psp:    seccompAnnotations("runtime/default", ""),
			errors: []string{podPath + ": Forbidden:  is not an allowed seccomp profile. Valid values are runtime/default", appPath + ": Forbidden:  is not an allowed seccomp profile. Valid values are runtime/default"},
		},
		{
			// Only PSPs stored before 1.24's annotation validation can
			// hold the empty name: 1.24 refuses it on create.
			name:          "trailing comma allows an unset profile",
			psp:           seccompAnnotations("runtime/default,", ""),
			invalidPolicy: `Invalid value: "": must be a valid seccomp profile`,
		},
		{
			// An empty annotation is not checked on create, and splits into
			// the empty name.
			name: "an empty allowed list allows only an unset profile",
			psp:  seccompAnnotations("", ""),
		},
		{
			name: "an empty allowed list rejects any profile",
			psp:  seccompAnnotations("", ""),
			pod:  podAnnotation(podKey, "runtime/default"),
			errors: []string{
				podPath + ": Forbidden: runtime/default is not an allowed seccomp profile. Valid values are ",
				appPath + ": Forbidden: runtime/default is not an allowed seccomp profile. Valid values are ",
			},
		},
		{
			name: "docker/default in the list allows runtime/default",
			psp:  seccompAnnotations("docker/default", ""),
			pod:  podAnnotation(podKey, "runtime/default"),
		},
		{
			name: "runtime/default in the list allows a docker/default annotation",
			psp:  seccompAnnotations("runtime/default", ""),
			pod:  podAnnotation(podKey, "docker/default"),
		},
		{
			name: "wildcard allows unconfined",
			psp:  seccompAnnotations("*", ""),
			pod:  podAnnotation(podKey, "unconfined"),
		},
		{
			name:     "a container field outside the list is rejected at the container annotation path",
			psp:      seccompAnnotations("runtime/default", "runtime/default"),
			pod:      containerSeccomp(corev1.SeccompProfileTypeUnconfined),
			defaults: podAnnotation(podKey, "runtime/default"),
			errors:   []string{appPath + ": Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default"},
		},
		{
			name: "a container annotation overrides the pod's profile",
			psp:  seccompAnnotations("localhost/a", ""),
			pod:  both(podAnnotation(podKey, "localhost/a"), podAnnotation(containerKey, "localhost/b")),
			errors: []string{
				appPath + ": Forbidden: localhost/b is not an allowed seccomp profile. Valid values are localhost/a",
			},
		},
		{
			name: "a container field beats its container annotation",
			psp:  seccompAnnotations("localhost/a", ""),
			pod: both(podAnnotation(podKey, "localhost/a"), podAnnotation(containerKey, "localhost/b"),
				containerSeccomp(corev1.SeccompProfileTypeLocalhost, "a")),
			// Core validation wants annotation and field to agree.
			invalidPod: "seccomp profile in annotation and field must match",
		},
		{
			name:   "a Localhost field without a path counts as unset",
			psp:    seccompAnnotations("localhost/a", ""),
			pod:    podSeccomp(corev1.SeccompProfileTypeLocalhost),
			errors: []string{podPath + ": Forbidden:  is not an allowed seccomp profile. Valid values are localhost/a", appPath + ": Forbidden:  is not an allowed seccomp profile. Valid values are localhost/a"},
		},
	}
}

func TestSeccompAllowedProfiles(t *testing.T) {
	tests := []struct {
		name       string
		annotation *string
		want       []string
		wantSet    bool
	}{
		{name: "absent", annotation: nil, want: nil, wantSet: false},
		{name: "empty is one empty name", annotation: new(""), want: []string{""}, wantSet: true},
		{name: "trailing comma adds the empty name", annotation: new("runtime/default,"), want: []string{"runtime/default", ""}, wantSet: true},
		{name: "spaces are kept", annotation: new("runtime/default, docker/default"), want: []string{"runtime/default", " docker/default"}, wantSet: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := permissivePSP()
			if tc.annotation != nil {
				p.Annotations[SeccompAllowedProfilesAnnotation] = *tc.annotation
				p.Annotations[AppArmorAllowedProfilesAnnotation] = *tc.annotation
			}
			for _, get := range []func(*PodSecurityPolicy) ([]string, bool){SeccompAllowedProfiles, AppArmorAllowedProfiles} {
				got, set := get(p)
				if !slices.Equal(got, tc.want) || set != tc.wantSet {
					t.Errorf("got %q, %v; want %q, %v", got, set, tc.want, tc.wantSet)
				}
			}
		})
	}
}

func TestSeccompAnnotationForField(t *testing.T) {
	tests := []struct {
		profile *corev1.SeccompProfile
		want    string
	}{
		{seccompProfile(corev1.SeccompProfileTypeRuntimeDefault), "runtime/default"},
		{seccompProfile(corev1.SeccompProfileTypeUnconfined), "unconfined"},
		{seccompProfile(corev1.SeccompProfileTypeLocalhost, "profiles/audit.json"), "localhost/profiles/audit.json"},
		{seccompProfile(corev1.SeccompProfileTypeLocalhost), ""},
		{seccompProfile("Bogus"), ""},
	}
	for _, tc := range tests {
		if got := SeccompAnnotationForField(tc.profile); got != tc.want {
			t.Errorf("SeccompAnnotationForField(%+v) = %q, want %q", tc.profile, got, tc.want)
		}
	}
}
