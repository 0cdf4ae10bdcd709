package vap

import (
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// namePrefix starts the name of every policy and binding made here.
const namePrefix = "psp2psa-"

// ManagedByLabel marks the objects psp2psa made, so that they can be
// listed and removed together.
const ManagedByLabel = "app.kubernetes.io/managed-by"

// PolicyName is the name of the policy and of the binding that keep a
// PSP's restrictions.
func PolicyName(pspName string) string { return namePrefix + pspName }

// changedPodsOnly skips pod updates that leave the spec alone, such as
// relabelling or the garbage collector editing owner references: pods
// created before the policy existed must still be updatable. 1.24 PSP
// skipped only updates of owner references and finalizers, but then every
// running pod had passed a PSP; PSA skips the same updates as this.
var changedPodsOnly = admissionregistrationv1.MatchCondition{
	Name:       "create-or-spec-change",
	Expression: "request.operation == 'CREATE' || object.spec != oldObject.spec",
}

// Policy returns the ValidatingAdmissionPolicy that applies the rules to
// pods on create and update, as PSP did (not to subresources such as
// pods/ephemeralcontainers, which PSP never saw). A rule that cannot be
// evaluated rejects the pod (failurePolicy Fail).
func Policy(pspName string, rules []Rule) *admissionregistrationv1.ValidatingAdmissionPolicy {
	fail := admissionregistrationv1.Fail
	validations := make([]admissionregistrationv1.Validation, len(rules))
	for i, r := range rules {
		validations[i] = r.Validation()
	}
	return &admissionregistrationv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: objectMeta(pspName),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy:    &fail,
			MatchConstraints: PodsMatch(admissionregistrationv1.Create, admissionregistrationv1.Update),
			MatchConditions:  []admissionregistrationv1.MatchCondition{changedPodsOnly},
			Validations:      validations,
		},
	}
}

// Observe are the validation actions that report without rejecting: a
// warning to the client and an audit annotation, like PSA's warn and audit
// modes. Enforce rejects.
var (
	Observe = []admissionregistrationv1.ValidationAction{admissionregistrationv1.Warn, admissionregistrationv1.Audit}
	Enforce = []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}
)

// Binding returns the binding that applies a PSP's policy to pods in the
// named namespaces, with the given validation actions (Observe or
// Enforce). The namespaces are selected by the kubernetes.io/metadata.name
// label the apiserver sets on every namespace, so no labelling is needed.
func Binding(pspName string, namespaces []string, actions []admissionregistrationv1.ValidationAction) *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
	return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: objectMeta(pspName),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        PolicyName(pspName),
			ValidationActions: slices.Clone(actions),
			MatchResources:    NamespacesMatch(namespaces),
		},
	}
}

func objectMeta(pspName string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: PolicyName(pspName), Labels: ManagedLabels()}
}

// ManagedLabels are the labels of every object psp2psa writes.
func ManagedLabels() map[string]string {
	return map[string]string{ManagedByLabel: "psp2psa"}
}

// PodsMatch matches pods (core v1) on the operations: not their
// subresources, which PSP never saw.
func PodsMatch(ops ...admissionregistrationv1.OperationType) *admissionregistrationv1.MatchResources {
	return &admissionregistrationv1.MatchResources{
		ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
			RuleWithOperations: admissionregistrationv1.RuleWithOperations{
				Operations: ops,
				Rule: admissionregistrationv1.Rule{
					APIGroups:   []string{""},
					APIVersions: []string{"v1"},
					Resources:   []string{"pods"},
				},
			},
		}},
	}
}

// NamespacesMatch selects the named namespaces by the
// kubernetes.io/metadata.name label the apiserver sets on every namespace,
// so no labelling is needed.
func NamespacesMatch(namespaces []string) *admissionregistrationv1.MatchResources {
	return &admissionregistrationv1.MatchResources{
		NamespaceSelector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key:      corev1.LabelMetadataName,
				Operator: metav1.LabelSelectorOpIn,
				Values:   slices.Sorted(slices.Values(namespaces)),
			}},
		},
	}
}
