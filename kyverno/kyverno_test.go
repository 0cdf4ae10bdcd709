package kyverno

import (
	"slices"
	"testing"

	"github.com/psp2psa/psp2psa/internal/gapcases"
	"github.com/psp2psa/psp2psa/vap"
)

// TestPolicy: one Kyverno rule per PSP field, holding every vap rule of
// that field as an expression, matched to Pods in the namespaces.
func TestPolicy(t *testing.T) {
	rules := []vap.Rule{
		{Field: "allowedHostPaths", Expression: "a", Message: "psp p: allowedHostPaths: under /var/log"},
		{Field: "runAsUser", Expression: "b", Message: "psp p: runAsUser: m"},
		{Field: "allowedHostPaths", Expression: "c", Message: "psp p: allowedHostPaths: mounted readOnly"},
	}
	pol := Policy("p", rules, []string{"shop", "batch"}, false)
	if pol.APIVersion != "kyverno.io/v1" || pol.Kind != "ClusterPolicy" || pol.Metadata.Name != "psp2psa-p" {
		t.Errorf("identity %s %s %s", pol.APIVersion, pol.Kind, pol.Metadata.Name)
	}
	if pol.Metadata.Annotations[AutogenAnnotation] != "none" {
		t.Error("autogen is not off")
	}
	if pol.Spec.ValidationFailureAction != Audit {
		t.Errorf("action %s, want Audit", pol.Spec.ValidationFailureAction)
	}
	var names []string
	for _, r := range pol.Spec.Rules {
		names = append(names, r.Name)
		res := r.Match.Any[0].Resources
		if !slices.Equal(res.Kinds, []string{"Pod"}) || !slices.Equal(res.Namespaces, []string{"batch", "shop"}) {
			t.Errorf("%s: match %+v", r.Name, res)
		}
		if len(r.CELPreconditions) != 1 {
			t.Errorf("%s: preconditions %+v", r.Name, r.CELPreconditions)
		}
	}
	if !slices.Equal(names, []string{"allowedHostPaths", "runAsUser"}) {
		t.Errorf("rules %v", names)
	}
	if got := pol.Spec.Rules[0].Validate.CEL.Expressions; len(got) != 2 || got[0].Expression != "a" || got[1].Expression != "c" {
		t.Errorf("allowedHostPaths expressions %+v", got)
	}
	if Policy("p", rules, []string{"x"}, true).Spec.ValidationFailureAction != Enforce {
		t.Error("enforce is not Enforce")
	}
}

// TestRuleNames: every case's policy has rule names Kyverno accepts (at
// most 63 characters, unique).
func TestRuleNames(t *testing.T) {
	for _, tc := range gapcases.Cases() {
		pol := Policy(tc.PSP.Name, vap.ForPolicy(tc.PSP), []string{"ns"}, false)
		seen := map[string]bool{}
		for _, r := range pol.Spec.Rules {
			if len(r.Name) > 63 || seen[r.Name] {
				t.Errorf("%s: rule name %q", tc.Name, r.Name)
			}
			seen[r.Name] = true
		}
	}
}
