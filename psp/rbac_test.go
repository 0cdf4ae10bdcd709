package psp

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rbacFixture is the RBAC of one case.
type rbacFixture struct {
	roles        []rbacv1.Role
	clusterRoles []rbacv1.ClusterRole
	rbs          []rbacv1.RoleBinding
	crbs         []rbacv1.ClusterRoleBinding
}

func (f rbacFixture) authorizer() *Authorizer {
	return NewAuthorizer(f.roles, f.clusterRoles, f.rbs, f.crbs)
}

func useRule(groups []string, names ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: groups, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: names}
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func namespacedRole(namespace, name string, rules ...rbacv1.PolicyRule) rbacv1.Role {
	return rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Rules: rules}
}

func roleBinding(namespace, name string, ref rbacv1.RoleRef, subjects ...rbacv1.Subject) rbacv1.RoleBinding {
	return rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, RoleRef: ref, Subjects: subjects}
}

func clusterRoleBinding(name string, ref rbacv1.RoleRef, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: ref, Subjects: subjects}
}

func toClusterRole(name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
}

func toRole(name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}
}

func userSubject(name string) rbacv1.Subject  { return rbacv1.Subject{Kind: "User", Name: name} }
func groupSubject(name string) rbacv1.Subject { return rbacv1.Subject{Kind: "Group", Name: name} }
func saSubject(namespace, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: "ServiceAccount", Namespace: namespace, Name: name}
}

var (
	policyGroup     = []string{"policy"}
	extensionsGroup = []string{"extensions"}
	alice           = UserInfo{Name: "alice", Groups: []string{"dev", AuthenticatedGroup}}
	appSA           = ServiceAccountUser("app", "web")
)

func TestServiceAccountUser(t *testing.T) {
	got := ServiceAccountUser("kube-system", "flannel")
	want := UserInfo{Name: "system:serviceaccount:kube-system:flannel", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ServiceAccountUser = %+v, want %+v", got, want)
	}
}

func TestCanUse(t *testing.T) {
	tests := []struct {
		name      string
		rbac      rbacFixture
		user      UserInfo
		namespace string
		psp       string
		want      bool
	}{
		{
			name: "ClusterRoleBinding to a group grants use in every namespace",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "restricted"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("all-sa", toClusterRole("psp"), groupSubject("system:serviceaccounts"))},
			},
			user: appSA, namespace: "app", psp: "restricted", want: true,
		},
		{
			name: "resourceNames limit use to the named PSPs",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "restricted"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("all-sa", toClusterRole("psp"), groupSubject("system:serviceaccounts"))},
			},
			user: appSA, namespace: "app", psp: "privileged", want: false,
		},
		{
			name: "no resourceNames grants every PSP",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice", toClusterRole("psp"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "anything", want: true,
		},
		{
			name: "resourceNames star is a name, not a wildcard",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "*"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice", toClusterRole("psp"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "restricted", want: false,
		},
		{
			name: "rule in API group extensions grants use",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(extensionsGroup, "restricted"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice", toClusterRole("psp"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "restricted", want: true,
		},
		{
			name: "rule in another API group does not grant use",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule([]string{"apps", ""}, "restricted"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice", toClusterRole("psp"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "restricted", want: false,
		},
		{
			name: "wildcard verb, group and resource grant use",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("all", rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}})},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice", toClusterRole("all"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "privileged", want: true,
		},
		{
			name: "verb get does not grant use",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("read", rbacv1.PolicyRule{APIGroups: policyGroup, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"get", "list"}})},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice", toClusterRole("read"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "restricted", want: false,
		},
		{
			name: "a subresource rule does not grant use on the resource",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("sub", rbacv1.PolicyRule{APIGroups: policyGroup, Resources: []string{"*/status", "podsecuritypolicies/status"}, Verbs: []string{"use"}})},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("alice", toClusterRole("sub"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "restricted", want: false,
		},
		{
			name: "RoleBinding to a ClusterRole grants use in its namespace",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "baseline"))},
				rbs:          []rbacv1.RoleBinding{roleBinding("app", "psp", toClusterRole("psp"), groupSubject("system:serviceaccounts:app"))},
			},
			user: appSA, namespace: "app", psp: "baseline", want: true,
		},
		{
			name: "RoleBinding grants nothing in another namespace",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "baseline"))},
				rbs:          []rbacv1.RoleBinding{roleBinding("other", "psp", toClusterRole("psp"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "baseline", want: false,
		},
		{
			name: "RoleBinding to a Role in its namespace grants use",
			rbac: rbacFixture{
				roles: []rbacv1.Role{namespacedRole("app", "psp", useRule(policyGroup, "baseline"))},
				rbs:   []rbacv1.RoleBinding{roleBinding("app", "psp", toRole("psp"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "baseline", want: true,
		},
		{
			name: "RoleBinding to a Role of the same name in another namespace grants nothing",
			rbac: rbacFixture{
				roles: []rbacv1.Role{namespacedRole("other", "psp", useRule(policyGroup, "baseline"))},
				rbs:   []rbacv1.RoleBinding{roleBinding("app", "psp", toRole("psp"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "baseline", want: false,
		},
		{
			name: "ClusterRoleBinding to a Role grants nothing",
			rbac: rbacFixture{
				roles: []rbacv1.Role{namespacedRole("app", "psp", useRule(policyGroup, "baseline"))},
				crbs:  []rbacv1.ClusterRoleBinding{clusterRoleBinding("psp", toRole("psp"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "baseline", want: false,
		},
		{
			name: "binding to a missing ClusterRole grants nothing",
			rbac: rbacFixture{
				crbs: []rbacv1.ClusterRoleBinding{clusterRoleBinding("psp", toClusterRole("not-there"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "baseline", want: false,
		},
		{
			name: "binding to cluster-admin grants every PSP though the input lacks the role",
			rbac: rbacFixture{
				crbs: []rbacv1.ClusterRoleBinding{clusterRoleBinding("tiller", toClusterRole("cluster-admin"), saSubject("kube-system", "tiller"))},
			},
			user: ServiceAccountUser("kube-system", "tiller"), namespace: "app", psp: "privileged", want: true,
		},
		{
			name: "a cluster-admin in the input replaces the bootstrap one",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("cluster-admin", useRule(policyGroup, "restricted"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("tiller", toClusterRole("cluster-admin"), userSubject("alice"))},
			},
			user: alice, namespace: "app", psp: "privileged", want: false,
		},
		{
			name: "ServiceAccount subject without namespace in a RoleBinding is in the binding's namespace",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "baseline"))},
				rbs:          []rbacv1.RoleBinding{roleBinding("app", "psp", toClusterRole("psp"), saSubject("", "web"))},
			},
			user: appSA, namespace: "app", psp: "baseline", want: true,
		},
		{
			name: "ServiceAccount subject without namespace in a ClusterRoleBinding matches nobody",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "baseline"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("psp", toClusterRole("psp"), saSubject("", "web"))},
			},
			user: appSA, namespace: "app", psp: "baseline", want: false,
		},
		{
			name: "RoleBinding to a service account of another namespace grants in the binding's namespace",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "baseline"))},
				rbs:          []rbacv1.RoleBinding{roleBinding("tools", "psp", toClusterRole("psp"), saSubject("app", "web"))},
			},
			user: appSA, namespace: "tools", psp: "baseline", want: true,
		},
		{
			name: "RoleBinding to a service account of another namespace grants nothing in the account's own",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "baseline"))},
				rbs:          []rbacv1.RoleBinding{roleBinding("tools", "psp", toClusterRole("psp"), saSubject("app", "web"))},
			},
			user: appSA, namespace: "app", psp: "baseline", want: false,
		},
		{
			name: "a pod's service account identity is not in system:authenticated",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "restricted"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("everyone", toClusterRole("psp"), groupSubject(AuthenticatedGroup))},
			},
			user: appSA, namespace: "app", psp: "restricted", want: false,
		},
		{
			name: "an authenticated user is in system:authenticated",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "restricted"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("everyone", toClusterRole("psp"), groupSubject(AuthenticatedGroup))},
			},
			user: alice, namespace: "app", psp: "restricted", want: true,
		},
		{
			name: "a User subject spelled as a service account username matches the service account",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "restricted"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("sa-as-user", toClusterRole("psp"), userSubject("system:serviceaccount:app:web"))},
			},
			user: appSA, namespace: "app", psp: "restricted", want: true,
		},
		{
			name: "an unknown subject kind matches nobody",
			rbac: rbacFixture{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp", useRule(policyGroup, "restricted"))},
				crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding("odd", toClusterRole("psp"), rbacv1.Subject{Kind: "Robot", Name: "alice"})},
			},
			user: alice, namespace: "app", psp: "restricted", want: false,
		},
		{
			name: "system:masters may use every PSP without a binding",
			user: UserInfo{Name: "admin", Groups: []string{SuperuserGroup}}, namespace: "app", psp: "privileged", want: true,
		},
		{
			name: "no binding, no use",
			user: alice, namespace: "app", psp: "restricted", want: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.rbac.authorizer()
			if got := a.CanUse(tt.user, tt.namespace, tt.psp); got != tt.want {
				t.Errorf("CanUse(%s, %s, %s) = %v, want %v", tt.user.Name, tt.namespace, tt.psp, got, tt.want)
			}
			if got := referenceCanUse(tt.rbac, tt.user, tt.namespace, tt.psp); got != tt.want {
				t.Errorf("the reference RBAC port disagrees with the case: %v", got)
			}
			if got := len(a.Grants(tt.user, tt.namespace, tt.psp)) > 0; got != tt.want {
				t.Errorf("Grants found a grant: %v, want %v", got, tt.want)
			}
			if got := a.Usable(tt.user, tt.namespace).Allows(tt.psp); got != tt.want {
				t.Errorf("Usable(%s, %s).Allows(%s) = %v, want %v", tt.user.Name, tt.namespace, tt.psp, got, tt.want)
			}
		})
	}
}

func TestUsablePolicies(t *testing.T) {
	rbac := rbacFixture{
		clusterRoles: []rbacv1.ClusterRole{
			clusterRole("restricted", useRule(policyGroup, "restricted")),
			clusterRole("baseline", useRule(extensionsGroup, "baseline", "restricted")),
		},
		crbs: []rbacv1.ClusterRoleBinding{clusterRoleBinding("all-sa", toClusterRole("restricted"), groupSubject("system:serviceaccounts"))},
		rbs:  []rbacv1.RoleBinding{roleBinding("app", "baseline", toClusterRole("baseline"), saSubject("", "web"))},
	}
	a := rbac.authorizer()
	all := []string{"restricted", "privileged", "baseline", "restricted"}
	tests := []struct {
		name      string
		user      UserInfo
		namespace string
		want      []string
	}{
		{"cluster-wide and namespace grants add up, sorted", appSA, "app", []string{"baseline", "restricted"}},
		{"only the cluster-wide grant outside the binding's namespace", ServiceAccountUser("other", "web"), "other", []string{"restricted"}},
		{"superuser may use all, once each", UserInfo{Name: "root", Groups: []string{SuperuserGroup}}, "app", []string{"baseline", "privileged", "restricted"}},
		{"no grant", alice, "app", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.UsablePolicies(tt.user, tt.namespace, all); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("UsablePolicies = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGrantsExplainWhichBindingAllows(t *testing.T) {
	rbac := rbacFixture{
		roles:        []rbacv1.Role{namespacedRole("app", "local", useRule(policyGroup, "restricted"))},
		clusterRoles: []rbacv1.ClusterRole{clusterRole("psp:restricted", useRule(policyGroup, "restricted"))},
		rbs: []rbacv1.RoleBinding{
			roleBinding("app", "local", toRole("local"), userSubject("nobody"), saSubject("", "web"), groupSubject("system:serviceaccounts")),
		},
		crbs: []rbacv1.ClusterRoleBinding{
			clusterRoleBinding("all-sa", toClusterRole("psp:restricted"), groupSubject("system:serviceaccounts:app"), groupSubject("system:serviceaccounts")),
		},
	}
	got := rbac.authorizer().Grants(appSA, "app", "restricted")
	want := []Grant{
		{Binding: "ClusterRoleBinding all-sa", Role: "ClusterRole psp:restricted", Subject: "Group system:serviceaccounts:app"},
		{Binding: "RoleBinding app/local", Role: "Role app/local", Subject: "ServiceAccount app/web"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Grants =\n %+v\nwant\n %+v", got, want)
	}
	superuser := rbac.authorizer().Grants(UserInfo{Name: "root", Groups: []string{SuperuserGroup}}, "app", "x")
	if len(superuser) != 1 || !superuser[0].Superuser || superuser[0].String() != "Group system:masters (superuser)" {
		t.Errorf("superuser grants = %+v", superuser)
	}
}

func TestForPodChecksServiceAccountThenRequester(t *testing.T) {
	rbac := rbacFixture{
		clusterRoles: []rbacv1.ClusterRole{
			clusterRole("restricted", useRule(policyGroup, "restricted")),
			clusterRole("privileged", useRule(policyGroup, "privileged")),
		},
		rbs: []rbacv1.RoleBinding{roleBinding("app", "sa", toClusterRole("restricted"), saSubject("", "web"))},
		crbs: []rbacv1.ClusterRoleBinding{
			clusterRoleBinding("rs-controller", toClusterRole("privileged"), saSubject("kube-system", "replicaset-controller")),
		},
	}
	a := rbac.authorizer()
	controller := ServiceAccountUser("kube-system", "replicaset-controller")
	tests := []struct {
		name           string
		serviceAccount string
		requester      UserInfo
		psp            string
		want           bool
	}{
		{"service account may use", "web", UserInfo{}, "restricted", true},
		{"requester may use", "web", controller, "privileged", true},
		{"neither may use", "web", alice, "privileged", false},
		{"another service account may not", "db", UserInfo{}, "restricted", false},
		{"no service account asks the requester only", "", controller, "restricted", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.ForPod("app", tt.serviceAccount, tt.requester)(tt.psp); got != tt.want {
				t.Errorf("ForPod(app, %q, %s)(%s) = %v, want %v", tt.serviceAccount, tt.requester.Name, tt.psp, got, tt.want)
			}
		})
	}
}

// referenceCanUse is the 1.24 RBAC authorizer ported line by line
// (DefaultRuleResolver.VisitRulesFor, appliesToUser, GetRoleReferenceRules,
// RuleAllows) and asked as isAuthorizedForPolicy asks it, one API group at
// a time, with the superuser group in front. It scans everything; the
// index must agree with it.
func referenceCanUse(f rbacFixture, user UserInfo, namespace, pspName string) bool {
	if user.inGroup(SuperuserGroup) {
		return true
	}
	for _, group := range []string{"policy", "extensions"} {
		if referenceAuthorize(f, user, namespace, pspName, group) {
			return true
		}
	}
	return false
}

func referenceAuthorize(f rbacFixture, user UserInfo, namespace, name, apiGroup string) bool {
	allows := func(rules []rbacv1.PolicyRule) bool {
		for i := range rules {
			r := &rules[i]
			if verbMatches(r, "use") && apiGroupMatches(r, apiGroup) && resourceMatches(r, "podsecuritypolicies", "") && referenceResourceNameMatches(r, name) {
				return true
			}
		}
		return false
	}
	for _, crb := range f.crbs {
		if referenceAppliesTo(user, crb.Subjects, "") {
			if rules, ok := referenceRoleRules(f, crb.RoleRef, ""); ok && allows(rules) {
				return true
			}
		}
	}
	if namespace == "" {
		return false
	}
	for _, rb := range f.rbs {
		if rb.Namespace != namespace || !referenceAppliesTo(user, rb.Subjects, namespace) {
			continue
		}
		if rules, ok := referenceRoleRules(f, rb.RoleRef, namespace); ok && allows(rules) {
			return true
		}
	}
	return false
}

func referenceResourceNameMatches(rule *rbacv1.PolicyRule, requestedName string) bool {
	if len(rule.ResourceNames) == 0 {
		return true
	}
	for _, ruleName := range rule.ResourceNames {
		if ruleName == requestedName {
			return true
		}
	}
	return false
}

func referenceRoleRules(f rbacFixture, ref rbacv1.RoleRef, bindingNamespace string) ([]rbacv1.PolicyRule, bool) {
	switch ref.Kind {
	case "Role":
		if bindingNamespace == "" {
			return nil, false
		}
		for _, r := range f.roles {
			if r.Namespace == bindingNamespace && r.Name == ref.Name {
				return r.Rules, true
			}
		}
	case "ClusterRole":
		for _, r := range f.clusterRoles {
			if r.Name == ref.Name {
				return r.Rules, true
			}
		}
		if ref.Name == "cluster-admin" {
			return clusterAdminRules, true
		}
	}
	return nil, false
}

func referenceAppliesTo(user UserInfo, subjects []rbacv1.Subject, namespace string) bool {
	for _, s := range subjects {
		switch s.Kind {
		case "User":
			if user.Name == s.Name {
				return true
			}
		case "Group":
			if user.inGroup(s.Name) {
				return true
			}
		case "ServiceAccount":
			saNamespace := namespace
			if s.Namespace != "" {
				saNamespace = s.Namespace
			}
			if saNamespace != "" && user.Name == "system:serviceaccount:"+saNamespace+":"+s.Name {
				return true
			}
		}
	}
	return false
}

// TestAuthorizerAgreesWithReferenceOnRandomRBAC compares the index with the
// line-by-line port on random RBAC over a small vocabulary, so that names,
// namespaces and wildcards collide often.
func TestAuthorizerAgreesWithReferenceOnRandomRBAC(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	namespaces := []string{"a", "b", ""}
	pick := func(list []string) string { return list[rng.Intn(len(list))] }
	some := func(list []string) []string {
		var out []string
		for _, s := range list {
			if rng.Intn(3) == 0 {
				out = append(out, s)
			}
		}
		return out
	}
	rule := func() rbacv1.PolicyRule {
		return rbacv1.PolicyRule{
			APIGroups:     some([]string{"policy", "extensions", "*", "apps", ""}),
			Resources:     some([]string{"podsecuritypolicies", "*", "pods", "podsecuritypolicies/status"}),
			Verbs:         some([]string{"use", "*", "get"}),
			ResourceNames: some([]string{"p1", "p2", "*"}),
		}
	}
	subject := func() rbacv1.Subject {
		switch rng.Intn(4) {
		case 0:
			return userSubject(pick([]string{"alice", "bob", "system:serviceaccount:a:sa1"}))
		case 1:
			return groupSubject(pick([]string{"dev", "system:serviceaccounts", "system:serviceaccounts:a", "system:authenticated"}))
		case 2:
			return saSubject(pick(namespaces), pick([]string{"sa1", "sa2"}))
		default:
			return rbacv1.Subject{Kind: "Other", Name: "alice"}
		}
	}
	roleNames := []string{"r1", "r2", "cluster-admin"}
	users := []UserInfo{
		{Name: "alice", Groups: []string{"dev", AuthenticatedGroup}},
		{Name: "bob"},
		ServiceAccountUser("a", "sa1"),
		ServiceAccountUser("b", "sa2"),
		{Name: "system:serviceaccount:a:sa1", Groups: []string{AuthenticatedGroup}},
	}
	checks := 0
	for round := 0; round < 300; round++ {
		var f rbacFixture
		for i := 0; i < 1+rng.Intn(4); i++ {
			f.roles = append(f.roles, namespacedRole(pick([]string{"a", "b"}), pick(roleNames), rule(), rule()))
			f.clusterRoles = append(f.clusterRoles, clusterRole(pick(roleNames), rule()))
		}
		for i := 0; i < 1+rng.Intn(5); i++ {
			ref := rbacv1.RoleRef{Kind: pick([]string{"Role", "ClusterRole", "Other"}), Name: pick(roleNames)}
			f.rbs = append(f.rbs, roleBinding(pick([]string{"a", "b"}), fmt.Sprint("rb", i), ref, subject(), subject()))
			f.crbs = append(f.crbs, clusterRoleBinding(fmt.Sprint("crb", i), ref, subject()))
		}
		// Duplicate names are kept out: with them the apiserver's lookup
		// would depend on storage order.
		f.roles, f.clusterRoles = uniqueRoles(f.roles), uniqueClusterRoles(f.clusterRoles)
		a := f.authorizer()
		for _, u := range users {
			for _, ns := range []string{"a", "b"} {
				for _, p := range []string{"p1", "p2", "*"} {
					want := referenceCanUse(f, u, ns, p)
					if got := a.CanUse(u, ns, p); got != want {
						t.Fatalf("round %d: CanUse(%s, %s, %s) = %v, reference %v\nRBAC: %+v", round, u.Name, ns, p, got, want, f)
					}
					if got := len(a.Grants(u, ns, p)) > 0; got != want {
						t.Fatalf("round %d: Grants(%s, %s, %s) found %v, reference %v", round, u.Name, ns, p, got, want)
					}
					checks++
				}
			}
		}
	}
	t.Logf("%d questions agreed", checks)
}

func uniqueRoles(in []rbacv1.Role) []rbacv1.Role {
	seen := map[string]bool{}
	var out []rbacv1.Role
	for _, r := range in {
		if key := r.Namespace + "/" + r.Name; !seen[key] {
			seen[key] = true
			out = append(out, r)
		}
	}
	return out
}

func uniqueClusterRoles(in []rbacv1.ClusterRole) []rbacv1.ClusterRole {
	seen := map[string]bool{}
	var out []rbacv1.ClusterRole
	for _, r := range in {
		if !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r)
		}
	}
	return out
}

// rbacCorpusDir locates the shared corpus of real PSP manifests beside the
// repository.
func rbacCorpusDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus", "psp")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus not found at %s: %v", dir, err)
		}
		t.Skipf("corpus not found at %s; it lives beside the repository", dir)
	}
	return dir
}

// loadRBAC loads the RBAC of manifest files through the inventory.
func loadRBAC(t *testing.T, paths ...string) rbacFixture {
	t.Helper()
	docs, errs := manifest.Read(paths, nil)
	for _, err := range errs {
		t.Fatalf("reading the corpus: %v", err)
	}
	return fixtureOf(t, docs)
}

// fixtureOf is the RBAC of the documents, through the inventory.
func fixtureOf(t *testing.T, docs []manifest.Document) rbacFixture {
	t.Helper()
	inv, errs := inventory.FromDocuments(docs, "")
	for _, err := range errs {
		// The corpus repeats some roles (psp:privileged in aks-engine and
		// the minikube copy); the later one wins, as kubectl apply would.
		if !errors.Is(err, inventory.ErrDuplicate) {
			t.Fatalf("inventory: %v", err)
		}
	}
	return rbacFixture{roles: inv.Roles, clusterRoles: inv.ClusterRoles, rbs: inv.RoleBindings, crbs: inv.ClusterRoleBindings}
}

func TestCanUseOnCorpusRBAC(t *testing.T) {
	dir := rbacCorpusDir(t)
	node := UserInfo{Name: "system:node:ip-10-0-0-1", Groups: []string{"system:nodes", AuthenticatedGroup}}
	tests := []struct {
		name      string
		file      string
		user      UserInfo
		namespace string
		psp       string
		want      []string // the grants, as Grant.String()
	}{
		{
			name: "flannel: a ClusterRole rule in API group extensions lets the flannel service account use its PSP",
			file: "flannel-io__flannel__documentation_kube-flannel-psp.yml",
			user: ServiceAccountUser("kube-system", "flannel"), namespace: "kube-system", psp: "psp.flannel.unprivileged",
			want: []string{"ClusterRoleBinding flannel of ClusterRole flannel to ServiceAccount kube-system/flannel"},
		},
		{
			name: "flannel: the grant names one PSP only",
			file: "flannel-io__flannel__documentation_kube-flannel-psp.yml",
			user: ServiceAccountUser("kube-system", "flannel"), namespace: "kube-system", psp: "privileged",
		},
		{
			name: "kops: system:masters is a superuser before any binding",
			file: "kubernetes__kops__upup_models_cloudup_resources_addons_podsecuritypolicy.addons.k8s.io_k8s-1.12.yaml.template",
			user: UserInfo{Name: "admin", Groups: []string{SuperuserGroup, AuthenticatedGroup}}, namespace: "default", psp: "kube-system",
			want: []string{"Group system:masters (superuser)", "ClusterRoleBinding kops:kube-system:psp of ClusterRole kops:kube-system:psp to Group system:masters"},
		},
		{
			name: "kops: nodes may use the kube-system PSP in every namespace (mirror pods)",
			file: "kubernetes__kops__upup_models_cloudup_resources_addons_podsecuritypolicy.addons.k8s.io_k8s-1.12.yaml.template",
			user: node, namespace: "default", psp: "kube-system",
			want: []string{"ClusterRoleBinding kops:kube-system:psp of ClusterRole kops:kube-system:psp to Group system:nodes"},
		},
		{
			name: "kops: kube-system service accounts may use it in kube-system",
			file: "kubernetes__kops__upup_models_cloudup_resources_addons_podsecuritypolicy.addons.k8s.io_k8s-1.12.yaml.template",
			user: ServiceAccountUser("kube-system", "coredns"), namespace: "kube-system", psp: "kube-system",
			want: []string{"RoleBinding kube-system/kops:kube-system:psp of ClusterRole kops:kube-system:psp to Group system:serviceaccounts:kube-system"},
		},
		{
			name: "kops: other namespaces' service accounts may not",
			file: "kubernetes__kops__upup_models_cloudup_resources_addons_podsecuritypolicy.addons.k8s.io_k8s-1.12.yaml.template",
			user: ServiceAccountUser("default", "app"), namespace: "default", psp: "kube-system",
		},
		{
			name: "ingress-nginx: a ServiceAccount subject without namespace is the RoleBinding's namespace's",
			file: "kubernetes__ingress-nginx__docs_examples_psp_psp.yaml",
			user: ServiceAccountUser("ingress-nginx", "default"), namespace: "ingress-nginx", psp: "ingress-nginx",
			want: []string{"RoleBinding ingress-nginx/ingress-nginx-psp of Role ingress-nginx/ingress-nginx-psp to ServiceAccount ingress-nginx/default"},
		},
		{
			name: "ingress-nginx: the default service account of the default namespace is not that subject",
			file: "kubernetes__ingress-nginx__docs_examples_psp_psp.yaml",
			user: ServiceAccountUser("default", "default"), namespace: "ingress-nginx", psp: "ingress-nginx",
		},
		{
			name: "aks-engine: restricted is bound to system:authenticated, which a pod's service account identity lacks",
			file: "azure__aks-engine__parts_k8s_addons_1.14_kubernetesmasteraddons-pod-security-policy.yaml",
			user: ServiceAccountUser("default", "default"), namespace: "default", psp: "restricted",
		},
		{
			name: "aks-engine: a controller's request carries system:authenticated and may use restricted",
			file: "azure__aks-engine__parts_k8s_addons_1.14_kubernetesmasteraddons-pod-security-policy.yaml",
			user: mustIdentity(t, "Deployment", ModeServiceAccounts).User, namespace: "default", psp: "restricted",
			want: []string{"ClusterRoleBinding default:restricted of ClusterRole psp:restricted to Group system:authenticated"},
		},
		{
			name: "aad-pod-identity: a Role in the default namespace grants only there",
			file: "azure__aad-pod-identity__examples_psp-podidentity.yaml",
			user: node, namespace: "kube-system", psp: "allow-hostnetwork",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadRBAC(t, filepath.Join(dir, tt.file))
			a := f.authorizer()
			var got []string
			for _, g := range a.Grants(tt.user, tt.namespace, tt.psp) {
				got = append(got, g.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Grants =\n %q\nwant\n %q", got, tt.want)
			}
			if can := a.CanUse(tt.user, tt.namespace, tt.psp); can != (len(tt.want) > 0) {
				t.Errorf("CanUse = %v, but the grants are %q", can, tt.want)
			}
			if can := a.Usable(tt.user, tt.namespace).Allows(tt.psp); can != (len(tt.want) > 0) {
				t.Errorf("Usable.Allows = %v, but the grants are %q", can, tt.want)
			}
			if ref := referenceCanUse(f, tt.user, tt.namespace, tt.psp); ref != (len(tt.want) > 0) {
				t.Errorf("the reference RBAC port says %v", ref)
			}
		})
	}
}

func mustIdentity(t *testing.T, kind, mode string) Requester {
	t.Helper()
	r, err := ControllerIdentity(kind, mode)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAuthorizerAgreesWithReferenceOnCorpus loads all the corpus RBAC at
// once and asks every identity its bindings name, in every namespace they
// name, about every PSP name their rules name.
func TestAuthorizerAgreesWithReferenceOnCorpus(t *testing.T) {
	dir := rbacCorpusDir(t)
	f := loadRBAC(t, dir)
	users := []UserInfo{{Name: "someone", Groups: []string{AuthenticatedGroup}}}
	namespaces := map[string]bool{"default": true}
	pspNames := map[string]bool{"not-granted": true}
	addSubjects := func(subjects []rbacv1.Subject, bindingNamespace string) {
		for _, s := range subjects {
			switch s.Kind {
			case "User":
				users = append(users, UserInfo{Name: s.Name, Groups: []string{AuthenticatedGroup}})
			case "Group":
				users = append(users, UserInfo{Name: "member-of-" + s.Name, Groups: []string{s.Name}})
			case "ServiceAccount":
				ns := s.Namespace
				if ns == "" {
					ns = bindingNamespace
				}
				if ns != "" {
					users = append(users, ServiceAccountUser(ns, s.Name))
				}
			}
		}
	}
	for _, rb := range f.rbs {
		namespaces[rb.Namespace] = true
		addSubjects(rb.Subjects, rb.Namespace)
	}
	for _, crb := range f.crbs {
		addSubjects(crb.Subjects, "")
	}
	addRules := func(rules []rbacv1.PolicyRule) {
		for _, r := range rules {
			for _, n := range r.ResourceNames {
				pspNames[n] = true
			}
		}
	}
	for _, r := range f.roles {
		addRules(r.Rules)
	}
	for _, r := range f.clusterRoles {
		addRules(r.Rules)
	}
	a := f.authorizer()
	allowed, checks := 0, 0
	for _, u := range users {
		for ns := range namespaces {
			for p := range pspNames {
				want := referenceCanUse(f, u, ns, p)
				if got := a.CanUse(u, ns, p); got != want {
					t.Errorf("CanUse(%+v, %s, %s) = %v, reference %v", u, ns, p, got, want)
				}
				if want {
					allowed++
				}
				checks++
			}
		}
	}
	if allowed == 0 || allowed == checks {
		t.Errorf("%d of %d questions allowed: the corpus should give both answers", allowed, checks)
	}
	t.Logf("%d questions over %d identities, %d namespaces, %d PSP names; %d allowed", checks, len(users), len(namespaces), len(pspNames), allowed)
}

// TestAggregatedRoleGrantsUse follows testdata/rbac/aggregated-edit.yaml
// through the inventory, which resolves aggregation, into the authorizer;
// and the same without its edit and admin, as a repository that relies on
// the cluster's own holds it: the inventory assumes the bootstrap roles.
func TestAggregatedRoleGrantsUse(t *testing.T) {
	path := filepath.Join("..", "testdata", "rbac", "aggregated-edit.yaml")
	docs, errs := manifest.Read([]string{path}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	withoutBootstrap := slices.DeleteFunc(slices.Clone(docs), func(d manifest.Document) bool {
		return d.Kind == "ClusterRole" && (d.Name == "edit" || d.Name == "admin")
	})
	if len(withoutBootstrap) != len(docs)-2 {
		t.Fatalf("%s: want edit and admin among its documents", path)
	}
	for name, docs := range map[string][]manifest.Document{"as written": docs, "without edit and admin": withoutBootstrap} {
		t.Run(name, func(t *testing.T) { checkAggregatedEdit(t, fixtureOf(t, docs).authorizer()) })
	}
}

func checkAggregatedEdit(t *testing.T, a *Authorizer) {
	teamA := UserInfo{Name: "ann", Groups: []string{"team-a", AuthenticatedGroup}}
	tests := []struct {
		name      string
		user      UserInfo
		namespace string
		psp       string
		want      bool
	}{
		{"edit aggregates the labelled role", teamA, "team-a", "team", true},
		{"the RoleBinding grants only in its namespace", teamA, "team-b", "team", false},
		{"the aggregated rule names one PSP", teamA, "team-a", "privileged", false},
		{"admin aggregates edit, which aggregates the role", ServiceAccountUser("team-b", "deployer"), "team-b", "team", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.CanUse(tt.user, tt.namespace, tt.psp); got != tt.want {
				t.Errorf("CanUse(%s, %s, %s) = %v, want %v", tt.user.Name, tt.namespace, tt.psp, got, tt.want)
			}
		})
	}
}

// BenchmarkCanUse asks about one service account in a cluster of 5,000
// namespaces, each with its own RoleBindings: the cost must not grow with
// the number of bindings elsewhere.
func BenchmarkCanUse(b *testing.B) {
	var f rbacFixture
	f.clusterRoles = []rbacv1.ClusterRole{clusterRole("psp:restricted", useRule(policyGroup, "restricted")), clusterRole("psp:baseline", useRule(policyGroup, "baseline"))}
	f.crbs = []rbacv1.ClusterRoleBinding{clusterRoleBinding("all", toClusterRole("psp:restricted"), groupSubject(AllServiceAccountsGroup))}
	for i := 0; i < 5000; i++ {
		ns := fmt.Sprint("ns-", i)
		f.rbs = append(f.rbs,
			roleBinding(ns, "baseline", toClusterRole("psp:baseline"), groupSubject("system:serviceaccounts:"+ns)),
			roleBinding(ns, "app", toClusterRole("psp:baseline"), saSubject("", "app")))
	}
	a := f.authorizer()
	user := ServiceAccountUser("ns-4999", "web")
	b.ReportAllocs()
	for b.Loop() {
		if !a.CanUse(user, "ns-4999", "baseline") || a.CanUse(user, "ns-4999", "privileged") {
			b.Fatal("wrong answer")
		}
	}
}
