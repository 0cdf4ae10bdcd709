package plan

import (
	"fmt"
	"strings"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/psp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Incomplete is one piece the plan's answers rest on that the input does
// not hold. A namespace whose answer rests on one gets no enforce label.
type Incomplete struct {
	// Reason is a stable identifier: one of the Reason constants.
	Reason string `json:"reason"`
	// Namespace and Workload ("Kind namespace/name") are what rests on the
	// missing piece; both are empty for what concerns the whole plan.
	Namespace string `json:"namespace,omitempty"`
	Workload  string `json:"workload,omitempty"`
	// Object names the missing object where there is one:
	// "ServiceAccount shop/api", "ClusterRole psp:privileged".
	Object string `json:"object,omitempty"`
	// Message says it in words, naming what it concerns.
	Message string `json:"message"`
}

// Reasons a plan is incomplete.
const (
	// ReasonClusterRead: the read of the cluster, live or recorded in a
	// snapshot, could not see some objects; any namespace may rest on them.
	ReasonClusterRead = "cluster-read"
	// ReasonNoPSP: the input holds no PodSecurityPolicy at all, so which
	// PSP admits a workload today is unknown.
	ReasonNoPSP = "no-psp"
	// ReasonNoUseGrant: no subject of the namespace (its service accounts,
	// the creators of its pods) may use any PSP of the input.
	ReasonNoUseGrant = "no-use-grant"
	// ReasonMissingRole: a binding that applies to a workload's identities
	// names a Role or ClusterRole the input does not hold.
	ReasonMissingRole = "missing-role"
	// ReasonMissingServiceAccount: a workload runs as a service account
	// the input does not hold.
	ReasonMissingServiceAccount = "missing-service-account"
	// ReasonUnknownPodCreator: no PSP a bare Pod's service account may use
	// admits it, and who created it (whose grants count too) is unknown.
	ReasonUnknownPodCreator = "unknown-pod-creator"
	// ReasonMissingPSP: a Pod's kubernetes.io/psp annotation names a PSP
	// the input does not hold.
	ReasonMissingPSP = "missing-psp"
)

// completeness knows what the input lacks that workloads' answers may rest
// on. It is read-only once built, so workloads are checked in parallel.
type completeness struct {
	// clusterRead reports that the read of the cluster missed objects:
	// every answer may rest on them.
	clusterRead bool
	noPSP       bool
	policies    map[string]bool
	// podCreator reports that --pod-creator names who created bare Pods.
	podCreator bool
	// dangling grants "use" of every PSP through exactly the bindings
	// whose role the input lacks (nil when there is none): whether one
	// of them applies to an identity is what RBAC would answer.
	dangling *psp.Authorizer
	// missingRoles maps each such binding, as psp.Grant names it, to the
	// role it names.
	missingRoles map[string]string
}

func newCompleteness(policies []string, inv *inventory.Inventory, podCreator bool) *completeness {
	c := &completeness{clusterRead: len(inv.Incomplete) > 0, noPSP: len(policies) == 0, policies: map[string]bool{}, podCreator: podCreator}
	for _, name := range policies {
		c.policies[name] = true
	}
	c.dangling, c.missingRoles = danglingBindings(inv)
	return c
}

// standInRole is the role every dangling binding is pointed at: it grants
// "use" of every PSP, so that the authorizer answers whether a binding
// applies at all.
var standInRole = rbacv1.ClusterRole{
	ObjectMeta: metav1.ObjectMeta{Name: "psp2psa:missing-role"},
	Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}}},
}

// danglingBindings indexes the bindings whose role the input lacks. The
// bootstrap ClusterRoles every apiserver creates are never missing: none
// of them grants "use" of a PSP.
func danglingBindings(inv *inventory.Inventory) (*psp.Authorizer, map[string]string) {
	roles := map[string]bool{}
	for i := range inv.Roles {
		roles[inv.Roles[i].Namespace+"/"+inv.Roles[i].Name] = true
	}
	clusterRoles := map[string]bool{}
	for i := range inv.ClusterRoles {
		clusterRoles[inv.ClusterRoles[i].Name] = true
	}
	missing := func(ref rbacv1.RoleRef, namespace string) (string, bool) {
		switch {
		case ref.Kind == "ClusterRole" && !clusterRoles[ref.Name] && !isBootstrapClusterRole(ref.Name):
			return "ClusterRole " + ref.Name, true
		case ref.Kind == "Role" && namespace != "" && !roles[namespace+"/"+ref.Name]:
			return "Role " + namespace + "/" + ref.Name, true
		}
		return "", false
	}
	standIn := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: standInRole.Name}
	names := map[string]string{}
	var crbs []rbacv1.ClusterRoleBinding
	for _, crb := range inv.ClusterRoleBindings {
		if role, ok := missing(crb.RoleRef, ""); ok {
			names["ClusterRoleBinding "+crb.Name] = role
			crb.RoleRef = standIn
			crbs = append(crbs, crb)
		}
	}
	var rbs []rbacv1.RoleBinding
	for _, rb := range inv.RoleBindings {
		if role, ok := missing(rb.RoleRef, rb.Namespace); ok {
			names["RoleBinding "+rb.Namespace+"/"+rb.Name] = role
			rb.RoleRef = standIn
			rbs = append(rbs, rb)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	return psp.NewAuthorizer(nil, []rbacv1.ClusterRole{standInRole}, rbs, crbs), names
}

// bootstrapClusterRoles are the ClusterRoles the apiserver creates and
// reconciles (plugin/pkg/auth/authorizer/rbac/bootstrappolicy), besides
// the controllers' system:controller:* roles.
var bootstrapClusterRoles = map[string]bool{
	"cluster-admin": true, "admin": true, "edit": true, "view": true,
	"system:aggregate-to-admin": true, "system:aggregate-to-edit": true, "system:aggregate-to-view": true,
	"system:auth-delegator": true, "system:basic-user": true, "system:discovery": true, "system:public-info-viewer": true,
	"system:certificates.k8s.io:certificatesigningrequests:nodeclient":     true,
	"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient": true,
	"system:certificates.k8s.io:kube-apiserver-client-approver":            true,
	"system:certificates.k8s.io:kube-apiserver-client-kubelet-approver":    true,
	"system:certificates.k8s.io:kubelet-serving-approver":                  true,
	"system:certificates.k8s.io:legacy-unknown-approver":                   true,
	"system:heapster": true, "system:kube-aggregator": true, "system:kube-controller-manager": true,
	"system:kube-dns": true, "system:kube-scheduler": true, "system:kubelet-api-admin": true,
	"system:monitoring": true, "system:node": true, "system:node-bootstrapper": true,
	"system:node-problem-detector": true, "system:node-proxier": true,
	"system:persistent-volume-provisioner": true, "system:service-account-issuer-discovery": true,
	"system:volume-scheduler": true,
}

func isBootstrapClusterRole(name string) bool {
	return bootstrapClusterRoles[name] || strings.HasPrefix(name, "system:controller:")
}

// danglingFor returns the dangling bindings that apply to any of the
// identities in the namespace, in the order RBAC visits them.
func (c *completeness) danglingFor(namespace string, identities ...psp.UserInfo) []string {
	if c.dangling == nil {
		return nil
	}
	var out []string
	for _, u := range identities {
		if u.Name == "" && len(u.Groups) == 0 {
			continue
		}
		for _, g := range c.dangling.Grants(u, namespace, standInRole.Name) {
			if g.Binding != "" && !contains(out, g.Binding) {
				out = append(out, g.Binding)
			}
		}
	}
	return out
}

// check records on the planned workload what its answer rests on that the
// input lacks; saFound tells whether its service account is in the input.
func (c *completeness) check(w *Workload, in *inventory.Workload, saFound bool) {
	ref := w.Ref()
	if c.clusterRead {
		w.addReason(ReasonClusterRead)
	}
	if c.noPSP {
		w.addReason(ReasonNoPSP)
	}
	if in.AdmittedBy != "" && !c.noPSP && !c.policies[in.AdmittedBy] {
		w.addMissing(Incomplete{Reason: ReasonMissingPSP, Object: "PodSecurityPolicy " + in.AdmittedBy,
			Message: fmt.Sprintf("%s: its kubernetes.io/psp annotation names PodSecurityPolicy %s, which is not in the input", ref, in.AdmittedBy)})
	}
	if sa := w.ServiceAccount; sa != "" && sa != psp.DefaultServiceAccount && !saFound {
		w.addMissing(Incomplete{Reason: ReasonMissingServiceAccount, Object: "ServiceAccount " + w.Namespace + "/" + sa,
			Message: fmt.Sprintf("%s: its service account %s/%s is not in the input (no pod is created without it)", ref, w.Namespace, sa)})
	}
	var identities []psp.UserInfo
	if w.ServiceAccount != "" {
		identities = append(identities, psp.ServiceAccountUser(w.Namespace, w.ServiceAccount))
	}
	w.danglingBindings = c.danglingFor(w.Namespace, append(identities, w.requester)...)
	if len(w.danglingBindings) > 0 {
		w.addReason(ReasonMissingRole)
	}
	if in.CreatorKind() == "" && !c.podCreator && in.AdmittedBy == "" && w.Rejected() && !c.noPSP {
		w.addMissing(Incomplete{Reason: ReasonUnknownPodCreator,
			Message: fmt.Sprintf("%s: no PSP its service account may use admits it, and who created it is unknown: the creator's grants count too (--pod-creator names the creator)", ref)})
	}
}

func (w *Workload) addReason(reason string) {
	if !contains(w.Incomplete, reason) {
		w.Incomplete = append(w.Incomplete, reason)
	}
}

func (w *Workload) addMissing(m Incomplete) {
	m.Namespace, m.Workload = w.Namespace, w.Ref()
	w.missing = append(w.missing, m)
	w.addReason(m.Reason)
}

// Unknown reports that no PSP admits the workload in the simulation, and
// that this rests on what the input lacks: it may well be running.
func (w *Workload) Unknown() bool { return w.Rejected() && len(w.Incomplete) > 0 }

// noUseGrant marks the namespace's rejected workloads when none of its
// subjects may use any PSP: its RBAC is most likely not in the input.
func noUseGrant(ns *Namespace, workloads []*Workload, c *completeness) *Incomplete {
	if c.noPSP || len(ns.Policies) > 0 {
		return nil
	}
	marked := 0
	for _, w := range workloads {
		if w.Rejected() {
			w.addReason(ReasonNoUseGrant)
			marked++
		}
	}
	if marked == 0 {
		return nil
	}
	return &Incomplete{Reason: ReasonNoUseGrant, Namespace: ns.Name,
		Message: fmt.Sprintf("namespace %s: none of its service accounts and none of its pods' creators may use any PSP of the input, so %d workload(s) no PSP admits may be running on grants the input lacks", ns.Name, marked)}
}

// missingRolesIn is one entry per dangling binding that applies to the
// namespace's workloads.
func (c *completeness) missingRolesIn(ns string, workloads []*Workload) []Incomplete {
	counts := map[string]int{}
	var order []string
	for _, w := range workloads {
		for _, b := range w.danglingBindings {
			if counts[b] == 0 {
				order = append(order, b)
			}
			counts[b]++
		}
	}
	out := make([]Incomplete, 0, len(order))
	for _, b := range order {
		role := c.missingRoles[b]
		out = append(out, Incomplete{Reason: ReasonMissingRole, Namespace: ns, Object: role,
			Message: fmt.Sprintf("namespace %s: %s binds %s, which is not in the input; it applies to the identities of %d workload(s) here, and may grant them use of a PSP", ns, b, role, counts[b])})
	}
	return out
}

// namespaceReasons are the distinct reasons of the namespace's own entries,
// of its workloads and of the read, in a fixed order.
func (c *completeness) namespaceReasons(own []Incomplete, workloads []*Workload) []string {
	seen := map[string]bool{ReasonClusterRead: c.clusterRead}
	for _, m := range own {
		seen[m.Reason] = true
	}
	for _, w := range workloads {
		for _, r := range w.Incomplete {
			seen[r] = true
		}
	}
	var out []string
	for _, r := range reasonOrder {
		if seen[r] {
			out = append(out, r)
		}
	}
	return out
}

var reasonOrder = []string{
	ReasonClusterRead, ReasonNoPSP, ReasonNoUseGrant, ReasonMissingRole,
	ReasonMissingServiceAccount, ReasonUnknownPodCreator, ReasonMissingPSP,
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
