// Package relabel answers who may change a namespace's Pod Security
// labels. Under PodSecurityPolicy a subject got privileged pods only
// through a "use" grant of a privileged PSP; under Pod Security admission
// whoever may update or patch a Namespace chooses its level, privileged
// included, and admission never stops a label change. This package reads
// the RBAC of the input, aggregated ClusterRoles resolved, and lists per
// namespace and cluster-wide the subjects that may relabel, directly or
// through RBAC escalation, next to those that may use a privileged PSP
// today: one that admits privileged containers (spec.privileged), what a
// privileged namespace allows. (Judged by Pod Security level nearly every
// real PSP is privileged, since seLinux RunAsAny allows any SELinux type;
// that would hide who gains.)
//
// Rules are matched with the apiserver's own comparator
// (k8s.io/component-helpers/auth/rbac/validation.Covers): `*` verbs,
// groups and resources, `*/status` subresources and resourceNames are
// what RBAC makes of them.
package relabel

import (
	"slices"
	"sort"
	"strings"

	"github.com/psp2psa/psp2psa/inventory"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
)

// Grant is one way a subject may relabel a namespace.
type Grant struct {
	// Subject is "User NAME", "Group NAME" or "ServiceAccount NS/NAME".
	Subject string `json:"subject"`
	// Binding is "ClusterRoleBinding NAME" or "RoleBinding NS/NAME", Role
	// "ClusterRole NAME" or "Role NS/NAME".
	Binding string `json:"binding"`
	Role    string `json:"role"`
	// Via says what the role allows that relabels: "update namespaces",
	// "bind clusterroles + create rolebindings", …
	Via string `json:"via"`
	// BindingNamespace and BindingName locate the binding in the input
	// (the namespace is "" for a ClusterRoleBinding).
	BindingNamespace string `json:"-"`
	BindingName      string `json:"-"`
}

// Scope is what holds in one namespace, or cluster-wide.
type Scope struct {
	// Namespace is "" for the whole cluster.
	Namespace string `json:"namespace,omitempty"`
	// Relabel are the grants that let a subject change the namespace's
	// Pod Security labels (cluster-wide: every namespace's).
	Relabel []Grant `json:"relabel"`
	// Privileged are the subjects that may use a privileged PSP here
	// today (cluster-wide: in every namespace), besides system:masters.
	Privileged []string `json:"privileged"`
	// Widened are the relabel grants whose subject may use no privileged
	// PSP here today: under Pod Security they gain it.
	Widened []Grant `json:"widened"`
}

// Result is the whole answer.
type Result struct {
	// PrivilegedPolicies are the PSPs that admit privileged containers.
	PrivilegedPolicies []string `json:"privilegedPolicies"`
	Cluster            Scope    `json:"cluster"`
	// Namespaces are the namespaces with grants of their own, by name.
	Namespaces []Scope `json:"namespaces"`
}

// Superuser is the group the apiserver lets do anything, RBAC or not.
const Superuser = "system:masters"

// labelResources are what a label change can go through: the namespace
// itself and the two subresources whose updates keep metadata changes
// (the namespace registry's status and finalize strategies reset only the
// spec or the status). Pod Security admission ignores namespace
// subresources altogether.
var labelResources = []string{"namespaces", "namespaces/status", "namespaces/finalize"}

// role is a role's rules and name.
type role struct {
	name  string
	rules []rbacv1.PolicyRule
}

// binding is a RoleBinding or ClusterRoleBinding with its role resolved.
type binding struct {
	name, namespace, kindName string
	role                      role
	subjects                  []rbacv1.Subject
}

// clusterAdmin is the bootstrap ClusterRole every apiserver creates.
var clusterAdmin = role{name: "ClusterRole cluster-admin", rules: []rbacv1.PolicyRule{
	{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
	{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}},
}}

// Analyze reads the inventory's RBAC. privileged names the PSPs that admit
// privileged containers; namespaces are the namespaces to answer for, which
// a ClusterRoleBinding limited by resourceNames may reach.
func Analyze(inv *inventory.Inventory, privileged []string, namespaces []string) *Result {
	res := &Result{PrivilegedPolicies: slices.Clone(privileged), Cluster: Scope{Relabel: []Grant{}, Privileged: []string{}, Widened: []Grant{}}}
	scopes := map[string]*Scope{}
	scope := func(ns string) *Scope {
		if ns == "" {
			return &res.Cluster
		}
		if scopes[ns] == nil {
			scopes[ns] = &Scope{Namespace: ns, Relabel: []Grant{}, Privileged: []string{}, Widened: []Grant{}}
		}
		return scopes[ns]
	}
	all := bindings(inv)
	for _, b := range all {
		if b.namespace == "" {
			clusterBinding(b, privileged, namespaces, scope)
		} else {
			namespaceBinding(b, privileged, scope(b.namespace))
		}
	}
	impersonations(all, append([]*Scope{&res.Cluster}, valuesOf(scopes)...))
	finish(&res.Cluster, nil)
	for _, name := range sortedKeys(scopes) {
		s := scopes[name]
		finish(s, res.Cluster.Privileged)
		res.Namespaces = append(res.Namespaces, *s)
	}
	return res
}

// clusterBinding adds what a ClusterRoleBinding grants: everywhere, or
// in the namespaces its role's resourceNames name.
func clusterBinding(b binding, privileged, namespaces []string, scope func(string) *Scope) {
	if via := relabelVia(b.role.rules, "", true); via != "" {
		addGrants(scope(""), b, via)
	} else {
		for _, ns := range namespaces {
			if via := relabelVia(b.role.rules, ns, true); via != "" {
				addGrants(scope(ns), b, via)
			}
		}
	}
	if usesAny(b.role.rules, privileged) {
		scope("").Privileged = append(scope("").Privileged, subjects(b)...)
	}
}

// namespaceBinding adds what a RoleBinding grants in its namespace.
func namespaceBinding(b binding, privileged []string, s *Scope) {
	if via := relabelVia(b.role.rules, b.namespace, false); via != "" {
		addGrants(s, b, via)
	}
	if usesAny(b.role.rules, privileged) {
		s.Privileged = append(s.Privileged, subjects(b)...)
	}
}

func addGrants(s *Scope, b binding, via string) {
	for _, subject := range subjects(b) {
		s.Relabel = append(s.Relabel, Grant{Subject: subject, Binding: b.kindName, Role: b.role.name, Via: via,
			BindingNamespace: b.namespace, BindingName: b.name})
	}
}

// impersonations adds to each scope the grants of those who may act as
// another subject that relabels there: impersonating a user by name, a
// service account (by name, or any in the namespace of a RoleBinding that
// allows it), or a group together with some user. One step: the grants
// gained are not impersonated again.
func impersonations(bs []binding, scopes []*Scope) {
	imp := impersonatorsOf(bs)
	for _, s := range scopes {
		direct := slices.Clone(s.Relabel)
		for _, g := range direct {
			for _, b := range imp.of(g.Subject) {
				if !mayImpersonate(b, g.Subject) {
					continue
				}
				via := "impersonate " + g.Subject + ", who may " + g.Via + " (" + g.Binding + " of " + g.Role + ")"
				for _, subject := range subjects(b) {
					if subject != g.Subject {
						s.Relabel = append(s.Relabel, Grant{Subject: subject, Binding: b.kindName, Role: b.role.name, Via: via,
							BindingNamespace: b.namespace, BindingName: b.name})
					}
				}
			}
		}
	}
}

// impersonators are the bindings whose roles allow some impersonation:
// ClusterRoleBindings, and RoleBindings by namespace.
type impersonators struct {
	cluster    []binding
	namespaced map[string][]binding
}

func impersonatorsOf(bs []binding) impersonators {
	imp := impersonators{namespaced: map[string][]binding{}}
	for _, b := range bs {
		if !slices.ContainsFunc(b.role.rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.Verbs, "impersonate") || slices.Contains(r.Verbs, rbacv1.VerbAll)
		}) {
			continue
		}
		if b.namespace == "" {
			imp.cluster = append(imp.cluster, b)
		} else {
			imp.namespaced[b.namespace] = append(imp.namespaced[b.namespace], b)
		}
	}
	return imp
}

// of are the bindings that may reach subject: a RoleBinding reaches only
// the service accounts of its namespace (and their groups).
func (imp impersonators) of(subject string) []binding {
	kind, name := impersonated(subject)
	switch {
	case kind == rbacv1.ServiceAccountKind:
		ns, _, _ := strings.Cut(name, "/")
		return append(imp.cluster[:len(imp.cluster):len(imp.cluster)], imp.namespaced[ns]...)
	case kind == rbacv1.GroupKind && strings.HasPrefix(name, "system:serviceaccounts:"):
		return append(imp.cluster[:len(imp.cluster):len(imp.cluster)], imp.namespaced[strings.TrimPrefix(name, "system:serviceaccounts:")]...)
	case kind == rbacv1.GroupKind && (name == "system:serviceaccounts" || name == "system:authenticated"):
		out := slices.Clone(imp.cluster)
		for _, ns := range sortedKeys(imp.namespaced) {
			out = append(out, imp.namespaced[ns]...)
		}
		return out
	}
	return imp.cluster
}

// mayImpersonate reports whether the binding's role lets its subjects act
// as subject ("User NAME", "Group NAME", "ServiceAccount NS/NAME"). Users
// and groups are cluster-wide: only a ClusterRoleBinding reaches them; a
// service account is reached by a RoleBinding in its namespace too. As
// the apiserver does, a user name of a service account is checked as that
// service account, and impersonated groups are taken only with an
// impersonated user.
func mayImpersonate(b binding, subject string) bool {
	kind, name := impersonated(subject)
	cluster := b.namespace == ""
	switch kind {
	case rbacv1.UserKind:
		return cluster && allows(b.role.rules, "impersonate", "", "users", name)
	case rbacv1.GroupKind:
		return cluster && allows(b.role.rules, "impersonate", "", "groups", name) && impersonatesSomeUser(b.role.rules) ||
			inServiceAccountGroup(b, name)
	case rbacv1.ServiceAccountKind:
		ns, sa, _ := strings.Cut(name, "/")
		return (cluster || b.namespace == ns) && allows(b.role.rules, "impersonate", "", "serviceaccounts", sa)
	}
	return false
}

// impersonated splits a subject ("User NAME", "Group NAME",
// "ServiceAccount NS/NAME") into kind and name as the apiserver checks its
// impersonation: the user name of a service account
// (system:serviceaccount:NS:NAME) as that service account.
func impersonated(subject string) (kind, name string) {
	kind, name, _ = strings.Cut(subject, " ")
	if rest, ok := strings.CutPrefix(name, "system:serviceaccount:"); ok && kind == rbacv1.UserKind {
		return rbacv1.ServiceAccountKind, strings.Replace(rest, ":", "/", 1)
	}
	return kind, name
}

// inServiceAccountGroup reports whether the binding lets its subjects
// impersonate a service account in group: every service account is in
// system:authenticated and system:serviceaccounts, and in
// system:serviceaccounts:NS of its namespace (a RoleBinding reaches those
// of its own namespace only).
func inServiceAccountGroup(b binding, group string) bool {
	if !impersonatesSome(b.role.rules, "serviceaccounts") {
		return false
	}
	if ns, ok := strings.CutPrefix(group, "system:serviceaccounts:"); ok {
		return b.namespace == "" || b.namespace == ns
	}
	return group == "system:serviceaccounts" || group == "system:authenticated"
}

// impersonatesSomeUser reports whether rules allow impersonating any user,
// or one they name.
func impersonatesSomeUser(rules []rbacv1.PolicyRule) bool {
	return impersonatesSome(rules, "users")
}

// impersonatesSome reports whether rules allow impersonating any of
// resource (users, serviceaccounts), or one they name.
func impersonatesSome(rules []rbacv1.PolicyRule, resource string) bool {
	names := []string{""}
	for _, r := range rules {
		names = append(names, r.ResourceNames...)
	}
	return slices.ContainsFunc(names, func(n string) bool { return allows(rules, "impersonate", "", resource, n) })
}

// finish sorts the privileged subjects and picks the widened grants:
// those whose subject may use no privileged PSP in the scope, nor
// cluster-wide (also given for a namespace).
func finish(s *Scope, clusterPrivileged []string) {
	s.Privileged = sortedUnique(s.Privileged)
	all := append(slices.Clone(s.Privileged), clusterPrivileged...)
	for _, g := range s.Relabel {
		if !mayUsePrivileged(g.Subject, all) {
			s.Widened = append(s.Widened, g)
		}
	}
}

// relabelVia says how rules let their holder change the Pod Security
// labels of the namespace ns ("" for any namespace); "" when they do not.
// clusterScoped tells whether the rules hold cluster-wide (a
// ClusterRoleBinding) or in ns only (a RoleBinding there).
func relabelVia(rules []rbacv1.PolicyRule, ns string, clusterScoped bool) string {
	for _, res := range labelResources {
		for _, verb := range []string{"update", "patch"} {
			if allows(rules, verb, "", res, ns) {
				return verb + " " + res
			}
		}
	}
	// RBAC lets a subject bind a role it lacks the permissions of only
	// with "bind"; cluster-admin, which every cluster has, grants relabel.
	bindings := "rolebindings"
	if clusterScoped && ns == "" {
		bindings = "clusterrolebindings"
	}
	if allows(rules, "bind", rbacv1.GroupName, "clusterroles", "cluster-admin") {
		for _, verb := range []string{"create", "update", "patch"} {
			if allows(rules, verb, rbacv1.GroupName, bindings, "") {
				return "bind clusterroles + " + verb + " " + bindings
			}
		}
	}
	// "escalate" lets a subject write into a role permissions it lacks; a
	// role bound to it that it may update then grants relabel.
	for _, roles := range []string{"roles", "clusterroles"} {
		if allows(rules, "escalate", rbacv1.GroupName, roles, "") {
			for _, verb := range []string{"update", "patch"} {
				if allows(rules, verb, rbacv1.GroupName, roles, "") {
					return "escalate + " + verb + " " + roles
				}
			}
		}
	}
	// Impersonating a user in group system:masters is acting as a
	// superuser; the apiserver takes impersonated groups only with an
	// impersonated user. Users and groups are cluster-wide, so only a
	// ClusterRoleBinding grants it.
	if clusterScoped && ns == "" && allows(rules, "impersonate", "", "users", "") && allows(rules, "impersonate", "", "groups", Superuser) {
		return "impersonate users + groups"
	}
	return ""
}

// allows reports whether rules allow a request, as RBAC decides it: the
// rules cover a rule of exactly that verb, group, resource and name.
func allows(rules []rbacv1.PolicyRule, verb, group, resource, name string) bool {
	req := rbacv1.PolicyRule{Verbs: []string{verb}, APIGroups: []string{group}, Resources: []string{resource}}
	if name != "" {
		req.ResourceNames = []string{name}
	}
	ok, _ := validation.Covers(rules, []rbacv1.PolicyRule{req})
	return ok
}

// usesAny reports whether rules allow "use" of one of the PSPs, in the
// groups PSP admission asks (policy, and extensions for old clients).
func usesAny(rules []rbacv1.PolicyRule, policies []string) bool {
	for _, name := range policies {
		for _, group := range []string{"policy", "extensions"} {
			if allows(rules, "use", group, "podsecuritypolicies", name) {
				return true
			}
		}
	}
	return false
}

// mayUsePrivileged reports whether a subject is, or is in a group that
// is, among the privileged subjects. Users and service accounts are in
// system:authenticated; service accounts also in system:serviceaccounts
// and their namespace's group.
func mayUsePrivileged(subject string, privileged []string) bool {
	if subject == "Group "+Superuser {
		return true
	}
	groups := []string{subject}
	kind, name, _ := strings.Cut(subject, " ")
	switch kind {
	case rbacv1.UserKind:
		groups = append(groups, "Group system:authenticated")
	case rbacv1.ServiceAccountKind:
		ns, sa, _ := strings.Cut(name, "/")
		groups = append(groups, "Group system:authenticated", "Group system:serviceaccounts",
			"Group system:serviceaccounts:"+ns, "User system:serviceaccount:"+ns+":"+sa)
	}
	for _, g := range groups {
		if slices.Contains(privileged, g) {
			return true
		}
	}
	return false
}

// bindings resolves every binding's role; a binding whose role the input
// lacks grants nothing (RBAC skips it), except the bootstrap
// cluster-admin.
func bindings(inv *inventory.Inventory) []binding {
	clusterRoles := map[string]role{"cluster-admin": clusterAdmin}
	for i := range inv.ClusterRoles {
		cr := &inv.ClusterRoles[i]
		clusterRoles[cr.Name] = role{name: "ClusterRole " + cr.Name, rules: cr.Rules}
	}
	roles := map[string]role{}
	for i := range inv.Roles {
		r := &inv.Roles[i]
		roles[r.Namespace+"/"+r.Name] = role{name: "Role " + r.Namespace + "/" + r.Name, rules: r.Rules}
	}
	var out []binding
	for i := range inv.ClusterRoleBindings {
		crb := &inv.ClusterRoleBindings[i]
		if r, ok := clusterRoles[crb.RoleRef.Name]; ok && crb.RoleRef.Kind == "ClusterRole" {
			out = append(out, binding{name: crb.Name, kindName: "ClusterRoleBinding " + crb.Name, role: r, subjects: crb.Subjects})
		}
	}
	for i := range inv.RoleBindings {
		rb := &inv.RoleBindings[i]
		r, ok := clusterRoles[rb.RoleRef.Name]
		if rb.RoleRef.Kind == "Role" {
			r, ok = roles[rb.Namespace+"/"+rb.RoleRef.Name]
		}
		if ok {
			out = append(out, binding{name: rb.Name, namespace: rb.Namespace, kindName: "RoleBinding " + rb.Namespace + "/" + rb.Name, role: r, subjects: rb.Subjects})
		}
	}
	return out
}

// subjects names a binding's subjects; a ServiceAccount without a
// namespace is in the RoleBinding's, and in a ClusterRoleBinding names
// nobody.
func subjects(b binding) []string {
	var out []string
	for _, s := range b.subjects {
		switch s.Kind {
		case rbacv1.UserKind, rbacv1.GroupKind:
			out = append(out, s.Kind+" "+s.Name)
		case rbacv1.ServiceAccountKind:
			ns := s.Namespace
			if ns == "" {
				ns = b.namespace
			}
			if ns != "" {
				out = append(out, s.Kind+" "+ns+"/"+s.Name)
			}
		}
	}
	return out
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return slices.Compact(out)
}

// valuesOf is the map's values in key order.
func valuesOf[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
