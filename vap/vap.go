// Package vap keeps, as ValidatingAdmissionPolicies, the PodSecurityPolicy
// restrictions that no Pod Security Standards level expresses: host path
// prefixes, UID and GID ranges, read-only root filesystems, capability and
// volume allow-lists narrower than a level, flexVolume and CSI drivers,
// forbidden sysctls, runtime classes, host port ranges and SELinux options.
//
// Each restriction becomes one CEL validation over the Pod (rule_*.go)
// that rejects what the 1.24 PSP rejected along that field, judged on the
// pod as it reaches admission. Where the PSP filled in a value the pod
// left unset (runAsUser, runAsGroup, fsGroup and supplementalGroups under
// MustRunAs, readOnlyRootFilesystem, required drops, runAsNonRoot, the
// pod's SELinux options), the validation requires the value: the PSP
// default is gone, and the workload patches of the plan write it into the
// templates.
package vap

import (
	"slices"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/psp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Rule is one CEL validation that keeps one PSP restriction.
type Rule struct {
	// Field is the PSP field the rule keeps, named as convert names
	// fields and gaps ("allowedHostPaths", "runAsUser", "volumes").
	Field string
	// Expression is CEL over the admission request; true admits the pod.
	Expression string
	// Message says what the PSP required: "psp <name>: <field>: …".
	Message string
}

// Validation returns the rule as a policy validation. A rejection is
// Forbidden (403), as PSP's was.
func (r Rule) Validation() admissionregistrationv1.Validation {
	reason := metav1.StatusReasonForbidden
	return admissionregistrationv1.Validation{Expression: r.Expression, Message: r.Message, Reason: &reason}
}

// builder returns the rules of one PSP field; none when the PSP does not
// restrict along it.
type builder struct {
	field string
	build func(p *psp.PodSecurityPolicy) []Rule
}

// builders lists the fields this package expresses, in PSP spec order.
var builders = []builder{
	{"requiredDropCapabilities", requiredDropRules},
	{"allowedCapabilities", allowedCapabilitiesRules},
	{"volumes", volumesRules},
	{"hostPorts", hostPortsRules},
	{"seLinux", seLinuxRules},
	{"runAsUser", runAsUserRules},
	{"runAsGroup", runAsGroupRules},
	{"supplementalGroups", supplementalGroupsRules},
	{"fsGroup", fsGroupRules},
	{"readOnlyRootFilesystem", readOnlyRootFilesystemRules},
	{"allowedHostPaths", allowedHostPathsRules},
	{"allowedFlexVolumes", allowedFlexVolumesRules},
	{"allowedCSIDrivers", allowedCSIDriversRules},
	{"forbiddenSysctls", forbiddenSysctlsRules},
	{"runtimeClass", runtimeClassRules},
}

// ExpressedFields lists the PSP fields whose restrictions this package
// turns into validations.
func ExpressedFields() []string {
	fields := make([]string, len(builders))
	for i, b := range builders {
		fields[i] = b.field
	}
	return fields
}

// ForPolicy returns a validation for every restriction the PSP enforces
// along the expressed fields, whether or not a PSS level also holds it.
// A PSP whose strategies 1.24 could not build admits no pod; it gets no
// rules for those strategies.
func ForPolicy(p *psp.PodSecurityPolicy) []Rule {
	var rules []Rule
	for _, b := range builders {
		rules = append(rules, b.build(p)...)
	}
	return rules
}

// ForGaps returns the rules for the fields of the gaps convert found (the
// restrictions no PSS level holds) and the gaps this package cannot
// express.
func ForGaps(p *psp.PodSecurityPolicy, gaps []convert.Gap) (rules []Rule, unexpressed []convert.Gap) {
	all := ForPolicy(p)
	for _, g := range gaps {
		matched := false
		for _, r := range all {
			if r.Field == g.Field {
				rules = append(rules, r)
				matched = true
			}
		}
		if !matched {
			unexpressed = append(unexpressed, g)
		}
	}
	return rules, unexpressed
}

// NotExpressed says why a PSP field's gap has no validation, for the
// fields convert can report a gap on that this package leaves out.
func NotExpressed(field string) string {
	switch field {
	case convertAnnotation(psp.SeccompAllowedProfilesAnnotation):
		return "not written as a policy: each container's profile comes from its field or a legacy annotation, and a list without runtime/default (or no list, which bans every profile) would contradict the RuntimeDefault profile restricted requires; review by hand"
	case convertAnnotation(psp.AppArmorAllowedProfilesAnnotation):
		return "not written as a policy yet: each container's profile comes from its appArmorProfile field or the legacy annotation; review by hand"
	}
	if slices.Contains(ExpressedFields(), field) {
		return ""
	}
	return "no validation for this field"
}

func convertAnnotation(key string) string { return "annotations[" + key + "]" }
