package relabel

import (
	"fmt"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GuardName names the ValidatingAdmissionPolicy and binding that keep
// Pod Security labels to named groups.
const GuardName = "psp2psa-pod-security-labels"

// guardedPrefix is the label prefix the guard keeps.
const guardedPrefix = "pod-security.kubernetes.io/"

// Guard returns a ValidatingAdmissionPolicy (Kubernetes 1.30+) that lets
// only members of the groups (and system:masters) set, change or remove a
// pod-security.kubernetes.io label on a namespace, when it is created or
// updated, through the namespace or its status and finalize subresources;
// every other change of a namespace is left alone. With actions
// Warn/Audit a change by anyone else is reported; with Deny it is
// refused.
func Guard(groups []string, actions []admissionregistrationv1.ValidationAction) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	allowed := allowedGroups(groups)
	quoted := make([]string, len(allowed))
	for i, g := range allowed {
		quoted[i] = "'" + strings.ReplaceAll(g, "'", `\'`) + "'"
	}
	fail := admissionregistrationv1.Fail
	forbidden := metav1.StatusReasonForbidden
	meta := metav1.ObjectMeta{Name: GuardName, Labels: map[string]string{"app.kubernetes.io/managed-by": "psp2psa"}}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: meta,
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
						Rule: admissionregistrationv1.Rule{
							APIGroups: []string{""}, APIVersions: []string{"v1"},
							Resources: slices.Clone(labelResources),
						},
					},
				}},
			},
			MatchConditions: []admissionregistrationv1.MatchCondition{{
				Name:       "not-a-label-admin",
				Expression: "!request.userInfo.groups.exists(g, g in [" + strings.Join(quoted, ", ") + "])",
			}},
			Variables: []admissionregistrationv1.Variable{
				{Name: "newLabels", Expression: "has(object.metadata.labels) ? object.metadata.labels : {}"},
				{Name: "oldLabels", Expression: "oldObject != null && has(oldObject.metadata.labels) ? oldObject.metadata.labels : {}"},
			},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "variables.newLabels.all(k, !k.startsWith('" + guardedPrefix + "') || " +
					"(k in variables.oldLabels && variables.oldLabels[k] == variables.newLabels[k])) &&\n" +
					"variables.oldLabels.all(k, !k.startsWith('" + guardedPrefix + "') || k in variables.newLabels)",
				Message: fmt.Sprintf("only members of %s may change %s* labels: they choose the namespace's Pod Security level",
					strings.Join(allowed, ", "), guardedPrefix),
				Reason: &forbidden,
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: meta,
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        GuardName,
			ValidationActions: slices.Clone(actions),
		},
	}
	return policy, binding
}

// allowedGroups are system:masters and the groups named, sorted, once
// each.
func allowedGroups(groups []string) []string {
	out := append([]string{Superuser}, groups...)
	slices.Sort(out)
	return slices.Compact(out)
}
