package relabel

import (
	"fmt"
	"testing"

	"github.com/psp2psa/psp2psa/inventory"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkAnalyzeTenants analyzes 2,000 namespaces, each with a team
// bound to an edit-like role (which may impersonate the namespace's
// service accounts) and a service account that may patch its namespace:
// every namespace relabels through impersonation, and the cost must grow
// with the namespaces, not with their square.
func BenchmarkAnalyzeTenants(b *testing.B) {
	inv := &inventory.Inventory{ClusterRoles: []rbacv1.ClusterRole{
		{ObjectMeta: metav1.ObjectMeta{Name: "edit"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"impersonate"}},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"*"}},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "labeller"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"patch"}},
		}},
	}}
	var namespaces []string
	for i := range 2000 {
		ns := fmt.Sprintf("team-%04d", i)
		namespaces = append(namespaces, ns)
		bind := func(name, role string, s rbacv1.Subject) rbacv1.RoleBinding {
			return rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: []rbacv1.Subject{s}}
		}
		inv.RoleBindings = append(inv.RoleBindings,
			bind("team", "edit", rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: ns}),
			bind("labeller", "labeller", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "labeller"}))
	}
	for b.Loop() {
		res := Analyze(inv, nil, namespaces)
		if len(res.Namespaces) != 2000 || len(res.Namespaces[0].Relabel) != 2 {
			b.Fatalf("%d namespaces, %+v", len(res.Namespaces), res.Namespaces[0].Relabel)
		}
	}
}
