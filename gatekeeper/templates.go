package gatekeeper

import (
	"slices"

	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/vap"
	corev1 "k8s.io/api/core/v1"
)

// template is one gatekeeper-library template and the PSP fields its
// Constraint can keep; build returns the parameters for the wanted fields
// the PSP restricts, false when it restricts none of them.
type template struct {
	kind   string
	fields []string
	build  func(p *psp.PodSecurityPolicy, fields []string) (Kept, bool)
}

// templates lists the library templates used, in PSP spec order of their
// first field. Every template checks the init, regular and ephemeral
// containers, and skips UPDATE requests (the fields are immutable).
var templates = []template{
	{"K8sPSPCapabilities", []string{"requiredDropCapabilities", "allowedCapabilities"}, capabilitiesConstraint},
	{"K8sPSPVolumeTypes", []string{"volumes"}, volumeTypesConstraint},
	{"K8sPSPHostNetworkingPorts", []string{"hostPorts"}, hostPortsConstraint},
	{"K8sPSPSELinuxV2", []string{"seLinux"}, seLinuxConstraint},
	{"K8sPSPAllowedUsers", []string{"runAsUser", "runAsGroup", "supplementalGroups", "fsGroup"}, usersConstraint},
	{"K8sPSPReadOnlyRootFilesystem", []string{"readOnlyRootFilesystem"}, readOnlyRootFilesystemConstraint},
	{"K8sPSPHostFilesystem", []string{"allowedHostPaths"}, hostFilesystemConstraint},
	{"K8sPSPFlexVolumes", []string{"allowedFlexVolumes"}, flexVolumesConstraint},
	{"K8sPSPForbiddenSysctls", []string{"forbiddenSysctls"}, forbiddenSysctlsConstraint},
	{"K8sPSPSeccomp", []string{SeccompProfilesField}, seccompConstraint},
	{"K8sPSPAppArmor", []string{AppArmorProfilesField}, appArmorConstraint},
}

// The PSP fields of the profile lists, named as convert names their gaps.
var (
	SeccompProfilesField  = "annotations[" + psp.SeccompAllowedProfilesAnnotation + "]"
	AppArmorProfilesField = "annotations[" + psp.AppArmorAllowedProfilesAnnotation + "]"
)

// profileList is a PSP's allowed profile names; ok is false when it has
// no list or allows every profile ("*"), and for an empty list.
func profileList(names []string, set bool) ([]string, bool) {
	var out []string
	for _, n := range names {
		if n == psp.AllowAllProfiles {
			return nil, false
		}
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, set && len(out) > 0
}

func seccompConstraint(p *psp.PodSecurityPolicy, _ []string) (Kept, bool) {
	names, ok := profileList(psp.SeccompAllowedProfiles(p))
	if !ok {
		return Kept{}, false
	}
	// 1.24 read docker/default as runtime/default: either allows both.
	for _, pair := range [][2]string{{psp.SeccompProfileDockerDefault, psp.SeccompProfileRuntimeDefault}, {psp.SeccompProfileRuntimeDefault, psp.SeccompProfileDockerDefault}} {
		if slices.Contains(names, pair[0]) && !slices.Contains(names, pair[1]) {
			names = append(names, pair[1])
		}
	}
	return Kept{
		Fields:     []string{SeccompProfilesField},
		Parameters: map[string]any{"allowedProfiles": names},
		Limits: []string{
			"only each container's profile is checked: the pod's own is not required when every container sets one (PSP required a listed pod profile too, which its default filled in)",
		},
	}, true
}

func appArmorConstraint(p *psp.PodSecurityPolicy, _ []string) (Kept, bool) {
	names, ok := profileList(psp.AppArmorAllowedProfiles(p))
	if !ok {
		return Kept{}, false
	}
	k := Kept{Fields: []string{AppArmorProfilesField}, Parameters: map[string]any{"allowedProfiles": names}}
	if slices.Contains(names, psp.AppArmorProfileRuntimeDefault) {
		k.Limits = append(k.Limits, "a container without a profile counts as runtime/default and is admitted (PSP required a listed profile, which its default filled in)")
	}
	return k, true
}

// restricts reports whether vap writes a rule for the field: the PSP
// restricts along it.
func restricts(p *psp.PodSecurityPolicy, field string) bool {
	return slices.ContainsFunc(vap.ForPolicy(p), func(r vap.Rule) bool { return r.Field == field })
}

func capabilitiesConstraint(p *psp.PodSecurityPolicy, fields []string) (Kept, bool) {
	k := Kept{Parameters: map[string]any{"allowedCapabilities": []string{"*"}}}
	if slices.Contains(fields, "allowedCapabilities") && restricts(p, "allowedCapabilities") {
		k.Fields = append(k.Fields, "allowedCapabilities")
		k.Parameters["allowedCapabilities"] = capabilityNames(p.Spec.AllowedCapabilities, p.Spec.DefaultAddCapabilities)
	}
	if slices.Contains(fields, "requiredDropCapabilities") && restricts(p, "requiredDropCapabilities") {
		k.Fields = append(k.Fields, "requiredDropCapabilities")
		k.Parameters["requiredDropCapabilities"] = capabilityNames(p.Spec.RequiredDropCapabilities)
	}
	return k, len(k.Fields) > 0
}

// capabilityNames joins capability lists without repeats, in order; never
// nil, so that an empty list is written as [] (nothing may be added).
func capabilityNames(lists ...[]corev1.Capability) []string {
	names := []string{}
	for _, list := range lists {
		for _, c := range list {
			if !slices.Contains(names, string(c)) {
				names = append(names, string(c))
			}
		}
	}
	return names
}

func volumeTypesConstraint(p *psp.PodSecurityPolicy, _ []string) (Kept, bool) {
	if !restricts(p, "volumes") {
		return Kept{}, false
	}
	types := []string{}
	for _, t := range p.Spec.Volumes {
		if f, ok := vap.VolumeField(t); ok && !slices.Contains(types, f) {
			types = append(types, f)
		}
	}
	if slices.Contains(p.Spec.Volumes, psp.EmptyDir) {
		// 1.24 did not know image volumes (1.31+): its server dropped the
		// source and defaulted the volume to emptyDir.
		types = append(types, "image")
	}
	k := Kept{Fields: []string{"volumes"}}
	if slices.Contains(p.Spec.Volumes, psp.Secret) && !slices.Contains(p.Spec.Volumes, psp.Projected) {
		// Every pod with a service account token now carries it as a
		// projected volume; 1.24 let that one through with secret.
		types = append(types, "projected")
		k.Limits = append(k.Limits, "projected volumes are allowed whatever they hold: the service account token volume every pod gets is one, and PSP let only that one through with secret")
	}
	k.Parameters = map[string]any{"volumes": types}
	return k, true
}

func hostPortsConstraint(p *psp.PodSecurityPolicy, _ []string) (Kept, bool) {
	if !restricts(p, "hostPorts") {
		return Kept{}, false
	}
	// hostNetwork true leaves host networking to the namespace's PSS
	// level: the Constraint keeps the port range only.
	params := map[string]any{"hostNetwork": true, "min": 0, "max": 0}
	k := Kept{Fields: []string{"hostPorts"}, Parameters: params, Limits: []string{
		"a container is rejected only when every one of its ports has a host port out of range: a port in range, or one without a host port, lets the others through",
	}}
	ranges := p.Spec.HostPorts
	if len(ranges) == 0 {
		return k, true
	}
	lo, hi := ranges[0].Min, ranges[0].Max
	for _, r := range ranges[1:] {
		lo, hi = min(lo, r.Min), max(hi, r.Max)
	}
	params["min"], params["max"] = lo, hi
	if len(ranges) > 1 {
		k.Limits = append(k.Limits, "the template takes one range: host ports between the PSP's ranges are admitted")
	}
	return k, true
}

func seLinuxConstraint(p *psp.PodSecurityPolicy, _ []string) (Kept, bool) {
	if !restricts(p, "seLinux") {
		return Kept{}, false
	}
	o := p.Spec.SELinux.SELinuxOptions
	options := map[string]any{}
	for key, v := range map[string]string{"user": o.User, "role": o.Role, "type": o.Type, "level": o.Level} {
		if v != "" {
			options[key] = v
		}
	}
	return Kept{
		Fields:     []string{"seLinux"},
		Parameters: map[string]any{"allowedSELinuxOptions": []any{options}},
		Limits: []string{
			"options a pod leaves out are not required (PSP filled in the pod's and wanted every one equal)",
			"levels must be equal strings (PSP accepted the categories in any order)",
		},
	}, true
}

func usersConstraint(p *psp.PodSecurityPolicy, fields []string) (Kept, bool) {
	k := Kept{Parameters: map[string]any{}}
	add := func(field, rule string, ranges []psp.IDRange) {
		if !slices.Contains(fields, field) || !restricts(p, field) {
			return
		}
		k.Fields = append(k.Fields, field)
		params := map[string]any{"rule": rule}
		if len(ranges) > 0 {
			params["ranges"] = idRanges(ranges)
		}
		k.Parameters[field] = params
	}
	add("runAsUser", string(p.Spec.RunAsUser.Rule), p.Spec.RunAsUser.Ranges)
	if p.Spec.RunAsUser.Rule == psp.RunAsUserStrategyMustRunAsNonRoot && slices.Contains(k.Fields, "runAsUser") {
		k.Limits = append(k.Limits, "a container with runAsNonRoot: false and a non-zero runAsUser is admitted (PSP wanted runAsNonRoot not false)")
	}
	if g := p.Spec.RunAsGroup; g != nil {
		add("runAsGroup", string(g.Rule), g.Ranges)
	}
	add("supplementalGroups", string(p.Spec.SupplementalGroups.Rule), p.Spec.SupplementalGroups.Ranges)
	add("fsGroup", string(p.Spec.FSGroup.Rule), p.Spec.FSGroup.Ranges)
	return k, len(k.Fields) > 0
}

func idRanges(ranges []psp.IDRange) []any {
	out := make([]any, len(ranges))
	for i, r := range ranges {
		out[i] = map[string]any{"min": r.Min, "max": r.Max}
	}
	return out
}

func readOnlyRootFilesystemConstraint(p *psp.PodSecurityPolicy, _ []string) (Kept, bool) {
	if !restricts(p, "readOnlyRootFilesystem") {
		return Kept{}, false
	}
	return Kept{Fields: []string{"readOnlyRootFilesystem"}}, true
}

func hostFilesystemConstraint(p *psp.PodSecurityPolicy, _ []string) (Kept, bool) {
	if !restricts(p, "allowedHostPaths") {
		return Kept{}, false
	}
	var paths []any
	k := Kept{Fields: []string{"allowedHostPaths"}, Limits: []string{
		"a prefix matches as a string (/var/log also admits /var/logs), and a prefix ending in / does not cover the directory itself; PSP compared whole path segments",
	}}
	for _, h := range p.Spec.AllowedHostPaths {
		path := map[string]any{"pathPrefix": h.PathPrefix}
		if h.ReadOnly {
			path["readOnly"] = true
		}
		paths = append(paths, path)
	}
	if slices.ContainsFunc(p.Spec.AllowedHostPaths, func(h psp.AllowedHostPath) bool { return h.ReadOnly }) {
		k.Limits = append(k.Limits, "a pod with a container that mounts no volume at all is rejected when a readOnly prefix is the one covering a hostPath volume (the template's CEL reads each container's volumeMounts unguarded)")
	}
	k.Parameters = map[string]any{"allowedHostPaths": paths}
	return k, true
}

func flexVolumesConstraint(p *psp.PodSecurityPolicy, _ []string) (Kept, bool) {
	if !restricts(p, "allowedFlexVolumes") {
		return Kept{}, false
	}
	var drivers []any
	for _, f := range p.Spec.AllowedFlexVolumes {
		drivers = append(drivers, map[string]any{"driver": f.Driver})
	}
	return Kept{Fields: []string{"allowedFlexVolumes"}, Parameters: map[string]any{"allowedFlexVolumes": drivers}}, true
}

func forbiddenSysctlsConstraint(p *psp.PodSecurityPolicy, _ []string) (Kept, bool) {
	if !restricts(p, "forbiddenSysctls") {
		return Kept{}, false
	}
	return Kept{
		Fields:     []string{"forbiddenSysctls"},
		Parameters: map[string]any{"forbiddenSysctls": slices.Clone(p.Spec.ForbiddenSysctls)},
	}, true
}

// FieldsOf returns the PSP fields a Constraint of the library template
// kind keeps (nil for a kind this package does not write).
func FieldsOf(kind string) []string {
	for _, t := range templates {
		if t.kind == kind {
			return t.fields
		}
	}
	return nil
}
