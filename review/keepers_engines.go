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
	Status struct {
		// Only type and status are read: the rest of a condition, however
		// Kyverno writes it, must not make the policy unreadable.
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
	} `json:"status"`
}

// notReady reports whether Kyverno says, in a policy read from a cluster,
// that it could not make the policy ready: such a policy checks nothing.
// A manifest has no status, and is taken as written.
func (p *kyvernoPolicy) notReady() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" && c.Status != "True" {
			return true
		}
	}
	return false
}

// keptByKyvernoPolicies reads Kyverno policies: a validate.cel expression
// keeps a PSP field when its message says so, as the policies plan
// --write-dir --gap-policies kyverno writes do, in the namespaces its
// rule matches (a namespaced Policy: its own namespace), unless Kyverno
// says the policy is not ready.
func keptByKyvernoPolicies(docs []manifest.Document) []Kept {
	var out []Kept
	for i := range docs {
		d := &docs[i]
		if apiGroup(d.APIVersion) != "kyverno.io" || (d.Kind != "ClusterPolicy" && d.Kind != "Policy") {
			continue
		}
		var p kyvernoPolicy
		if json.Unmarshal(d.Raw, &p) != nil || p.notReady() {
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
	Status struct {
		ByPod []struct {
			Enforced bool `json:"enforced"`
		} `json:"byPod"`
	} `json:"status"`
}

// unenforced reports whether Gatekeeper's pods say, in a Constraint read
// from a cluster, that none of them enforces it (its template failed, say).
// A manifest has no status, and is taken as written.
func (c *gatekeeperConstraint) unenforced() bool {
	for _, p := range c.Status.ByPod {
		if p.Enforced {
			return false
		}
	}
	return len(c.Status.ByPod) > 0
}

// keptByGatekeeperConstraints reads Constraints of the gatekeeper-library
// pod-security-policy templates: each keeps its template's PSP fields for
// every pod in the namespaces it matches, unless it only records
// (enforcementAction dryrun) or no Gatekeeper pod enforces it.
func keptByGatekeeperConstraints(docs []manifest.Document) []Kept {
	var out []Kept
	for i := range docs {
		d := &docs[i]
		fields := gatekeeper.FieldsOf(d.Kind)
		if apiGroup(d.APIVersion) != "constraints.gatekeeper.sh" || fields == nil {
			continue
		}
		var c gatekeeperConstraint
		if json.Unmarshal(d.Raw, &c) != nil || strings.EqualFold(c.Spec.EnforcementAction, "dryrun") || c.unenforced() {
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
