package gapcases

import (
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	containerSC  = regexp.MustCompile(`^spec\.(initContainers|containers|ephemeralContainers)\[\d+\]\.securityContext$`)
	volumeIndex  = regexp.MustCompile(`^spec\.volumes\[\d+\]$`)
	volumeMount  = regexp.MustCompile(`\.volumeMounts\[\d+\]\.readOnly$`)
	hostPortPath = regexp.MustCompile(`^spec\.(initContainers|containers|ephemeralContainers)\[\d+\]\.hostPort$`)
)

// The fields, as convert names the gaps, of the seccomp and AppArmor
// profile lists.
const (
	SeccompProfilesField  = "annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]"
	AppArmorProfilesField = "annotations[apparmor.security.beta.kubernetes.io/allowedProfileNames]"
)

// FieldOf says which PSP field, of those kept as policies, a 1.24 PSP
// error reports ("allowedHostPaths/readOnly" for the read-only mount
// requirement; SeccompProfilesField and AppArmorProfilesField for the
// profile lists), or "" for errors about what PSS already covers
// (privileged, host namespaces, SELinux types, unsafe sysctls, …). It
// reads the error's path and detail as psp.Admit words them.
func FieldOf(e *field.Error) string {
	path := e.Field
	switch {
	case strings.HasPrefix(path, "pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]"),
		strings.HasPrefix(path, "pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/"):
		return SeccompProfilesField
	case strings.HasPrefix(path, "pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/"):
		return AppArmorProfilesField
	case strings.HasSuffix(path, ".securityContext.runAsUser"), strings.HasSuffix(path, ".securityContext.runAsNonRoot"):
		return "runAsUser"
	case containerSC.MatchString(path) && strings.Contains(e.Detail, "group"):
		// 1.24 reported runAsGroup errors at the security context itself;
		// core validation errors share the path.
		return "runAsGroup"
	case path == "spec.securityContext.fsGroup":
		return "fsGroup"
	case path == "spec.securityContext.supplementalGroups":
		return "supplementalGroups"
	case strings.HasSuffix(path, ".readOnlyRootFilesystem"):
		return "readOnlyRootFilesystem"
	case strings.HasSuffix(path, ".capabilities.add"):
		return "allowedCapabilities"
	case strings.HasSuffix(path, ".capabilities.drop"), strings.HasSuffix(path, ".capabilities"):
		return "requiredDropCapabilities"
	case hostPortPath.MatchString(path):
		return "hostPorts"
	case strings.HasSuffix(path, ".hostPath.pathPrefix"):
		return "allowedHostPaths"
	case volumeMount.MatchString(path):
		return "allowedHostPaths/readOnly"
	case volumeIndex.MatchString(path):
		return "volumes"
	case strings.HasSuffix(path, ".csi.driver"):
		return "allowedCSIDrivers"
	case strings.HasPrefix(path, "spec.volumes[") && strings.HasSuffix(path, ".driver"):
		return "allowedFlexVolumes"
	case strings.Contains(path, "securityContext.sysctls") && strings.HasPrefix(e.Detail, "sysctl "):
		return "forbiddenSysctls"
	case strings.Contains(path, "securityContext.seLinuxOptions"):
		return "seLinux"
	case path == "spec.runtimeClassName":
		return "runtimeClass"
	}
	return ""
}
