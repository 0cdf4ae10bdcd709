// Package gatekeeper keeps, as Gatekeeper Constraints of the
// gatekeeper-library's pod-security-policy templates, the PodSecurityPolicy
// restrictions no Pod Security Standards level expresses, for clusters
// older than 1.30 where ValidatingAdmissionPolicy is not GA.
//
// Gatekeeper users install the library's templates (K8sPSPHostFilesystem,
// K8sPSPAllowedUsers, …) and write Constraints with parameters; this
// package writes those Constraints from a PSP. A template does not always
// check what the 1.24 PSP checked: each Constraint carries the
// differences, worded for a comment beside it (templates.go).
package gatekeeper

import (
	"slices"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/vap"
)

// APIVersion of the Constraints made here; their kinds are the templates'.
const APIVersion = "constraints.gatekeeper.sh/v1beta1"

// Enforcement actions: warn returns a warning to the client and admits the
// pod (audit also lists it); deny rejects it.
const (
	Warn = "warn"
	Deny = "deny"
)

// Kept is one library Constraint that keeps some of a PSP's fields.
type Kept struct {
	// Kind is the template's kind, such as K8sPSPHostFilesystem.
	Kind string
	// Fields are the PSP fields it keeps, named as convert names gaps.
	Fields []string
	// Parameters are the Constraint's spec.parameters.
	Parameters map[string]any
	// Limits say where the template admits what the PSP rejected, or
	// rejects what it admitted, for this PSP.
	Limits []string
}

// Constraint is the part of a Gatekeeper Constraint written here.
type Constraint struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   Metadata       `json:"metadata"`
	Spec       ConstraintSpec `json:"spec"`
}

// Metadata names the Constraint and marks it as psp2psa's.
type Metadata struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// ConstraintSpec is a Constraint's spec.
type ConstraintSpec struct {
	EnforcementAction string         `json:"enforcementAction"`
	Match             Match          `json:"match"`
	Parameters        map[string]any `json:"parameters,omitempty"`
}

// Match selects Pods in the named namespaces.
type Match struct {
	Kinds      []MatchKind `json:"kinds"`
	Namespaces []string    `json:"namespaces"`
}

// MatchKind is one group and its kinds.
type MatchKind struct {
	APIGroups []string `json:"apiGroups"`
	Kinds     []string `json:"kinds"`
}

// ConstraintFor returns the Constraint of k for a PSP: named like the
// PSP's other policies (psp2psa-NAME; each template kind is its own
// resource), matching Pods in the namespaces, with enforcement action warn
// or, with deny, deny.
func ConstraintFor(pspName string, k Kept, namespaces []string, deny bool) *Constraint {
	action := Warn
	if deny {
		action = Deny
	}
	return &Constraint{
		APIVersion: APIVersion,
		Kind:       k.Kind,
		Metadata: Metadata{
			Name:   vap.PolicyName(pspName),
			Labels: vap.ManagedLabels(),
		},
		Spec: ConstraintSpec{
			EnforcementAction: action,
			Match: Match{
				Kinds:      []MatchKind{{APIGroups: []string{""}, Kinds: []string{"Pod"}}},
				Namespaces: slices.Sorted(slices.Values(namespaces)),
			},
			Parameters: k.Parameters,
		},
	}
}

// ForPolicy returns the Constraints that keep every restriction the PSP
// enforces along the fields vap expresses and its profile lists, whether
// or not a PSS level also holds it.
func ForPolicy(p *psp.PodSecurityPolicy) []Kept {
	var fields []string
	for _, r := range vap.ForPolicy(p) {
		if !slices.Contains(fields, r.Field) {
			fields = append(fields, r.Field)
		}
	}
	fields = append(fields, SeccompProfilesField, AppArmorProfilesField)
	return forFields(p, fields)
}

// ForGaps returns the Constraints for the fields of the gaps convert found
// and the gaps no library template keeps.
func ForGaps(p *psp.PodSecurityPolicy, gaps []convert.Gap) (kept []Kept, unexpressed []convert.Gap) {
	var fields []string
	for _, g := range gaps {
		fields = append(fields, g.Field)
	}
	kept = forFields(p, fields)
	for _, g := range gaps {
		if !slices.ContainsFunc(kept, func(k Kept) bool { return slices.Contains(k.Fields, g.Field) }) {
			unexpressed = append(unexpressed, g)
		}
	}
	return kept, unexpressed
}

// forFields builds, template by template, the Constraints for the wanted
// fields the PSP restricts.
func forFields(p *psp.PodSecurityPolicy, wanted []string) []Kept {
	var out []Kept
	for _, t := range templates {
		var fields []string
		for _, f := range t.fields {
			if slices.Contains(wanted, f) {
				fields = append(fields, f)
			}
		}
		if len(fields) == 0 {
			continue
		}
		if k, ok := t.build(p, fields); ok {
			k.Kind = t.kind
			out = append(out, k)
		}
	}
	return out
}

// NotExpressed says why a PSP field's gap has no Constraint.
func NotExpressed(field string) string {
	switch field {
	case "allowedCSIDrivers":
		return "the gatekeeper-library has no template for inline CSI drivers"
	case "runtimeClass":
		return "the gatekeeper-library has no template for runtime classes"
	case SeccompProfilesField, AppArmorProfilesField:
		return "no Constraint: the PSP lists no profile, so none may be set, which the template cannot say"
	}
	return vap.NotExpressed(field)
}
