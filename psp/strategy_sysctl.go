package psp

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// spec.allowedUnsafeSysctls and spec.forbiddenSysctls, applied to the pod's
// securityContext.sysctls. A name ending in "*" is a prefix; a lone "*"
// matches everything.
//
//   - forbidden: rejected, even when safe.
//   - safe (the 1.24 kubelet's list, see SafeSysctls): allowed.
//   - allowedUnsafe: allowed.
//   - anything else: rejected as unsafe.
//
// Port of pkg/security/podsecuritypolicy/sysctl (1.24).
type sysctlStrategy struct {
	allowedUnsafe []string
	forbidden     []string
}

// SafeSysctls returns the sysctls the 1.24 kubelet and PSP treated as safe
// (namespaced and isolated between pods). Later Kubernetes versions added
// more; PSP never knew them.
func SafeSysctls() []string {
	return []string{
		"kernel.shm_rmid_forced",
		"net.ipv4.ip_local_port_range",
		"net.ipv4.tcp_syncookies",
		"net.ipv4.ping_group_range",
		"net.ipv4.ip_unprivileged_port_start",
	}
}

func newSysctlStrategy(spec *PodSecurityPolicySpec) sysctlStrategy {
	return sysctlStrategy{allowedUnsafe: spec.AllowedUnsafeSysctls, forbidden: spec.ForbiddenSysctls}
}

func (s sysctlStrategy) validate(pod *corev1.Pod) field.ErrorList {
	if pod.Spec.SecurityContext == nil {
		return nil
	}
	path := field.NewPath("pod", "spec", "securityContext").Child("sysctls")
	var errs field.ErrorList
	for i, sysctl := range pod.Spec.SecurityContext.Sysctls {
		switch {
		case matchesSysctlPattern(sysctl.Name, s.forbidden):
			errs = append(errs, field.Forbidden(path.Index(i), fmt.Sprintf("sysctl %q is not allowed", sysctl.Name)))
		case slices.Contains(SafeSysctls(), sysctl.Name):
		case matchesSysctlPattern(sysctl.Name, s.allowedUnsafe):
		default:
			errs = append(errs, field.Forbidden(path.Index(i), fmt.Sprintf("unsafe sysctl %q is not allowed", sysctl.Name)))
		}
	}
	return errs
}

// matchesSysctlPattern reports whether name equals a pattern or starts with
// a pattern's prefix before a trailing "*".
func matchesSysctlPattern(name string, patterns []string) bool {
	for _, pattern := range patterns {
		if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == pattern {
			return true
		}
	}
	return false
}
