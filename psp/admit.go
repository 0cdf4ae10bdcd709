package psp

import (
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// Admit applies the PSP's defaults to a copy of the pod (MutatePod) and
// validates the result (ValidatePod), as the 1.24 PodSecurityPolicy
// admission plugin did for one policy; it never modifies pod or p.
//
// Mutated compares the defaulted copy with the original the way the plugin
// did (apiequality.Semantic.DeepEqual), so it is decided per pod: a default
// the pod already carries does not count. When the PSP admits the pod, the
// copy gets the kubernetes.io/psp annotation, which does not count as a
// mutation either.
//
// Besides the PSP's own rules, Errors holds the core validation rules a
// PSP default can break (CoreSecurityContextErrors), because the server
// rejected such pods. A PSP whose strategies 1.24 could not build (unknown
// rule, MustRunAs without ranges or SELinux options) admits nothing; its
// errors carry "podSecurityPolicy.spec..." paths.
//
// Ephemeral containers are defaulted and checked like the others, as the
// 1.24 provider did. (The 1.24 server itself refused them on pod create and
// did not run PSP on the ephemeralcontainers subresource.)
//
// Where a pod as read from a manifest differs from what the 1.24 plugin
// received, Admit follows the plugin's input: an empty supplementalGroups
// list is defaulted like an absent one (controllers and typed clients
// never sent it), and a volume without a source 1.24 knew counts as
// emptyDir (API defaulting). The appArmorProfile field, unknown to 1.24,
// counts as the AppArmor annotation, as servers since 1.30 sync them.
func Admit(p *PodSecurityPolicy, pod *corev1.Pod) Admission {
	return admit(p, pod, true)
}

func admit(p *PodSecurityPolicy, pod *corev1.Pod, withCore bool) Admission {
	prov, errs := newProvider(p)
	if len(errs) > 0 {
		return Admission{Pod: pod.DeepCopy(), Errors: errs}
	}
	return prov.admit(p.Name, pod, withCore)
}

// admit defaults a copy of the pod and validates it; name is the policy's,
// for the kubernetes.io/psp annotation.
func (prov *provider) admit(name string, pod *corev1.Pod, withCore bool) Admission {
	candidate := pod.DeepCopy()
	prov.mutatePod(candidate)
	errs := prov.validatePod(candidate)
	if withCore {
		errs = append(errs, CoreSecurityContextErrors(candidate)...)
	}
	admission := Admission{
		Pod:     candidate,
		Mutated: mutated(pod, candidate),
		Errors:  errs,
	}
	if admission.Admitted() {
		if candidate.Annotations == nil {
			candidate.Annotations = map[string]string{}
		}
		candidate.Annotations[ValidatedPSPAnnotation] = name
	}
	return admission
}

// mutated is the plugin's !apiequality.Semantic.DeepEqual(original,
// defaulted), restricted to what MutatePod writes: annotations, the pod
// security context, runtimeClassName and each container's security
// context. Comparing only those keeps planning large clusters fast.
func mutated(original, defaulted *corev1.Pod) bool {
	eq := apiequality.Semantic.DeepEqual
	if !eq(original.Annotations, defaulted.Annotations) ||
		!eq(original.Spec.SecurityContext, defaulted.Spec.SecurityContext) ||
		!eq(original.Spec.RuntimeClassName, defaulted.Spec.RuntimeClassName) {
		return true
	}
	return containersMutated(original.Spec.InitContainers, defaulted.Spec.InitContainers) ||
		containersMutated(original.Spec.Containers, defaulted.Spec.Containers) ||
		ephemeralMutated(original.Spec.EphemeralContainers, defaulted.Spec.EphemeralContainers)
}

func containersMutated(a, b []corev1.Container) bool {
	return securityContextsDiffer(a, b, func(c *corev1.Container) *corev1.SecurityContext { return c.SecurityContext })
}

func ephemeralMutated(a, b []corev1.EphemeralContainer) bool {
	return securityContextsDiffer(a, b, func(c *corev1.EphemeralContainer) *corev1.SecurityContext { return c.SecurityContext })
}

// securityContextsDiffer compares two container lists by their security
// contexts, in order.
func securityContextsDiffer[T any](a, b []T, sc func(*T) *corev1.SecurityContext) bool {
	if len(a) != len(b) {
		return true
	}
	for i := range a {
		if !apiequality.Semantic.DeepEqual(sc(&a[i]), sc(&b[i])) {
			return true
		}
	}
	return false
}
