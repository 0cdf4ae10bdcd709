package review

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/gatekeeper"
	"github.com/psp2psa/psp2psa/manifest"
)

// anyPolicy is Kept.Policy for a policy that keeps a field whichever PSP
// admitted the pod: a Gatekeeper Constraint applies its template to every
// pod it matches.
const anyPolicy = "*"

// kyvernoPolicy is the part of a Kyverno ClusterPolicy or Policy read
// here: each rule's CEL messages and the namespaces it matches.
type kyvernoPolicy struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Rules []struct {
			Match struct {
				Any []struct {
					Resources struct {
						Namespaces []string `json:"namespaces"`
					} `json:"resources"`
				} `json:"any"`
			} `json:"match"`
			Validate struct {
				CEL struct {
					Expressions []struct {
						Message string `json:"message"`
					} `json:"expressions"`
				} `json:"cel"`
			} `json:"validate"`
		} `json:"rules"`
	} `json:"spec"`
}

// keptByKyvernoPolicies reads Kyverno policies: a validate.cel expression
// keeps a PSP field when its message says so, as the policies plan
// --write-dir --gap-policies kyverno writes do, in the namespaces its
// rule matches (a namespaced Policy: its own namespace).
func keptByKyvernoPolicies(docs []manifest.Document) []Kept {
	var out []Kept
	for i := range docs {
		d := &docs[i]
		if apiGroup(d.APIVersion) != "kyverno.io" || (d.Kind != "ClusterPolicy" && d.Kind != "Policy") {
			continue
		}
		var p kyvernoPolicy
		if json.Unmarshal(d.Raw, &p) != nil {
			continue
		}
		for _, r := range p.Spec.Rules {
			var namespaces []string
			all := len(r.Match.Any) == 0
			for _, f := range r.Match.Any {
				all = all || len(f.Resources.Namespaces) == 0
				namespaces = append(namespaces, f.Resources.Namespaces...)
			}
			if d.Kind == "Policy" {
				all, namespaces = false, []string{p.Metadata.Namespace}
			}
			selects := namespacesSelector(all, namespaces, nil)
			for _, e := range r.Validate.CEL.Expressions {
				if m := keptMessage.FindStringSubmatch(e.Message); m != nil {
					out = append(out, Kept{Policy: m[1], Field: m[2], Selects: selects, By: d.Kind + " " + p.Metadata.Name})
				}
			}
		}
	}
	return out
}

// gatekeeperConstraint is the part of a Constraint read here.
type gatekeeperConstraint struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		EnforcementAction string `json:"enforcementAction"`
		Match             struct {
			Namespaces         []string `json:"namespaces"`
			ExcludedNamespaces []string `json:"excludedNamespaces"`
		} `json:"match"`
	} `json:"spec"`
}

// keptByGatekeeperConstraints reads Constraints of the gatekeeper-library
// pod-security-policy templates: each keeps its template's PSP fields for
// every pod in the namespaces it matches, unless it only records
// (enforcementAction dryrun).
func keptByGatekeeperConstraints(docs []manifest.Document) []Kept {
	var out []Kept
	for i := range docs {
		d := &docs[i]
		fields := gatekeeper.FieldsOf(d.Kind)
		if apiGroup(d.APIVersion) != "constraints.gatekeeper.sh" || fields == nil {
			continue
		}
		var c gatekeeperConstraint
		if json.Unmarshal(d.Raw, &c) != nil || strings.EqualFold(c.Spec.EnforcementAction, "dryrun") {
			continue
		}
		m := c.Spec.Match
		selects := namespacesSelector(len(m.Namespaces) == 0, m.Namespaces, m.ExcludedNamespaces)
		for _, f := range fields {
			out = append(out, Kept{Policy: anyPolicy, Field: f, Selects: selects, By: d.Kind + " " + c.Metadata.Name})
		}
	}
	return out
}

// namespacesSelector selects namespaces by name, as Kyverno and
// Gatekeeper match them (exact names; a trailing * matches a prefix).
func namespacesSelector(all bool, names, excluded []string) func(map[string]string) bool {
	matches := func(list []string, ns string) bool {
		return slices.ContainsFunc(list, func(pattern string) bool {
			prefix, wildcard := strings.CutSuffix(pattern, "*")
			return pattern == ns || (wildcard && strings.HasPrefix(ns, prefix))
		})
	}
	return func(labels map[string]string) bool {
		ns := labels["kubernetes.io/metadata.name"]
		return (all || matches(names, ns)) && !matches(excluded, ns)
	}
}
