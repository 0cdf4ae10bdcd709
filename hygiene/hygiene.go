// Package hygiene checks the security context of a pod template against
// what Kubernetes' "Configure a Security Context for a Pod or Container"
// guidance asks of every workload, whatever Pod Security level it runs
// under: a UID that is set and not root, a primary group that is set and
// not 0, an fsGroup where the pod has volumes, and runAsNonRoot. Where the
// PSP that admits the workload allows only some IDs (MustRunAs or MayRunAs
// ranges), it proposes one of them, the one that PSP would have chosen.
//
// None of this is required by a Pod Security level below restricted (and
// restricted asks only for runAsNonRoot): these are findings, and pinning
// IDs is opt-in (plan --pin-ids), since an image may expect another ID.
package hygiene

import (
	"fmt"

	"github.com/psp2psa/psp2psa/patch"
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

// Issue IDs: the review's rule IDs.
const (
	RunAsUserUnset      = "run-as-user-unset"
	RunAsUserRoot       = "run-as-user-root"
	RunAsGroupUnset     = "run-as-group-unset"
	RunAsGroupRoot      = "run-as-group-root"
	FSGroupUnset        = "fs-group-unset"
	RunAsNonRootMissing = "run-as-non-root-missing"
)

// Issue is one thing the guidance asks that the template does not do.
type Issue struct {
	ID string `json:"id"`
	// Containers are the containers concerned, init containers first; none
	// for an issue of the pod (fsGroup).
	Containers []string `json:"containers,omitempty"`
	// Pin is the value proposed from the admitting PSP's ranges; nil when
	// it has none to offer.
	Pin *Pin `json:"pin,omitempty"`
}

// Pin is an ID to set in the pod's securityContext, and where it comes
// from.
type Pin struct {
	// Field is a patch field: patch.FieldRunAsUser, FieldRunAsGroup or
	// FieldFSGroup, set at the pod level.
	Field string `json:"field"`
	Value int64  `json:"value"`
	// From says which PSP rule allows it: "PSP restricted runAsUser
	// MustRunAs 1000-2000".
	From string `json:"from"`
}

// Check lists the issues of a pod template; admitting is the PSP that
// admits it today (nil when none does, or it is unknown).
func Check(t *corev1.PodTemplateSpec, admitting *psp.PodSecurityPolicy) []Issue {
	spec := &t.Spec
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	var unsetUID, rootUID, unsetGID, rootGID, mayRunAsRoot []string
	for _, c := range containers(spec) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		switch uid := first(sc.RunAsUser, pod.RunAsUser); {
		case uid == nil:
			unsetUID = append(unsetUID, c.Name)
		case *uid == 0:
			rootUID = append(rootUID, c.Name)
		}
		switch gid := first(sc.RunAsGroup, pod.RunAsGroup); {
		case gid == nil:
			unsetGID = append(unsetGID, c.Name)
		case *gid == 0:
			rootGID = append(rootGID, c.Name)
		}
		if nonRoot := first(sc.RunAsNonRoot, pod.RunAsNonRoot); nonRoot == nil || !*nonRoot {
			mayRunAsRoot = append(mayRunAsRoot, c.Name)
		}
	}
	var out []Issue
	add := func(id string, names []string, pin *Pin) {
		if len(names) > 0 {
			out = append(out, Issue{ID: id, Containers: names, Pin: pin})
		}
	}
	add(RunAsUserUnset, unsetUID, pinFor(admitting, patch.FieldRunAsUser, pod.RunAsUser))
	add(RunAsUserRoot, rootUID, nil)
	add(RunAsGroupUnset, unsetGID, pinFor(admitting, patch.FieldRunAsGroup, pod.RunAsGroup))
	add(RunAsGroupRoot, rootGID, nil)
	if len(spec.Volumes) > 0 && pod.FSGroup == nil {
		out = append(out, Issue{ID: FSGroupUnset, Pin: pinFor(admitting, patch.FieldFSGroup, nil)})
	}
	add(RunAsNonRootMissing, mayRunAsRoot, nil)
	return out
}

// Pins is the patch --pin-ids adds: each ID the template leaves unset,
// set at the pod level to the value the admitting PSP's ranges propose.
// Containers that set their own keep it.
func Pins(t *corev1.PodTemplateSpec, admitting *psp.PodSecurityPolicy) patch.Patch {
	var p patch.Patch
	for _, issue := range Check(t, admitting) {
		if issue.Pin == nil {
			continue
		}
		p.Changes = append(p.Changes, patch.Change{
			Field: issue.Pin.Field, Value: issue.Pin.Value,
			Reason:  "pins an ID the image would otherwise choose: " + issue.Pin.From + " (--pin-ids)",
			Warning: "an image that expects another ID (its files' owner, a USER in its Dockerfile) may fail to start or to write",
		})
	}
	return p
}

// containers are the init and regular containers: ephemeral containers
// are added by kubectl debug, not written in manifests.
func containers(spec *corev1.PodSpec) []*corev1.Container {
	out := make([]*corev1.Container, 0, len(spec.InitContainers)+len(spec.Containers))
	for i := range spec.InitContainers {
		out = append(out, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		out = append(out, &spec.Containers[i])
	}
	return out
}

func first[T any](container, pod *T) *T {
	if container != nil {
		return container
	}
	return pod
}

// pinFor proposes, for a pod-level ID field the pod leaves unset, the
// value the admitting PSP would have chosen: the first non-zero ID of its
// ranges (PSP's own default is the first range's minimum; 0 is never
// proposed). nil when the PSP has no ranges for the field or the pod sets
// it.
func pinFor(admitting *psp.PodSecurityPolicy, field string, podValue *int64) *Pin {
	if admitting == nil || podValue != nil {
		return nil
	}
	spec := &admitting.Spec
	var rule string
	var ranges []psp.IDRange
	switch field {
	case patch.FieldRunAsUser:
		if spec.RunAsUser.Rule == psp.RunAsUserStrategyMustRunAs {
			rule, ranges = string(spec.RunAsUser.Rule), spec.RunAsUser.Ranges
		}
	case patch.FieldRunAsGroup:
		if g := spec.RunAsGroup; g != nil && g.Rule != psp.RunAsGroupStrategyRunAsAny {
			rule, ranges = string(g.Rule), g.Ranges
		}
	case patch.FieldFSGroup:
		if spec.FSGroup.Rule != psp.FSGroupStrategyRunAsAny && spec.FSGroup.Rule != "" {
			rule, ranges = string(spec.FSGroup.Rule), spec.FSGroup.Ranges
		}
	}
	for _, r := range ranges {
		v := max(r.Min, 1)
		if v <= r.Max {
			return &Pin{Field: field, Value: v, From: fmt.Sprintf("PSP %s %s %s %s", admitting.Name, fieldName(field), rule, rangesText(ranges))}
		}
	}
	return nil
}

func fieldName(field string) string {
	switch field {
	case patch.FieldRunAsUser:
		return "runAsUser"
	case patch.FieldRunAsGroup:
		return "runAsGroup"
	}
	return "fsGroup"
}

func rangesText(ranges []psp.IDRange) string {
	out := ""
	for i, r := range ranges {
		if i > 0 {
			out += ","
		}
		if r.Min == r.Max {
			out += fmt.Sprint(r.Min)
		} else {
			out += fmt.Sprintf("%d-%d", r.Min, r.Max)
		}
	}
	return out
}
