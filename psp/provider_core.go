package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// CoreSecurityContextErrors returns the errors of the two rules of 1.24
// core pod validation (ValidateSecurityContext in
// pkg/apis/core/validation) that a PSP's own defaults can trigger: a
// container may not have allowPrivilegeEscalation: false together with
// privileged: true, nor with CAP_SYS_ADMIN (spelled so) in
// capabilities.add. Only the container's own securityContext counts.
//
// The server ran these after PSP admission had chosen a policy, so a pod
// that a PSP defaulted into such a conflict was rejected outright. Admit
// reports them with the PSP's errors; code that picks among several PSPs
// and wants the server's exact order can pick on the other errors first
// and then apply this to the chosen pod.
func CoreSecurityContextErrors(pod *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	visitContainers(&pod.Spec, func(c *corev1.Container, path *field.Path) {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			return
		}
		scPath := path.Child("securityContext")
		if sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, field.Invalid(scPath, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Add {
				if c == "CAP_SYS_ADMIN" {
					errs = append(errs, field.Invalid(scPath, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
				}
			}
		}
	})
	return errs
}
