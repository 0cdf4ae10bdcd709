// Package defaults writes, as MutatingAdmissionPolicies
// (admissionregistration.k8s.io/v1, GA in Kubernetes 1.36), the values a
// PodSecurityPolicy wrote into the pods it admitted, for workloads whose
// manifests cannot carry the plan's patches (third-party charts).
//
// Each default is one mutation: the pod's supplementalGroups, fsGroup,
// SELinux options, seccomp profile and runtime class, and in every init
// and regular container its runAsUser, runAsGroup, AppArmor profile,
// runAsNonRoot, capabilities, readOnlyRootFilesystem and
// allowPrivilegeEscalation. Lists the server merges atomically
// (supplementalGroups, capabilities) are JSON patches, the rest apply
// configurations. Each applies only where the value, as 1.24
// read it (the container's, else the pod's), is unset. Profiles are
// written in field form, as the patches write them; an unconfined default
// is not written (an unset profile runs unconfined, and baseline rejects
// an explicit one).
package defaults

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/vap"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Default is one value the PSP writes, as a CEL apply configuration.
type Default struct {
	// Field names the PSP field or annotation it comes from, as convert
	// names mutations ("runAsUser", "defaultAddCapabilities").
	Field string
	// Sets says what it writes, for comments.
	Sets string
	// Expression is CEL returning an apply configuration (an Object; an
	// empty Object{} changes nothing) or, with JSONPatch, a list of JSON
	// patch operations.
	Expression string
	// JSONPatch is set for the lists an apply configuration may not
	// change (supplementalGroups, capability lists are atomic).
	JSONPatch bool
}

// ForPolicy returns the defaults the PSP writes into the pods it admits,
// in 1.24's order; none when it writes nothing.
func ForPolicy(p *psp.PodSecurityPolicy) []Default {
	var out []Default
	for _, b := range builders {
		if d, ok := b(p); ok {
			out = append(out, d)
		}
	}
	return out
}

// builders are in 1.24's order, except that the JSON patches come first:
// they test which security contexts exist before the apply configurations
// add any. The fields are independent, so the order changes nothing else.
var builders = []func(*psp.PodSecurityPolicy) (Default, bool){
	supplementalGroupsDefault, capabilitiesDefault,
	fsGroupDefault, seLinuxDefault, seccompDefault, runtimeClassDefault,
	runAsUserDefault, runAsGroupDefault, appArmorDefault, runAsNonRootDefault,
	readOnlyRootFilesystemDefault, allowPrivilegeEscalationDefault,
}

// podField returns an apply configuration setting a pod security context
// field to value unless the pod sets it.
func podField(field, value string) string {
	return "object.spec.?securityContext.?" + field + ".hasValue() ? Object{} : " +
		"Object{spec: Object.spec{securityContext: Object.spec.securityContext{" + field + ": " + value + "}}}"
}

// containerLists are the lists whose containers 1.24 defaulted on create
// (ephemeral containers are added by a subresource PSP never saw), with
// their apply configuration types.
var containerLists = []struct{ field, list string }{
	{"initContainers", "object.spec.?initContainers.orValue([])"},
	{"containers", "object.spec.containers"},
}

// forContainers returns an apply configuration that sets, in every init
// and regular container c for which unset holds, the security context
// fields that fields returns ("name: value" pairs over c) given the CEL
// type of the list's security context.
func forContainers(unset string, fields func(sc string) string) string {
	var parts []string
	for _, l := range containerLists {
		typ := "Object.spec." + l.field
		parts = append(parts, l.field+": "+l.list+".filter(c, "+unset+").map(c, "+typ+
			"{name: c.name, securityContext: "+typ+".securityContext{"+fields(typ+".securityContext")+"}})")
	}
	return "Object{spec: Object.spec{\n  " + strings.Join(parts, ",\n  ") + "}}"
}

// set returns fields for forContainers that set one field to a value.
func set(field, value string) func(string) string {
	return func(string) string { return field + ": " + value }
}

// unsetEffective is true for a container c whose field is unset both on
// it and on the pod.
func unsetEffective(field string) string {
	return "!c.?securityContext.?" + field + ".hasValue() && !object.spec.?securityContext.?" + field + ".hasValue()"
}

func supplementalGroupsDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	s := p.Spec.SupplementalGroups
	if s.Rule != psp.SupplementalGroupsStrategyMustRunAs || len(s.Ranges) == 0 {
		return Default{}, false
	}
	gid := s.Ranges[0].Min
	return Default{
		Field: "supplementalGroups",
		Sets:  fmt.Sprintf("the pod's supplementalGroups [%d] when it lists none", gid),
		Expression: fmt.Sprintf("size(object.spec.?securityContext.?supplementalGroups.orValue([])) > 0 ? [] :\n"+
			"has(object.spec.securityContext) ? [JSONPatch{op: 'add', path: '/spec/securityContext/supplementalGroups', value: [%d]}] :\n"+
			"[JSONPatch{op: 'add', path: '/spec/securityContext', value: {'supplementalGroups': [%d]}}]", gid, gid),
		JSONPatch: true,
	}, true
}

func fsGroupDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	s := p.Spec.FSGroup
	if s.Rule != psp.FSGroupStrategyMustRunAs || len(s.Ranges) == 0 {
		return Default{}, false
	}
	gid := s.Ranges[0].Min
	return Default{Field: "fsGroup", Sets: fmt.Sprintf("the pod's fsGroup %d", gid), Expression: podField("fsGroup", fmt.Sprint(gid))}, true
}

func seLinuxDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	s := p.Spec.SELinux
	if s.Rule != psp.SELinuxStrategyMustRunAs || s.SELinuxOptions == nil {
		return Default{}, false
	}
	o := s.SELinuxOptions
	var fields []string
	for _, kv := range [][2]string{{"user", o.User}, {"role", o.Role}, {"type", o.Type}, {"level", o.Level}} {
		if kv[1] != "" {
			fields = append(fields, kv[0]+": "+quote(kv[1]))
		}
	}
	value := "Object.spec.securityContext.seLinuxOptions{" + strings.Join(fields, ", ") + "}"
	return Default{Field: "seLinux", Sets: "the pod's seLinuxOptions", Expression: podField("seLinuxOptions", value)}, true
}

func seccompDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	profile := seccompProfile(p.Annotations[psp.SeccompDefaultProfileAnnotation])
	if profile == nil {
		return Default{}, false
	}
	// 1.24 kept a pod's own profile, field or annotation.
	expression := "object.spec.?securityContext.?seccompProfile.hasValue() || " +
		"'" + psp.SeccompPodAnnotation + "' in object.metadata.?annotations.orValue({}) ? Object{} : " +
		"Object{spec: Object.spec{securityContext: Object.spec.securityContext{seccompProfile: " +
		profile("Object.spec.securityContext.seccompProfile") + "}}}"
	return Default{Field: annotationField(psp.SeccompDefaultProfileAnnotation), Sets: "the pod's seccompProfile", Expression: expression}, true
}

// seccompProfile turns a default seccomp annotation value into a CEL
// object of a given type; nil for none, unconfined and values with no
// field form.
func seccompProfile(v string) func(typ string) string {
	switch {
	case v == psp.SeccompProfileRuntimeDefault || v == psp.SeccompProfileDockerDefault:
		return profileObject("RuntimeDefault", "")
	case strings.HasPrefix(v, psp.SeccompLocalhostProfilePrefix) && len(v) > len(psp.SeccompLocalhostProfilePrefix):
		return profileObject("Localhost", strings.TrimPrefix(v, psp.SeccompLocalhostProfilePrefix))
	}
	return nil
}

// profileObject is a seccomp or AppArmor profile of type typ, Localhost
// with a profile name.
func profileObject(profileType, localhost string) func(typ string) string {
	return func(typ string) string {
		if localhost != "" {
			return typ + "{type: 'Localhost', localhostProfile: " + quote(localhost) + "}"
		}
		return typ + "{type: " + quote(profileType) + "}"
	}
}

func runtimeClassDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	rc := p.Spec.RuntimeClass
	if rc == nil || rc.DefaultRuntimeClassName == nil {
		return Default{}, false
	}
	name := *rc.DefaultRuntimeClassName
	return Default{
		Field:      "runtimeClass",
		Sets:       "runtimeClassName " + name,
		Expression: "has(object.spec.runtimeClassName) ? Object{} : Object{spec: Object.spec{runtimeClassName: " + quote(name) + "}}",
	}, true
}

func runAsUserDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	s := p.Spec.RunAsUser
	if s.Rule != psp.RunAsUserStrategyMustRunAs || len(s.Ranges) == 0 {
		return Default{}, false
	}
	uid := s.Ranges[0].Min
	return Default{
		Field:      "runAsUser",
		Sets:       fmt.Sprintf("runAsUser %d in every container", uid),
		Expression: forContainers(unsetEffective("runAsUser"), set("runAsUser", fmt.Sprint(uid))),
	}, true
}

func runAsGroupDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	s := p.Spec.RunAsGroup
	if s == nil || s.Rule != psp.RunAsGroupStrategyMustRunAs || len(s.Ranges) == 0 {
		return Default{}, false
	}
	gid := s.Ranges[0].Min
	return Default{
		Field:      "runAsGroup",
		Sets:       fmt.Sprintf("runAsGroup %d in every container", gid),
		Expression: forContainers(unsetEffective("runAsGroup"), set("runAsGroup", fmt.Sprint(gid))),
	}, true
}

func appArmorDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	v := p.Annotations[psp.AppArmorDefaultProfileAnnotation]
	var profile func(typ string) string
	switch {
	case v == psp.AppArmorProfileRuntimeDefault:
		profile = profileObject("RuntimeDefault", "")
	case strings.HasPrefix(v, psp.AppArmorLocalhostPrefix) && len(v) > len(psp.AppArmorLocalhostPrefix):
		profile = profileObject("Localhost", strings.TrimPrefix(v, psp.AppArmorLocalhostPrefix))
	default:
		return Default{}, false
	}
	// 1.24 kept a container's own profile: its annotation, and now its
	// field or the pod's.
	unset := unsetEffective("appArmorProfile") + " && !(('" + psp.AppArmorContainerAnnotationPrefix +
		"' + c.name) in object.metadata.?annotations.orValue({}))"
	return Default{
		Field:      annotationField(psp.AppArmorDefaultProfileAnnotation),
		Sets:       "appArmorProfile " + v + " in every container",
		Expression: forContainers(unset, func(sc string) string { return "appArmorProfile: " + profile(sc+".appArmorProfile") }),
	}, true
}

func runAsNonRootDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	if p.Spec.RunAsUser.Rule != psp.RunAsUserStrategyMustRunAsNonRoot {
		return Default{}, false
	}
	return Default{
		Field:      "runAsUser",
		Sets:       "runAsNonRoot: true in every container that sets no UID",
		Expression: forContainers(unsetEffective("runAsNonRoot")+" && "+unsetEffective("runAsUser"), set("runAsNonRoot", "true")),
	}, true
}

func capabilitiesDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	adds, drops := names(p.Spec.DefaultAddCapabilities), names(p.Spec.RequiredDropCapabilities)
	if len(adds) == 0 && len(drops) == 0 {
		return Default{}, false
	}
	add := "c.?securityContext.?capabilities.?add.orValue([])"
	drop := "c.?securityContext.?capabilities.?drop.orValue([])"
	// A container that drops a default add does not get it.
	var changed []string
	addValue, dropValue := add, drop
	if len(adds) > 0 {
		newAdds := stringList(adds) + ".filter(x, !(x in " + add + ") && !(x in " + drop + "))"
		changed = append(changed, "size("+newAdds+") > 0")
		addValue += " + " + newAdds
	}
	if len(drops) > 0 {
		newDrops := stringList(drops) + ".filter(x, !(x in " + drop + "))"
		changed = append(changed, "size("+newDrops+") > 0")
		dropValue += " + " + newDrops
	}
	caps := "{'add': dyn(" + addValue + "), 'drop': dyn(" + dropValue + ")}"
	var parts []string
	for _, l := range containerLists {
		// The list of capabilities is atomic: the patch writes the whole
		// capabilities object, or the security context holding it.
		at := "'/spec/" + l.field + "/' + string(i) + '/securityContext'"
		parts = append(parts, l.list+".transformList(i, c, "+strings.Join(changed, " || ")+",\n  has(c.securityContext)"+
			" ? JSONPatch{op: 'add', path: "+at+" + '/capabilities', value: "+caps+"}"+
			" : JSONPatch{op: 'add', path: "+at+", value: {'capabilities': "+caps+"}})")
	}
	var sets []string
	if len(adds) > 0 {
		sets = append(sets, "adds "+strings.Join(adds, ", "))
	}
	if len(drops) > 0 {
		sets = append(sets, "drops "+strings.Join(drops, ", "))
	}
	return Default{
		Field:      "capabilities",
		Sets:       strings.Join(sets, " and ") + " in every container",
		Expression: strings.Join(parts, "\n+ "),
		JSONPatch:  true,
	}, true
}

func readOnlyRootFilesystemDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	if !p.Spec.ReadOnlyRootFilesystem {
		return Default{}, false
	}
	return Default{
		Field:      "readOnlyRootFilesystem",
		Sets:       "readOnlyRootFilesystem: true in every container",
		Expression: forContainers("!c.?securityContext.?readOnlyRootFilesystem.hasValue()", set("readOnlyRootFilesystem", "true")),
	}, true
}

func allowPrivilegeEscalationDefault(p *psp.PodSecurityPolicy) (Default, bool) {
	value := p.Spec.DefaultAllowPrivilegeEscalation
	if value == nil && !p.Spec.AllowPrivilegeEscalationOrDefault() {
		value = new(false)
	}
	if value == nil {
		return Default{}, false
	}
	return Default{
		Field:      "defaultAllowPrivilegeEscalation",
		Sets:       fmt.Sprintf("allowPrivilegeEscalation: %v in every container", *value),
		Expression: forContainers("!c.?securityContext.?allowPrivilegeEscalation.hasValue()", set("allowPrivilegeEscalation", fmt.Sprint(*value))),
	}, true
}

func names(caps []corev1.Capability) []string {
	var out []string
	for _, c := range caps {
		if !slices.Contains(out, string(c)) {
			out = append(out, string(c))
		}
	}
	return out
}

func annotationField(key string) string { return "annotations[" + key + "]" }

// quote and stringList write CEL string literals and lists; vap's rules
// use the same forms.
func quote(s string) string { return vap.Quote(s) }

func stringList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = quote(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// Policy returns the MutatingAdmissionPolicy that applies the defaults to
// pods on create, as PSP did. A default that cannot be evaluated rejects
// the pod (failurePolicy Fail): a pod must not run without what its PSP
// gave it.
func Policy(pspName string, defaults []Default) *admissionregistrationv1.MutatingAdmissionPolicy {
	fail := admissionregistrationv1.Fail
	mutations := make([]admissionregistrationv1.Mutation, len(defaults))
	for i, d := range defaults {
		if d.JSONPatch {
			mutations[i] = admissionregistrationv1.Mutation{
				PatchType: admissionregistrationv1.PatchTypeJSONPatch,
				JSONPatch: &admissionregistrationv1.JSONPatch{Expression: d.Expression},
			}
			continue
		}
		mutations[i] = admissionregistrationv1.Mutation{
			PatchType:          admissionregistrationv1.PatchTypeApplyConfiguration,
			ApplyConfiguration: &admissionregistrationv1.ApplyConfiguration{Expression: d.Expression},
		}
	}
	return &admissionregistrationv1.MutatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "MutatingAdmissionPolicy"},
		ObjectMeta: objectMeta(pspName),
		Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
			FailurePolicy:      &fail,
			MatchConstraints:   vap.PodsMatch(admissionregistrationv1.Create),
			Mutations:          mutations,
			ReinvocationPolicy: admissionregistrationv1.NeverReinvocationPolicy,
		},
	}
}

// Binding returns the binding that applies a PSP's defaults to pods in
// the named namespaces, selected by the kubernetes.io/metadata.name label.
func Binding(pspName string, namespaces []string) *admissionregistrationv1.MutatingAdmissionPolicyBinding {
	return &admissionregistrationv1.MutatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "MutatingAdmissionPolicyBinding"},
		ObjectMeta: objectMeta(pspName),
		Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{
			PolicyName:     PolicyName(pspName),
			MatchResources: vap.NamespacesMatch(namespaces),
		},
	}
}

// PolicyName is the name of the policy and binding writing a PSP's
// defaults: psp2psa-defaults-NAME, apart from its ValidatingAdmissionPolicy.
func PolicyName(pspName string) string { return vap.PolicyName("defaults-" + pspName) }

func objectMeta(pspName string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: PolicyName(pspName), Labels: vap.ManagedLabels()}
}
