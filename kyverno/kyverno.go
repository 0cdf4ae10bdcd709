// Package kyverno keeps, as Kyverno ClusterPolicies, the PodSecurityPolicy
// restrictions no Pod Security Standards level expresses, for clusters
// older than 1.30 where ValidatingAdmissionPolicy is not GA.
//
// The policies use kyverno.io/v1, which the Kyverno releases for
// Kubernetes 1.25 to 1.29 (1.11 and 1.12) serve, and validate.cel rules
// (Kyverno 1.11 or later), whose expressions are the CEL that vap writes
// for the same restrictions: Kyverno evaluates them with the apiserver's
// own admission CEL library, so one expression means the same on both.
package kyverno

import (
	"slices"

	"github.com/psp2psa/psp2psa/vap"
)

// APIVersion and Kind of the policies made here.
const (
	APIVersion = "kyverno.io/v1"
	Kind       = "ClusterPolicy"
)

// Validation failure actions: Audit records a violation in a policy report
// and admits the pod; Enforce rejects it.
const (
	Audit   = "Audit"
	Enforce = "Enforce"
)

// AutogenAnnotation turns off Kyverno's rules generated for pod
// controllers: PSP judged pods, not the templates of Deployments, and the
// plan's workload patches fix the templates.
const AutogenAnnotation = "pod-policies.kyverno.io/autogen-controllers"

// ClusterPolicy is the part of a kyverno.io/v1 ClusterPolicy written here.
type ClusterPolicy struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata names the policy and marks it as psp2psa's.
type Metadata struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Spec is a policy's spec.
type Spec struct {
	ValidationFailureAction string `json:"validationFailureAction"`
	// Background also reports the pods that already run.
	Background bool   `json:"background"`
	Rules      []Rule `json:"rules"`
}

// Rule keeps one PSP field.
type Rule struct {
	Name             string         `json:"name"`
	Match            Match          `json:"match"`
	CELPreconditions []CELCondition `json:"celPreconditions,omitempty"`
	Validate         Validate       `json:"validate"`
}

// Match selects the resources a rule applies to.
type Match struct {
	Any []ResourceFilter `json:"any"`
}

// ResourceFilter is one alternative of a match.
type ResourceFilter struct {
	Resources Resources `json:"resources"`
}

// Resources are kinds, namespaces and admission operations.
type Resources struct {
	Kinds      []string `json:"kinds"`
	Namespaces []string `json:"namespaces,omitempty"`
	Operations []string `json:"operations,omitempty"`
}

// CELCondition is a named CEL condition that must hold for a rule to run.
type CELCondition struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

// Validate holds a rule's CEL validation.
type Validate struct {
	CEL CEL `json:"cel"`
}

// CEL lists expressions that must all be true.
type CEL struct {
	Expressions []Expression `json:"expressions"`
}

// Expression is one CEL check with the message of a violation.
type Expression struct {
	Expression string `json:"expression"`
	Message    string `json:"message"`
}

// changedPodsOnly skips pod updates that leave the spec alone (labels,
// owner references), as the ValidatingAdmissionPolicy's match condition
// does. A background scan has no UPDATE request and checks every pod.
var changedPodsOnly = CELCondition{
	Name:       "create-or-spec-change",
	Expression: "request.operation != 'UPDATE' || object.spec != oldObject.spec",
}

// Policy returns the ClusterPolicy that applies a PSP's rules to pods
// created or changed in the namespaces, one Kyverno rule per PSP field
// with an expression per vap rule of that field. With enforce false
// violations are audited (policy reports), else rejected.
func Policy(pspName string, rules []vap.Rule, namespaces []string, enforce bool) *ClusterPolicy {
	action := Audit
	if enforce {
		action = Enforce
	}
	match := Match{Any: []ResourceFilter{{Resources: Resources{
		Kinds:      []string{"Pod"},
		Namespaces: slices.Sorted(slices.Values(namespaces)),
		Operations: []string{"CREATE", "UPDATE"},
	}}}}
	var out []Rule
	for _, r := range rules {
		i := slices.IndexFunc(out, func(k Rule) bool { return k.Name == r.Field })
		if i < 0 {
			out = append(out, Rule{
				Name:             r.Field,
				Match:            match,
				CELPreconditions: []CELCondition{changedPodsOnly},
			})
			i = len(out) - 1
		}
		out[i].Validate.CEL.Expressions = append(out[i].Validate.CEL.Expressions,
			Expression{Expression: r.Expression, Message: r.Message})
	}
	return &ClusterPolicy{
		APIVersion: APIVersion,
		Kind:       Kind,
		Metadata: Metadata{
			Name:        vap.PolicyName(pspName),
			Labels:      vap.ManagedLabels(),
			Annotations: map[string]string{AutogenAnnotation: "none"},
		},
		Spec: Spec{ValidationFailureAction: action, Background: true, Rules: out},
	}
}
