package psp

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// What PSP admission asks RBAC (plugin/pkg/admission/security/
// podsecuritypolicy/admission.go, buildAttributes): verb "use" on
// podsecuritypolicies named after the policy, in the pod's namespace, in the
// policy API group or, for backward compatibility, in extensions.
const (
	useVerb     = "use"
	pspResource = "podsecuritypolicies"
)

var pspAPIGroups = []string{"policy", "extensions"}

// Well-known identities (k8s.io/apiserver/pkg/authentication/user and
// serviceaccount).
const (
	// SuperuserGroup may do anything: the apiserver puts a privileged-group
	// authorizer in front of RBAC for it.
	SuperuserGroup = "system:masters"
	// AuthenticatedGroup is added to every authenticated user by the
	// apiserver's authenticator, but not to the service account identity
	// PSP admission builds for a pod.
	AuthenticatedGroup = "system:authenticated"
	// AllServiceAccountsGroup holds every service account.
	AllServiceAccountsGroup       = "system:serviceaccounts"
	serviceAccountNamespacePrefix = "system:serviceaccounts:"
	serviceAccountUsernamePrefix  = "system:serviceaccount:"
)

// RBAC kinds and the bootstrap role that grants everything.
const (
	roleKind               = "Role"
	clusterRoleKind        = "ClusterRole"
	roleBindingKind        = "RoleBinding"
	clusterRoleBindingKind = "ClusterRoleBinding"
	clusterAdminRole       = "cluster-admin"
)

// UserInfo is an identity as the authorizer sees it.
type UserInfo struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups,omitempty"`
}

// ServiceAccountUser is the identity PSP admission checks for a pod's
// service account (serviceaccount.UserInfo): its username and the two
// service account groups, without system:authenticated.
func ServiceAccountUser(namespace, name string) UserInfo {
	return UserInfo{
		Name:   ServiceAccountUsername(namespace, name),
		Groups: []string{AllServiceAccountsGroup, serviceAccountNamespacePrefix + namespace},
	}
}

// ServiceAccountUsername is serviceaccount.MakeUsername.
func ServiceAccountUsername(namespace, name string) string {
	return serviceAccountUsernamePrefix + namespace + ":" + name
}

func (u UserInfo) isZero() bool { return u.Name == "" && len(u.Groups) == 0 }

func (u UserInfo) inGroup(group string) bool {
	for _, g := range u.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// Grant is one reason a user may use a PSP: a binding whose subject
// matches the user and whose role allows "use".
type Grant struct {
	// Binding is "RoleBinding NS/NAME" or "ClusterRoleBinding NAME"; empty
	// for a superuser.
	Binding string `json:"binding,omitempty"`
	// Role is "ClusterRole NAME" or "Role NS/NAME"; empty for a superuser.
	Role string `json:"role,omitempty"`
	// Subject is the binding's first subject that matches the user, as
	// "User NAME", "Group NAME" or "ServiceAccount NS/NAME".
	Subject string `json:"subject"`
	// Superuser reports a member of system:masters, which needs no binding.
	Superuser bool `json:"superuser,omitempty"`
}

func (g Grant) String() string {
	if g.Superuser {
		return g.Subject + " (superuser)"
	}
	return fmt.Sprintf("%s of %s to %s", g.Binding, g.Role, g.Subject)
}

// Authorizer answers who may use which PSP, as RBAC would for PSP
// admission. It indexes the bindings by subject once, so a question costs
// the bindings that name the user or one of its groups, not all of them.
type Authorizer struct {
	// bySubject lists, for each subject in each namespace ("" for
	// ClusterRoleBindings), the bindings that grant "use" on some PSP.
	bySubject map[subjectKey][]*binding
}

// subjectKey is a binding subject as a user matches it: a username
// (ServiceAccount subjects become their username) or a group.
type subjectKey struct {
	namespace string // of a RoleBinding; "" for a ClusterRoleBinding
	group     bool
	name      string
}

// binding is a RoleBinding or ClusterRoleBinding reduced to what it grants.
type binding struct {
	order     int    // ClusterRoleBindings first, then RoleBindings, each in input order, as RBAC visits them
	namespace string // "" for a ClusterRoleBinding
	name      string // "RoleBinding ns/name" or "ClusterRoleBinding name"
	role      string // "ClusterRole name" or "Role ns/name"
	subjects  []rbacv1.Subject
	uses      *useGrant
}

// useGrant is what a role's rules allow of "use" on PSPs: all of them, or
// those named.
type useGrant struct {
	all   bool
	names map[string]bool
}

func (g *useGrant) allows(pspName string) bool {
	return g.all || g.names[pspName]
}

func (g *useGrant) empty() bool {
	return !g.all && len(g.names) == 0
}

// NewAuthorizer indexes the RBAC objects. ClusterRoles must have their
// aggregation resolved (the inventory does that). The bootstrap
// ClusterRole cluster-admin, which every apiserver creates and reconciles,
// is assumed when the input does not define it, so that bindings to it
// grant what they grant in a cluster.
func NewAuthorizer(roles []rbacv1.Role, clusterRoles []rbacv1.ClusterRole, rbs []rbacv1.RoleBinding, crbs []rbacv1.ClusterRoleBinding) *Authorizer {
	roleGrants := map[[2]string]*useGrant{}
	for i := range roles {
		roleGrants[[2]string{roles[i].Namespace, roles[i].Name}] = useGrantOf(roles[i].Rules)
	}
	clusterRoleGrants := map[string]*useGrant{clusterAdminRole: useGrantOf(clusterAdminRules)}
	for i := range clusterRoles {
		clusterRoleGrants[clusterRoles[i].Name] = useGrantOf(clusterRoles[i].Rules)
	}

	a := &Authorizer{bySubject: map[subjectKey][]*binding{}}
	order := 0
	for i := range crbs {
		crb := &crbs[i]
		// A ClusterRoleBinding resolves only ClusterRoles: RBAC looks a Role
		// up in the binding's namespace, and there is none.
		var uses *useGrant
		if crb.RoleRef.Kind == clusterRoleKind {
			uses = clusterRoleGrants[crb.RoleRef.Name]
		}
		a.add(&binding{
			order: order, name: clusterRoleBindingKind + " " + crb.Name,
			role: roleRefString(crb.RoleRef, ""), subjects: crb.Subjects, uses: uses,
		})
		order++
	}
	for i := range rbs {
		rb := &rbs[i]
		var uses *useGrant
		switch rb.RoleRef.Kind {
		case roleKind:
			uses = roleGrants[[2]string{rb.Namespace, rb.RoleRef.Name}]
		case clusterRoleKind:
			uses = clusterRoleGrants[rb.RoleRef.Name]
		}
		a.add(&binding{
			order: order, namespace: rb.Namespace, name: roleBindingKind + " " + rb.Namespace + "/" + rb.Name,
			role: roleRefString(rb.RoleRef, rb.Namespace), subjects: rb.Subjects, uses: uses,
		})
		order++
	}
	return a
}

// clusterAdminRules are the bootstrap cluster-admin ClusterRole's
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go).
var clusterAdminRules = []rbacv1.PolicyRule{
	{APIGroups: []string{rbacv1.APIGroupAll}, Resources: []string{rbacv1.ResourceAll}, Verbs: []string{rbacv1.VerbAll}},
	{NonResourceURLs: []string{rbacv1.NonResourceAll}, Verbs: []string{rbacv1.VerbAll}},
}

func roleRefString(ref rbacv1.RoleRef, bindingNamespace string) string {
	if ref.Kind == roleKind {
		return roleKind + " " + bindingNamespace + "/" + ref.Name
	}
	return ref.Kind + " " + ref.Name
}

// add indexes a binding under each of its subjects, unless its role grants
// no "use" (or does not exist: RBAC then skips the binding).
func (a *Authorizer) add(b *binding) {
	if b.uses == nil || b.uses.empty() {
		return
	}
	seen := map[subjectKey]bool{}
	for i := range b.subjects {
		key, ok := subjectKeyOf(&b.subjects[i], b.namespace)
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		a.bySubject[key] = append(a.bySubject[key], b)
	}
}

// subjectKeyOf mirrors appliesToUser (pkg/registry/rbac/validation/rule.go):
// a ServiceAccount subject without a namespace takes the RoleBinding's
// namespace, and in a ClusterRoleBinding matches nobody.
func subjectKeyOf(s *rbacv1.Subject, bindingNamespace string) (subjectKey, bool) {
	switch s.Kind {
	case rbacv1.UserKind:
		return subjectKey{namespace: bindingNamespace, name: s.Name}, true
	case rbacv1.GroupKind:
		return subjectKey{namespace: bindingNamespace, group: true, name: s.Name}, true
	case rbacv1.ServiceAccountKind:
		saNamespace := bindingNamespace
		if s.Namespace != "" {
			saNamespace = s.Namespace
		}
		if saNamespace == "" {
			return subjectKey{}, false
		}
		return subjectKey{namespace: bindingNamespace, name: ServiceAccountUsername(saNamespace, s.Name)}, true
	default:
		return subjectKey{}, false
	}
}

// useGrantOf collects what rules allow of "use" on PSPs. It is
// RuleAllows (plugin/pkg/auth/authorizer/rbac/rbac.go) evaluated once per
// rule for every PSP name at the same time.
func useGrantOf(rules []rbacv1.PolicyRule) *useGrant {
	g := &useGrant{}
	for i := range rules {
		r := &rules[i]
		if !verbMatches(r, useVerb) || !resourceMatches(r, pspResource, "") || !anyAPIGroupMatches(r, pspAPIGroups) {
			continue
		}
		if len(r.ResourceNames) == 0 {
			g.all = true
			continue
		}
		if g.names == nil {
			g.names = map[string]bool{}
		}
		for _, name := range r.ResourceNames {
			g.names[name] = true
		}
	}
	return g
}

func anyAPIGroupMatches(r *rbacv1.PolicyRule, groups []string) bool {
	for _, g := range groups {
		if apiGroupMatches(r, g) {
			return true
		}
	}
	return false
}

// The matchers below are k8s.io/kubernetes pkg/apis/rbac/v1
// evaluation_helpers.go, unchanged; ResourceNameMatches is what useGrantOf
// does with resourceNames.

func verbMatches(rule *rbacv1.PolicyRule, requestedVerb string) bool {
	for _, ruleVerb := range rule.Verbs {
		if ruleVerb == rbacv1.VerbAll || ruleVerb == requestedVerb {
			return true
		}
	}
	return false
}

func apiGroupMatches(rule *rbacv1.PolicyRule, requestedGroup string) bool {
	for _, ruleGroup := range rule.APIGroups {
		if ruleGroup == rbacv1.APIGroupAll || ruleGroup == requestedGroup {
			return true
		}
	}
	return false
}

func resourceMatches(rule *rbacv1.PolicyRule, combinedRequestedResource, requestedSubresource string) bool {
	for _, ruleResource := range rule.Resources {
		if ruleResource == rbacv1.ResourceAll || ruleResource == combinedRequestedResource {
			return true
		}
		if requestedSubresource == "" {
			continue
		}
		if len(ruleResource) == len(requestedSubresource)+2 &&
			strings.HasPrefix(ruleResource, "*/") && strings.HasSuffix(ruleResource, requestedSubresource) {
			return true
		}
	}
	return false
}

// CanUse reports whether the user may use the PSP for a pod in the
// namespace: RBAC allows "use" on it in group policy or extensions, or the
// user is a superuser.
func (a *Authorizer) CanUse(user UserInfo, namespace, pspName string) bool {
	if user.inGroup(SuperuserGroup) {
		return true
	}
	found := false
	a.visit(user, namespace, func(b *binding) bool {
		found = b.uses.allows(pspName)
		return !found
	})
	return found
}

// UsablePolicies returns the names in all that the user may use in the
// namespace, sorted and without repeats.
func (a *Authorizer) UsablePolicies(user UserInfo, namespace string, all []string) []string {
	if user.inGroup(SuperuserGroup) {
		return sortedUnique(all)
	}
	var grants []*useGrant
	a.visit(user, namespace, func(b *binding) bool {
		grants = append(grants, b.uses)
		return true
	})
	var usable []string
	for _, name := range all {
		for _, g := range grants {
			if g.allows(name) {
				usable = append(usable, name)
				break
			}
		}
	}
	return sortedUnique(usable)
}

// UseSet is every PSP a user may use in a namespace: all of them, or
// those named (sorted).
type UseSet struct {
	All   bool
	Names []string
}

// Allows reports whether the set holds the PSP.
func (s UseSet) Allows(pspName string) bool {
	if s.All {
		return true
	}
	i := sort.SearchStrings(s.Names, pspName)
	return i < len(s.Names) && s.Names[i] == pspName
}

// Usable is CanUse for every PSP name at once: what RBAC lets the user use
// in the namespace, whatever PSPs exist.
func (a *Authorizer) Usable(user UserInfo, namespace string) UseSet {
	if user.inGroup(SuperuserGroup) {
		return UseSet{All: true}
	}
	all := false
	names := map[string]bool{}
	a.visit(user, namespace, func(b *binding) bool {
		if b.uses.all {
			all = true
			return false
		}
		for name := range b.uses.names {
			names[name] = true
		}
		return true
	})
	if all {
		return UseSet{All: true}
	}
	out := make([]string, 0, len(names))
	for name := range names {
		out = append(out, name)
	}
	sort.Strings(out)
	return UseSet{Names: out}
}

// Grants explains CanUse: every binding that lets the user use the PSP in
// the namespace, in the order RBAC visits them (ClusterRoleBindings, then
// the namespace's RoleBindings, each in input order).
func (a *Authorizer) Grants(user UserInfo, namespace, pspName string) []Grant {
	var grants []Grant
	if user.inGroup(SuperuserGroup) {
		grants = append(grants, Grant{Subject: rbacv1.GroupKind + " " + SuperuserGroup, Superuser: true})
	}
	var matched []*binding
	a.visit(user, namespace, func(b *binding) bool {
		if b.uses.allows(pspName) {
			matched = append(matched, b)
		}
		return true
	})
	sort.Slice(matched, func(i, j int) bool { return matched[i].order < matched[j].order })
	for i, b := range matched {
		if i > 0 && b == matched[i-1] {
			continue // matched through more than one subject
		}
		grants = append(grants, Grant{Binding: b.name, Role: b.role, Subject: b.matchingSubject(user)})
	}
	return grants
}

// ForPod is the authorization PSP admission applies to a pod
// (isAuthorizedForPolicy): the pod's service account may use the PSP in the
// namespace, or else the user who creates the pod may. An empty
// serviceAccount or a zero requester is no identity and is not asked.
func (a *Authorizer) ForPod(namespace, serviceAccount string, requester UserInfo) func(pspName string) bool {
	var sa *UserInfo
	if serviceAccount != "" {
		u := ServiceAccountUser(namespace, serviceAccount)
		sa = &u
	}
	return func(pspName string) bool {
		if sa != nil && a.CanUse(*sa, namespace, pspName) {
			return true
		}
		return !requester.isZero() && a.CanUse(requester, namespace, pspName)
	}
}

// visit calls fn with each binding that names the user or one of its
// groups, cluster-wide and in the namespace, until fn returns false. A
// binding may come more than once.
func (a *Authorizer) visit(user UserInfo, namespace string, fn func(*binding) bool) {
	scopes := [2]string{"", namespace}
	n := 1
	if namespace != "" {
		n = 2
	}
	for _, scope := range scopes[:n] {
		for _, b := range a.bySubject[subjectKey{namespace: scope, name: user.Name}] {
			if !fn(b) {
				return
			}
		}
		for _, group := range user.Groups {
			for _, b := range a.bySubject[subjectKey{namespace: scope, group: true, name: group}] {
				if !fn(b) {
					return
				}
			}
		}
	}
}

// matchingSubject describes the binding's first subject that applies to
// the user (appliesTo).
func (b *binding) matchingSubject(user UserInfo) string {
	for i := range b.subjects {
		s := &b.subjects[i]
		key, ok := subjectKeyOf(s, b.namespace)
		if !ok || (key.group && !user.inGroup(key.name)) || (!key.group && key.name != user.Name) {
			continue
		}
		if s.Kind == rbacv1.ServiceAccountKind {
			saNamespace := s.Namespace
			if saNamespace == "" {
				saNamespace = b.namespace
			}
			return s.Kind + " " + saNamespace + "/" + s.Name
		}
		return s.Kind + " " + s.Name
	}
	return ""
}

func sortedUnique(names []string) []string {
	out := append([]string(nil), names...)
	sort.Strings(out)
	n := 0
	for i, s := range out {
		if i == 0 || s != out[n-1] {
			out[n] = s
			n++
		}
	}
	return out[:n]
}
