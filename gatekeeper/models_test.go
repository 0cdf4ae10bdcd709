package gatekeeper

import (
	"encoding/json"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// templateModels say, for the templates whose Constraints carry Limits,
// whether the library template rejects a pod: the behaviour the Limits
// describe, written after the templates' CEL (which Gatekeeper and gator
// run where a template has both CEL and Rego) or, for the Rego-only
// K8sPSPAllowedUsers, its Rego. The differential test accepts a verdict
// that differs from the PSP's only where the model predicts it.
var templateModels = map[string]func(k Kept, pod *corev1.Pod) bool{
	"K8sPSPHostFilesystem":      hostFilesystemRejects,
	"K8sPSPHostNetworkingPorts": hostPortsRejects,
	"K8sPSPAllowedUsers":        nonRootRejects,
	"K8sPSPSELinuxV2":           seLinuxRejects,
	"K8sPSPVolumeTypes":         volumeTypesRejects,
	"K8sPSPSeccomp":             seccompRejects,
	"K8sPSPAppArmor":            appArmorRejects,
}

// verdict is a CEL boolean that may be an evaluation error.
type verdict int

const (
	isFalse verdict = iota
	isTrue
	isError
)

// anyOf is CEL's exists: true if one element is true, else an error if
// one is an error, else false.
func anyOf(vs []verdict) verdict {
	out := isFalse
	for _, v := range vs {
		if v == isTrue {
			return isTrue
		}
		if v == isError {
			out = isError
		}
	}
	return out
}

func allContainers(pod *corev1.Pod) []corev1.Container {
	return append(append(append([]corev1.Container{}, pod.Spec.Containers...), pod.Spec.InitContainers...), ephemeral(pod)...)
}

func ephemeral(pod *corev1.Pod) []corev1.Container {
	var out []corev1.Container
	for _, e := range pod.Spec.EphemeralContainers {
		out = append(out, corev1.Container(e.EphemeralContainerCommon))
	}
	return out
}

// hostFilesystemRejects: a hostPath volume passes when its path starts,
// as a string, with a prefix that is writable, or read-only and mounted
// writable by no container; reading the volumeMounts of a container that
// has none is an error, which rejects the pod.
func hostFilesystemRejects(k Kept, pod *corev1.Pod) bool {
	prefixes, _ := k.Parameters["allowedHostPaths"].([]any)
	for _, v := range pod.Spec.Volumes {
		if v.HostPath == nil {
			continue
		}
		var perPrefix []verdict
		for _, p := range prefixes {
			p := p.(map[string]any)
			if !strings.HasPrefix(v.HostPath.Path, p["pathPrefix"].(string)) {
				perPrefix = append(perPrefix, isFalse)
				continue
			}
			if ro, _ := p["readOnly"].(bool); !ro {
				perPrefix = append(perPrefix, isTrue)
				continue
			}
			var writable []verdict
			for _, c := range allContainers(pod) {
				if c.VolumeMounts == nil {
					writable = append(writable, isError)
					continue
				}
				w := isFalse
				for _, m := range c.VolumeMounts {
					if m.Name == v.Name && !m.ReadOnly {
						w = isTrue
					}
				}
				writable = append(writable, w)
			}
			switch anyOf(writable) {
			case isTrue:
				perPrefix = append(perPrefix, isFalse)
			case isError:
				perPrefix = append(perPrefix, isError)
			default:
				perPrefix = append(perPrefix, isTrue)
			}
		}
		if anyOf(perPrefix) != isTrue {
			return true
		}
	}
	return false
}

// hostPortsRejects: a container is rejected when it has ports and every
// one of them has a host port below min, or every one a host port above
// max.
func hostPortsRejects(k Kept, pod *corev1.Pod) bool {
	lo, hi := toInt(k.Parameters["min"]), toInt(k.Parameters["max"])
	for _, c := range allContainers(pod) {
		if len(c.Ports) == 0 {
			continue
		}
		below, above := true, true
		for _, p := range c.Ports {
			set := p.HostPort != 0
			below = below && set && int64(p.HostPort) < lo
			above = above && set && int64(p.HostPort) > hi
		}
		if below || above {
			return true
		}
	}
	return false
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int32:
		return int64(n)
	case int64:
		return n
	case int:
		return int64(n)
	}
	return 0
}

// nonRootRejects, for MustRunAsNonRoot: a container is rejected when its
// UID (its own, else the pod's) is 0, or when it has none and its
// runAsNonRoot (its own if set, even false, else the pod's) is not true.
func nonRootRejects(k Kept, pod *corev1.Pod) bool {
	params, _ := k.Parameters["runAsUser"].(map[string]any)
	if params == nil || params["rule"] != "MustRunAsNonRoot" {
		return false
	}
	podSC := pod.Spec.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	for _, c := range allContainers(pod) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		uid := sc.RunAsUser
		if uid == nil {
			uid = podSC.RunAsUser
		}
		nonRoot := sc.RunAsNonRoot
		if nonRoot == nil {
			nonRoot = podSC.RunAsNonRoot
		}
		if (uid != nil && *uid == 0) || (uid == nil && (nonRoot == nil || !*nonRoot)) {
			return true
		}
	}
	return false
}

// seLinuxRejects: options set on the pod or a container are allowed when
// each of user, role, type and level is unset or equal, as a string, to
// the Constraint's.
func seLinuxRejects(k Kept, pod *corev1.Pod) bool {
	allowed := k.Parameters["allowedSELinuxOptions"].([]any)[0].(map[string]any)
	fits := func(o *corev1.SELinuxOptions) bool {
		for key, v := range map[string]string{"user": o.User, "role": o.Role, "type": o.Type, "level": o.Level} {
			if v != "" && allowed[key] != v {
				return false
			}
		}
		return true
	}
	if sc := pod.Spec.SecurityContext; sc != nil && sc.SELinuxOptions != nil && !fits(sc.SELinuxOptions) {
		return true
	}
	for _, c := range allContainers(pod) {
		if c.SecurityContext != nil && c.SecurityContext.SELinuxOptions != nil && !fits(c.SecurityContext.SELinuxOptions) {
			return true
		}
	}
	return false
}

// volumeTypesRejects: every volume's source field is listed.
func volumeTypesRejects(k Kept, pod *corev1.Pod) bool {
	listed := k.Parameters["volumes"].([]string)
	for _, v := range pod.Spec.Volumes {
		if !slices.Contains(listed, volumeSourceField(v.VolumeSource)) {
			return true
		}
	}
	return false
}

// volumeSourceField is the name of the field a volume source sets.
func volumeSourceField(src corev1.VolumeSource) string {
	data, _ := json.Marshal(src)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(data, &m)
	for k := range m {
		return k
	}
	return ""
}

// seccompRejects: each container's profile (its field, else the pod's
// field, else its annotation, else the pod's annotation, else "not
// configured") must be listed; fields read as runtime/default (or
// docker/default when only that is listed), unconfined, localhost/FILE.
func seccompRejects(k Kept, pod *corev1.Pod) bool {
	allowed := k.Parameters["allowedProfiles"].([]string)
	field := func(p *corev1.SeccompProfile) string {
		switch p.Type {
		case corev1.SeccompProfileTypeRuntimeDefault:
			if !slices.Contains(allowed, "runtime/default") && slices.Contains(allowed, "docker/default") {
				return "docker/default"
			}
			return "runtime/default"
		case corev1.SeccompProfileTypeUnconfined:
			return "unconfined"
		case corev1.SeccompProfileTypeLocalhost:
			if p.LocalhostProfile != nil {
				return "localhost/" + *p.LocalhostProfile
			}
		}
		return ""
	}
	var podField *corev1.SeccompProfile
	if pod.Spec.SecurityContext != nil {
		podField = pod.Spec.SecurityContext.SeccompProfile
	}
	for _, c := range allContainers(pod) {
		profile := "not configured"
		podAnnotation, hasPodAnnotation := pod.Annotations["seccomp.security.alpha.kubernetes.io/pod"]
		containerAnnotation, hasContainerAnnotation := pod.Annotations["container.seccomp.security.alpha.kubernetes.io/"+c.Name]
		switch {
		case c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil:
			profile = field(c.SecurityContext.SeccompProfile)
		case podField != nil:
			profile = field(podField)
		case hasContainerAnnotation:
			profile = containerAnnotation
		case hasPodAnnotation:
			profile = podAnnotation
		}
		if !slices.Contains(allowed, profile) && !(strings.HasPrefix(profile, "localhost/") && slices.Contains(allowed, "localhost/*")) {
			return true
		}
	}
	return false
}

// appArmorRejects: each container's profile (its field, else its
// annotation, else the pod's field, else runtime/default) must be listed.
func appArmorRejects(k Kept, pod *corev1.Pod) bool {
	allowed := k.Parameters["allowedProfiles"].([]string)
	field := func(p *corev1.AppArmorProfile) string {
		switch p.Type {
		case corev1.AppArmorProfileTypeRuntimeDefault:
			return "runtime/default"
		case corev1.AppArmorProfileTypeUnconfined:
			return "unconfined"
		case corev1.AppArmorProfileTypeLocalhost:
			if p.LocalhostProfile != nil {
				return "localhost/" + *p.LocalhostProfile
			}
		}
		return ""
	}
	for _, c := range allContainers(pod) {
		profile := "runtime/default"
		annotation, hasAnnotation := pod.Annotations["container.apparmor.security.beta.kubernetes.io/"+c.Name]
		switch {
		case c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil:
			profile = field(c.SecurityContext.AppArmorProfile)
		case hasAnnotation:
			profile = annotation
		case pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.AppArmorProfile != nil:
			profile = field(pod.Spec.SecurityContext.AppArmorProfile)
		}
		if !slices.Contains(allowed, profile) {
			return true
		}
	}
	return false
}
