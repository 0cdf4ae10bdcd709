package vap

import (
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ruleKey names one validation: its field, plus "readOnly" for the second
// allowedHostPaths rule.
type ruleKey string

func keyOf(r Rule) ruleKey {
	if r.Field == "allowedHostPaths" && strings.Contains(r.Message, "mounted readOnly") {
		return "allowedHostPaths/readOnly"
	}
	return ruleKey(r.Field)
}

var (
	containerSC  = regexp.MustCompile(`^spec\.(initContainers|containers|ephemeralContainers)\[\d+\]\.securityContext$`)
	volumeIndex  = regexp.MustCompile(`^spec\.volumes\[\d+\]$`)
	volumeMount  = regexp.MustCompile(`\.volumeMounts\[\d+\]\.readOnly$`)
	hostPortPath = regexp.MustCompile(`^spec\.(initContainers|containers|ephemeralContainers)\[\d+\]\.hostPort$`)
)

// pspRuleKey says which validation keeps the restriction a 1.24 PSP error
// reports, or "" for errors about what PSS already covers (privileged,
// host namespaces, SELinux, seccomp, AppArmor, unsafe sysctls, …). It
// reads the error's path and detail as psp.Admit words them.
func pspRuleKey(e *field.Error) ruleKey {
	path := e.Field
	switch {
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

// warningKey reads the validation a policy warning names from its message
// ("… 'psp2psa-x': psp x: <field>: …").
func warningKey(text, pspName string) (ruleKey, bool) {
	_, rest, ok := strings.Cut(text, "psp "+pspName+": ")
	if !ok {
		return "", false
	}
	fieldName, what, ok := strings.Cut(rest, ": ")
	if !ok {
		return "", false
	}
	if fieldName == "allowedHostPaths" && strings.Contains(what, "mounted readOnly") {
		return "allowedHostPaths/readOnly", true
	}
	return ruleKey(fieldName), true
}
