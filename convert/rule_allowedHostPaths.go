package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.allowedHostPaths ([{pathPrefix, readOnly}]).

PSS control: none. PSS has hostPath volumes all or nothing (check
hostPathVolumes, baseline): a level that allows them allows any path,
writable.

Allowed values:
  - baseline: no opinion (baseline forbids hostPath volumes altogether)
  - restricted: no opinion

The hostPath witness belongs to spec.volumes, which uses the first prefix
here. This rule only restricts, and only when spec.volumes allows hostPath:
a path under no prefix, and a writable mount of a read-only prefix.
*/

func init() { register(rule{field: "allowedHostPaths", analyze: analyzeAllowedHostPaths}) }

// hostPathExamples are paths a hostPath restriction may use.
var hostPathExamples = []string{"/", "/etc", "/var/run", "/proc", "/root", "/psp2psa-elsewhere"}

func analyzeAllowedHostPaths(p *psp.PodSecurityPolicy) analysis {
	allowed := p.Spec.AllowedHostPaths
	if len(allowed) == 0 || !allowsVolumeType(p.Spec, psp.HostPath) {
		return analysis{}
	}
	var a analysis
	for _, path := range hostPathExamples {
		if ok, _ := hostPathAllowed(allowed, path); !ok {
			a.restrictions = append(a.restrictions, podChange{
				name:  "hostPath " + path,
				apply: func(pod *corev1.Pod) { addHostPathVolume(pod, path, false) },
			})
			break
		}
	}
	for _, h := range allowed {
		if ok, readOnly := hostPathAllowed(allowed, h.PathPrefix); ok && readOnly {
			a.restrictions = append(a.restrictions, podChange{
				name:  "writable hostPath " + h.PathPrefix,
				apply: func(pod *corev1.Pod) { addHostPathVolume(pod, h.PathPrefix, true) },
			})
			break
		}
	}
	a.explainGap = func(lost []lostRestriction) string {
		return "allowedHostPaths limits hostPath volumes to " + hostPathList(allowed) + "; " +
			levelAllows(strictestAllowing(lost)) + " any host path, writable"
	}
	return a
}

func addHostPathVolume(pod *corev1.Pod, path string, writableMount bool) {
	const name = "witness-hostpath"
	putVolume(pod, corev1.Volume{Name: name, VolumeSource: hostPathSource(path)})
	if writableMount {
		putAppMount(pod, corev1.VolumeMount{Name: name, MountPath: "/witness"})
	}
}

func hostPathList(allowed []psp.AllowedHostPath) string {
	var parts []string
	for _, h := range allowed {
		if h.ReadOnly {
			parts = append(parts, h.PathPrefix+" (read-only)")
		} else {
			parts = append(parts, h.PathPrefix)
		}
	}
	return strings.Join(parts, ", ")
}

// hostPathAllowed is 1.24's AllowsHostVolumePath: a path is allowed under a
// prefix when the prefix's path segments begin it; it must be mounted
// read-only unless some matching prefix is writable.
func hostPathAllowed(allowed []psp.AllowedHostPath, path string) (ok, readOnly bool) {
	for _, h := range allowed {
		if !hasPathPrefix(path, h.PathPrefix) {
			continue
		}
		if !h.ReadOnly {
			return true, false
		}
		ok, readOnly = true, true
	}
	return ok, readOnly
}

// hasPathPrefix is 1.24's: whole path segments, trailing slashes ignored,
// so /foo is a prefix of /foo/bar but not of /foobar.
func hasPathPrefix(path, prefix string) bool {
	path, prefix = strings.TrimSuffix(path, "/"), strings.TrimSuffix(prefix, "/")
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

// allowsVolumeType reports whether spec.volumes lists the type or "*".
func allowsVolumeType(spec psp.PodSecurityPolicySpec, t psp.FSType) bool {
	return slices.Contains(spec.Volumes, t) || slices.Contains(spec.Volumes, psp.All)
}
