package gapcases

import (
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

// ProfileCases are PSPs with seccomp and AppArmor profile lists (the
// profile-list gaps, which vap leaves out) and pods setting profiles in
// every place 1.24 read them: fields and annotations, pod and container.
func ProfileCases() []Case {
	return []Case{seccompCase(), appArmorCase()}
}

func seccompCase() Case {
	p := PSPWith("seccomp-list", func(*psp.PodSecurityPolicySpec) {})
	p.Annotations = map[string]string{psp.SeccompAllowedProfilesAnnotation: "docker/default,localhost/good.json"}
	profiles := map[string]*corev1.SeccompProfile{
		"RuntimeDefault":      {Type: corev1.SeccompProfileTypeRuntimeDefault},
		"Unconfined":          {Type: corev1.SeccompProfileTypeUnconfined},
		"Localhost good.json": {Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("good.json")},
		"Localhost bad.json":  {Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("bad.json")},
	}
	annotations := []string{"runtime/default", "docker/default", "unconfined", "localhost/good.json", "localhost/bad.json"}
	vs := []variation{{"nothing set", func(*corev1.Pod, *corev1.Container) {}}}
	for name, profile := range profiles {
		vs = append(vs,
			variation{"pod field " + name, func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).SeccompProfile = profile }},
			variation{"container field " + name, func(_ *corev1.Pod, c *corev1.Container) { Security(c).SeccompProfile = profile }},
			variation{"pod RuntimeDefault, container field " + name, func(pod *corev1.Pod, c *corev1.Container) {
				PodSecurity(pod).SeccompProfile = profiles["RuntimeDefault"]
				Security(c).SeccompProfile = profile
			}},
		)
	}
	for _, a := range annotations {
		vs = append(vs,
			variation{"pod annotation " + a, func(pod *corev1.Pod, _ *corev1.Container) {
				annotate(pod, psp.SeccompPodAnnotation, a)
			}},
			variation{"container annotation " + a, func(pod *corev1.Pod, c *corev1.Container) {
				annotate(pod, psp.SeccompContainerAnnotationPrefix+c.Name, a)
			}},
		)
	}
	sortVariations(vs)
	return Case{Name: "seccomp allowedProfileNames", PSP: p, Pods: expand(vs)}
}

func appArmorCase() Case {
	p := PSPWith("apparmor-list", func(*psp.PodSecurityPolicySpec) {})
	p.Annotations = map[string]string{psp.AppArmorAllowedProfilesAnnotation: "runtime/default,localhost/good"}
	profiles := map[string]*corev1.AppArmorProfile{
		"RuntimeDefault": {Type: corev1.AppArmorProfileTypeRuntimeDefault},
		"Unconfined":     {Type: corev1.AppArmorProfileTypeUnconfined},
		"Localhost good": {Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: new("good")},
		"Localhost bad":  {Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: new("bad")},
	}
	vs := []variation{{"nothing set", func(*corev1.Pod, *corev1.Container) {}}}
	for name, profile := range profiles {
		vs = append(vs,
			variation{"pod field " + name, func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).AppArmorProfile = profile }},
			variation{"container field " + name, func(_ *corev1.Pod, c *corev1.Container) { Security(c).AppArmorProfile = profile }},
		)
	}
	for _, a := range []string{"runtime/default", "unconfined", "localhost/good", "localhost/bad"} {
		vs = append(vs, variation{"container annotation " + a, func(pod *corev1.Pod, c *corev1.Container) {
			annotate(pod, psp.AppArmorContainerAnnotationPrefix+c.Name, a)
		}})
	}
	sortVariations(vs)
	return Case{Name: "AppArmor allowedProfileNames", PSP: p, Pods: expand(vs)}
}

func annotate(pod *corev1.Pod, key, value string) {
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[key] = value
}
