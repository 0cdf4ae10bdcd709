package convert

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
)

// A rule maps one PSP spec field or profile annotation to PSS. Each lives in
// rule_<field>.go and registers itself from init(); the registry below is
// the only list of rules, and a test checks that every spec field and every
// profile annotation has exactly one.
//
// Field names, used for rules, findings, mutations, gaps and notes:
//   - a spec field is its JSON path without "spec.": "seLinux", "volumes",
//     "allowedCapabilities", "runAsUser", "hostPorts";
//   - a profile annotation is "annotations[<key>]", e.g.
//     "annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]";
//   - a mutation or gap may name a sub-field below its rule's field when
//     that is more precise, e.g. "runtimeClass.defaultRuntimeClassName".
type rule struct {
	field   string
	analyze func(p *psp.PodSecurityPolicy) analysis
}

// analysis is what one field of one PSP means for the pods it admits. It
// is pure data about the PSP; the engine (convert.go) asks the PSA
// evaluator what the pods mean for each level.
type analysis struct {
	// witnesses are the most permissive things the PSP lets a pod do along
	// this field, after its own defaults: each is a pod the PSP admits.
	witnesses []podChange
	// restrictions are things the PSP never lets a pod keep along this
	// field: values it rejects, or overrides whatever the pod says. Those
	// no PSS level can reject, given what the PSP allows elsewhere, are the
	// field's gaps. A value the PSP only fills in when unset is a mutation,
	// not a restriction.
	restrictions []podChange
	mutations    []Mutation
	notes        []Note
	// admitsNothing is set when this field alone makes 1.24 admission
	// reject every pod; a note says why.
	admitsNothing bool
	// explain words the finding for the witnesses that fail a level.
	explain func(c findingContext) string
	// explainGap words the gap for the restrictions PSS cannot express.
	explainGap func(lost []lostRestriction) string
}

// podChange is one small named change to a pod.
type podChange struct {
	name string
	// required marks the witness every admitted pod needs along this field
	// because the PSP rejects the clean pod's value there (e.g. a seccomp
	// allow-list without runtime/default). Convert does not use it; the
	// tests build pods the PSP admits from it.
	required bool
	apply    func(pod *corev1.Pod)
	// written, set for a change the PSP's own defaults make, changes the
	// clean pod into the pod as written, which admission turns into
	// apply's pod. What a pod chose itself decides which checks a PSP
	// governs (governable), so such a change is judged on both.
	written func(pod *corev1.Pod)
}

// writtenPod is the clean pod as written with the change: apply's pod,
// unless the PSP's defaults make the change.
func (c podChange) writtenPod() *corev1.Pod {
	pod := cleanPod()
	if c.written != nil {
		c.written(pod)
	} else {
		c.apply(pod)
	}
	return pod
}

// findingContext is what a finding's message may depend on.
type findingContext struct {
	level   api.Level
	version api.Version
	// witnesses names the witnesses that fail the level, in rule order.
	witnesses []string
}

// lostRestriction is a restriction no PSS level enforces for this PSP.
type lostRestriction struct {
	name string
	// allowedBy is the strictest level that admits it.
	allowedBy api.Level
}

var registry = map[string]rule{}

// register adds a rule; rule files call it from init().
func register(r rule) {
	if _, dup := registry[r.field]; dup {
		panic("convert: two rules for " + r.field)
	}
	registry[r.field] = r
}

// profileAnnotations are the PSP annotations that carry policy.
var profileAnnotations = []string{
	psp.SeccompAllowedProfilesAnnotation,
	psp.SeccompDefaultProfileAnnotation,
	psp.AppArmorAllowedProfilesAnnotation,
	psp.AppArmorDefaultProfileAnnotation,
}

// annotationField is the field name of a PSP annotation.
func annotationField(key string) string { return "annotations[" + key + "]" }

// policyFields lists every field a rule must exist for, in the order of
// PodSecurityPolicySpec followed by the profile annotations; findings,
// mutations and gaps come out in this order.
var policyFields = func() []string {
	var fields []string
	t := reflect.TypeFor[psp.PodSecurityPolicySpec]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	for _, key := range profileAnnotations {
		fields = append(fields, annotationField(key))
	}
	return fields
}()

// rules returns the registered rules in policyFields order.
func rules() []rule {
	out := make([]rule, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b rule) int {
		return fieldRank(a.field) - fieldRank(b.field)
	})
	return out
}

func fieldRank(field string) int {
	if i := slices.Index(policyFields, field); i >= 0 {
		return i
	}
	return len(policyFields)
}

// Wording shared by rule messages.

// namesList joins names for a sentence, keeping long lists short.
func namesList(names []string) string {
	const shown = 6
	if len(names) > shown {
		return strings.Join(names[:shown], ", ") + fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return strings.Join(names, ", ")
}

// describeLost words lost restrictions grouped by the strictest level that
// admits them: "csi, ephemeral, which even restricted allows; nfs, which
// baseline allows".
func describeLost(lost []lostRestriction) string {
	var parts []string
	for _, g := range lostByLevel(lost) {
		who := "which " + string(g.level) + " allows"
		if g.level == api.LevelRestricted {
			who = "which even restricted allows"
		}
		parts = append(parts, namesList(g.names)+", "+who)
	}
	return strings.Join(parts, "; ")
}

// whoAllowsLost words lost restrictions led by the level: "even restricted
// allows UID 1; baseline allows …".
func whoAllowsLost(lost []lostRestriction) string {
	var parts []string
	for _, g := range lostByLevel(lost) {
		parts = append(parts, levelAllows(g.level)+" "+namesList(g.names))
	}
	return strings.Join(parts, "; ")
}

// lostGroup is the lost restrictions one level admits.
type lostGroup struct {
	level api.Level
	names []string
}

// lostByLevel groups lost restrictions by the level that admits them,
// strictest first, leaving out levels with none.
func lostByLevel(lost []lostRestriction) []lostGroup {
	var groups []lostGroup
	for _, level := range []api.Level{api.LevelRestricted, api.LevelBaseline, api.LevelPrivileged} {
		g := lostGroup{level: level}
		for _, l := range lost {
			if l.allowedBy == level {
				g.names = append(g.names, l.name)
			}
		}
		if len(g.names) > 0 {
			groups = append(groups, g)
		}
	}
	return groups
}

// strictestAllowing returns the strictest level among the lost ones.
func strictestAllowing(lost []lostRestriction) api.Level {
	level := api.LevelPrivileged
	for _, l := range lost {
		if api.CompareLevels(l.allowedBy, level) > 0 {
			level = l.allowedBy
		}
	}
	return level
}

// levelAllows words "which <level> allows" for a single level.
func levelAllows(level api.Level) string {
	if level == api.LevelRestricted {
		return "even restricted allows"
	}
	return string(level) + " allows"
}

// idRanges words ID or port ranges: "1-65535", "1000".
func idRanges(ranges []psp.IDRange) string {
	var parts []string
	for _, r := range ranges {
		parts = append(parts, rangeText(r.Min, r.Max))
	}
	return strings.Join(parts, ", ")
}

func rangeText[T int32 | int64](lo, hi T) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// inIDRanges reports whether id falls in one of the ranges.
func inIDRanges(id int64, ranges []psp.IDRange) bool {
	for _, r := range ranges {
		if id >= r.Min && id <= r.Max {
			return true
		}
	}
	return false
}

// outsideIDRanges returns the smallest ID ≥ from outside every range.
func outsideIDRanges(ranges []psp.IDRange, from int64) int64 {
	id := from
	for inIDRanges(id, ranges) {
		for _, r := range ranges {
			if id >= r.Min && id <= r.Max {
				id = r.Max + 1
			}
		}
	}
	return id
}

// capNames renders capabilities for a message.
func capNames(caps []corev1.Capability) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = string(c)
	}
	return out
}

// Wording of what PSA accepts, for messages only: the verdicts always come
// from the evaluator.
const (
	baselineCapabilities = "AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT"
	restrictedVolumes    = "configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret"
)

// capabilitiesAllowedAt words which added capabilities a level accepts.
func capabilitiesAllowedAt(level api.Level) string {
	if level == api.LevelBaseline {
		return "baseline allows adding only " + baselineCapabilities
	}
	return "restricted allows adding only NET_BIND_SERVICE and requires dropping ALL"
}
