package psp

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/psp2psa/psp2psa/internal/testcluster"
)

// TestSelectAgreesWithAPIServer is the differential test of PSP selection:
// each case stores a few PSPs and the RBAC that grants (or fails to grant)
// their use on a real v1.24.17 kube-apiserver with the PodSecurityPolicy
// plugin, creates probe pods as made-up users, and checks the server's
// outcome (admitted under which PSP with which security fields, rejected by
// PSP, or rejected by core validation) against Selector.Select on
// AdmissionPod, authorized by Authorizer.ForPod built from the PSPs and RBAC
// objects the server holds. Each probe also says which PSP should win, so a
// case proves what it is named after and cannot pass by both sides being
// wrong the same way.
//
// Cases run one after another, each deleting its cluster-scoped objects when
// it ends, so that a case granting every PSP sees only its own (and the sync
// PSP, which the model sees too).
func TestSelectAgreesWithAPIServer(t *testing.T) {
	cl := startSelectCluster(t)
	for _, tc := range selectE2ECases() {
		t.Run(tc.name, func(t *testing.T) { cl.run(t, tc) })
	}
}

// selectCase is a set of PSPs, the RBAC of the case, and the pods to try.
type selectCase struct {
	name string
	// policies are named by suffix; the test prefixes each with the case's
	// unique prefix, which keeps their name order, and stores them in the
	// order listed.
	policies []*PodSecurityPolicy
	rbac     func(e selectEnv) rbacFixture
	probes   []selectProbe
}

// selectProbe is one pod created in the case.
type selectProbe struct {
	name string
	// asStranger creates the pod as a user who may create pods but is
	// granted no PSP by the harness; otherwise the case's user (member of
	// the case's group) creates it.
	asStranger bool
	// serviceAccount is "sa" or "" for the default one.
	serviceAccount   string
	inOtherNamespace bool
	// key, when set, makes the pod run as the UID that only the keyed PSP
	// with this suffix admits (see keyedPolicies).
	key string
	pod func(*corev1.Pod)
	// want is the suffix of the PSP that should admit the pod, "" when it
	// should be rejected.
	want string
	// wantInvalid: the chosen PSP's pod fails core validation.
	wantInvalid bool
}

// selectEnv holds the names of one case.
type selectEnv struct {
	prefix      string // unique; starts every object and user name
	ns, otherNS string
	user, group string // the case's user and its certificate group
	stranger    string
}

func newSelectEnv() selectEnv {
	prefix := testcluster.UniqueName("s")
	return selectEnv{
		prefix: prefix, ns: prefix, otherNS: prefix + "-other",
		user: prefix + "-user", group: prefix + "-group", stranger: prefix + "-stranger",
	}
}

// name prefixes a suffix: a PSP's or an RBAC object's full name.
func (e selectEnv) name(suffix string) string { return e.prefix + "-" + suffix }

// useOnly is a ClusterRole allowing use of the case's PSP with the suffix.
func (e selectEnv) useOnly(suffix string) rbacv1.ClusterRole {
	return clusterRole(e.name("use-"+suffix), useRule(policyGroup, e.name(suffix)))
}

func (e selectEnv) requester(stranger bool) UserInfo {
	if stranger {
		return UserInfo{Name: e.stranger, Groups: []string{AuthenticatedGroup}}
	}
	return UserInfo{Name: e.user, Groups: []string{e.group, AuthenticatedGroup}}
}

const probeServiceAccount = "sa"

func selectE2ECases() []selectCase {
	return []selectCase{
		{
			name: "of two PSPs that admit the pod unchanged, the first by name wins",
			policies: []*PodSecurityPolicy{
				namedPolicy("b-privileged", nil), // stored first: creation order does not count
				namedPolicy("a-unprivileged", unprivileged),
			},
			rbac: func(e selectEnv) rbacFixture {
				role := clusterRole(e.name("use"), useRule(policyGroup, e.name("a-unprivileged"), e.name("b-privileged")))
				return rbacFixture{
					clusterRoles: []rbacv1.ClusterRole{role},
					rbs:          []rbacv1.RoleBinding{roleBinding(e.ns, e.name("use"), toClusterRole(role.Name), userSubject(e.user))},
				}
			},
			probes: []selectProbe{
				{name: "plain pod", want: "a-unprivileged"},
				{name: "plain pod with a service account the creator's grant covers", serviceAccount: probeServiceAccount, want: "a-unprivileged"},
				{name: "privileged pod, which only the second admits", pod: privilegedPod, want: "b-privileged"},
			},
		},
		{
			name: "a PSP that admits the pod unchanged beats an earlier one that mutates it",
			policies: []*PodSecurityPolicy{
				namedPolicy("a-defaults-uid", runsAsUserIn(1000, 2000)),
				namedPolicy("b-permissive", nil),
			},
			rbac: grantUser("a-defaults-uid", "b-permissive"),
			probes: []selectProbe{
				{name: "plain pod, which the first would mutate", want: "b-permissive"},
				{name: "pod already in the first's range is not mutated by it", pod: withUser(1500), want: "a-defaults-uid"},
			},
		},
		{
			name: "of two PSPs that both mutate the pod, the first by name wins",
			policies: []*PodSecurityPolicy{
				withAnnotations(namedPolicy("a-defaults-uid-seccomp-apparmor", runsAsUserIn(1000, 2000)), map[string]string{
					SeccompAllowedProfilesAnnotation:  "runtime/default",
					SeccompDefaultProfileAnnotation:   "runtime/default",
					AppArmorAllowedProfilesAnnotation: "runtime/default",
					AppArmorDefaultProfileAnnotation:  "runtime/default",
				}),
				namedPolicy("b-defaults-uid", runsAsUserIn(3000, 4000)),
			},
			rbac: grantUser("a-defaults-uid-seccomp-apparmor", "b-defaults-uid"),
			probes: []selectProbe{
				{name: "plain pod gets the first's defaults", want: "a-defaults-uid-seccomp-apparmor"},
				{name: "plain pod with a service account gets the first's defaults", serviceAccount: probeServiceAccount, want: "a-defaults-uid-seccomp-apparmor"},
				{name: "pod outside the first's range gets the second", pod: withUser(3500), want: "b-defaults-uid"},
			},
		},
		{
			name: "the pod's service account or its creator must be allowed to use the PSP",
			policies: []*PodSecurityPolicy{
				namedPolicy("a-for-sa", runsAsUserIn(1000, 1000)),
				namedPolicy("b-for-user", runsAsUserIn(2000, 2000)),
			},
			rbac: func(e selectEnv) rbacFixture {
				forSA, forUser := e.useOnly("a-for-sa"), e.useOnly("b-for-user")
				return rbacFixture{
					clusterRoles: []rbacv1.ClusterRole{forSA, forUser},
					rbs: []rbacv1.RoleBinding{
						roleBinding(e.ns, forSA.Name, toClusterRole(forSA.Name), saSubject(e.ns, probeServiceAccount)),
						roleBinding(e.ns, forUser.Name, toClusterRole(forUser.Name), userSubject(e.user)),
					},
				}
			},
			probes: []selectProbe{
				{name: "both granted: the first mutating by name", serviceAccount: probeServiceAccount, want: "a-for-sa"},
				{name: "only the creator granted", want: "b-for-user"},
				{name: "only the service account granted", asStranger: true, serviceAccount: probeServiceAccount, want: "a-for-sa"},
				{name: "neither granted: rejected", asStranger: true},
			},
		},
		{
			name:     "grants to groups",
			policies: keyedPolicies("a-user-group", "b-namespace-sas", "c-all-sas", "d-other-namespace-sas", "e-authenticated"),
			rbac: func(e selectEnv) rbacFixture {
				var f rbacFixture
				for _, g := range []struct{ suffix, group string }{
					{"a-user-group", e.group},
					{"b-namespace-sas", serviceAccountNamespacePrefix + e.ns},
					{"d-other-namespace-sas", serviceAccountNamespacePrefix + e.otherNS},
					{"e-authenticated", AuthenticatedGroup},
				} {
					role := e.useOnly(g.suffix)
					f.clusterRoles = append(f.clusterRoles, role)
					f.rbs = append(f.rbs, roleBinding(e.ns, role.Name, toClusterRole(role.Name), groupSubject(g.group)))
				}
				allSAs := e.useOnly("c-all-sas")
				f.clusterRoles = append(f.clusterRoles, allSAs)
				f.crbs = append(f.crbs, clusterRoleBinding(allSAs.Name, toClusterRole(allSAs.Name), groupSubject(AllServiceAccountsGroup)))
				return f
			},
			probes: []selectProbe{
				{name: "the creator's certificate group", key: "a-user-group", want: "a-user-group"},
				{name: "a creator outside that group", asStranger: true, key: "a-user-group"},
				{name: "the namespace's service accounts, a named one", asStranger: true, serviceAccount: probeServiceAccount, key: "b-namespace-sas", want: "b-namespace-sas"},
				{name: "the namespace's service accounts, the default one", asStranger: true, key: "b-namespace-sas", want: "b-namespace-sas"},
				{name: "all service accounts, from a ClusterRoleBinding, in another namespace", asStranger: true, inOtherNamespace: true, key: "c-all-sas", want: "c-all-sas"},
				{name: "another namespace's service accounts group", asStranger: true, serviceAccount: probeServiceAccount, key: "d-other-namespace-sas"},
				{name: "system:authenticated holds every creator", asStranger: true, key: "e-authenticated", want: "e-authenticated"},
			},
		},
		{
			name: "which rules allow use",
			policies: keyedPolicies("a-policy-group", "b-extensions-group", "c-any-group", "d-any-resource", "e-any-verb",
				"f-other-verbs", "g-core-group", "h-other-name", "i-no-resource-names"),
			rbac: func(e selectEnv) rbacFixture {
				rule := func(groups, resources, verbs []string, name string) rbacv1.PolicyRule {
					return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs, ResourceNames: []string{name}}
				}
				psps, use := []string{pspResource}, []string{useVerb}
				named := clusterRole(e.name("named"),
					rule(policyGroup, psps, use, e.name("a-policy-group")),
					rule(extensionsGroup, psps, use, e.name("b-extensions-group")),
					rule([]string{rbacv1.APIGroupAll}, psps, use, e.name("c-any-group")),
					rule(policyGroup, []string{rbacv1.ResourceAll}, use, e.name("d-any-resource")),
					rule(policyGroup, psps, []string{rbacv1.VerbAll}, e.name("e-any-verb")),
					rule(policyGroup, psps, []string{"get", "list", "watch"}, e.name("f-other-verbs")),
					rule([]string{""}, psps, use, e.name("g-core-group")),
					rule(policyGroup, psps, use, e.name("h-other-name")+"x"),
				)
				all := clusterRole(e.name("all"), useRule(policyGroup))
				return rbacFixture{
					clusterRoles: []rbacv1.ClusterRole{named, all},
					crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding(named.Name, toClusterRole(named.Name), userSubject(e.user))},
					rbs:          []rbacv1.RoleBinding{roleBinding(e.ns, all.Name, toClusterRole(all.Name), userSubject(e.stranger))},
				}
			},
			probes: []selectProbe{
				{name: "group policy", key: "a-policy-group", want: "a-policy-group"},
				{name: "group extensions", key: "b-extensions-group", want: "b-extensions-group"},
				{name: "any group", key: "c-any-group", want: "c-any-group"},
				{name: "any resource", key: "d-any-resource", want: "d-any-resource"},
				{name: "any verb", key: "e-any-verb", want: "e-any-verb"},
				{name: "verbs without use", key: "f-other-verbs"},
				{name: "the core group", key: "g-core-group"},
				{name: "resourceNames naming another PSP", key: "h-other-name"},
				{name: "no resourceNames allows every PSP", asStranger: true, key: "i-no-resource-names", want: "i-no-resource-names"},
				{name: "no resourceNames allows every PSP, also one named for someone else", asStranger: true, key: "a-policy-group", want: "a-policy-group"},
			},
		},
		{
			name:     "where bindings grant",
			policies: keyedPolicies("a-rolebinding-to-clusterrole", "b-clusterrolebinding", "c-rolebinding-in-other-namespace", "d-role", "e-role-of-other-namespace"),
			rbac: func(e selectEnv) rbacFixture {
				a, b, c := e.useOnly("a-rolebinding-to-clusterrole"), e.useOnly("b-clusterrolebinding"), e.useOnly("c-rolebinding-in-other-namespace")
				d := namespacedRole(e.ns, e.name("use-d"), useRule(policyGroup, e.name("d-role")))
				// A RoleBinding resolves a Role in its own namespace only.
				other := namespacedRole(e.otherNS, e.name("use-e"), useRule(policyGroup, e.name("e-role-of-other-namespace")))
				user := userSubject(e.user)
				return rbacFixture{
					clusterRoles: []rbacv1.ClusterRole{a, b, c},
					roles:        []rbacv1.Role{d, other},
					crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding(b.Name, toClusterRole(b.Name), user)},
					rbs: []rbacv1.RoleBinding{
						roleBinding(e.ns, a.Name, toClusterRole(a.Name), user),
						roleBinding(e.otherNS, c.Name, toClusterRole(c.Name), user),
						roleBinding(e.ns, d.Name, toRole(d.Name), user),
						roleBinding(e.ns, other.Name, toRole(other.Name), user),
					},
				}
			},
			probes: []selectProbe{
				{name: "RoleBinding to a ClusterRole", key: "a-rolebinding-to-clusterrole", want: "a-rolebinding-to-clusterrole"},
				{name: "ClusterRoleBinding", key: "b-clusterrolebinding", want: "b-clusterrolebinding"},
				{name: "ClusterRoleBinding, in another namespace", inOtherNamespace: true, key: "b-clusterrolebinding", want: "b-clusterrolebinding"},
				{name: "RoleBinding in another namespace does not grant here", key: "c-rolebinding-in-other-namespace"},
				{name: "RoleBinding in another namespace grants there", inOtherNamespace: true, key: "c-rolebinding-in-other-namespace", want: "c-rolebinding-in-other-namespace"},
				{name: "RoleBinding to a Role", key: "d-role", want: "d-role"},
				{name: "RoleBinding to a Role that exists only in another namespace", key: "e-role-of-other-namespace"},
			},
		},
		{
			name:     "service account subjects",
			policies: keyedPolicies("a-explicit-namespace", "b-other-namespaces-sa", "c-clusterrolebinding", "d-bound-in-other-namespace", "e-no-namespace"),
			rbac: func(e selectEnv) rbacFixture {
				var f rbacFixture
				for _, g := range []struct {
					suffix, bindingNS string
					subject           rbacv1.Subject
				}{
					{"a-explicit-namespace", e.ns, saSubject(e.ns, probeServiceAccount)},
					{"b-other-namespaces-sa", e.ns, saSubject(e.otherNS, probeServiceAccount)},
					{"c-clusterrolebinding", "", saSubject(e.ns, probeServiceAccount)},
					{"d-bound-in-other-namespace", e.otherNS, saSubject(e.ns, probeServiceAccount)},
					// Without a namespace the subject takes the RoleBinding's.
					{"e-no-namespace", e.ns, saSubject("", probeServiceAccount)},
				} {
					role := e.useOnly(g.suffix)
					f.clusterRoles = append(f.clusterRoles, role)
					if g.bindingNS == "" {
						f.crbs = append(f.crbs, clusterRoleBinding(role.Name, toClusterRole(role.Name), g.subject))
					} else {
						f.rbs = append(f.rbs, roleBinding(g.bindingNS, role.Name, toClusterRole(role.Name), g.subject))
					}
				}
				return f
			},
			probes: []selectProbe{
				{name: "RoleBinding naming the service account with its namespace", asStranger: true, serviceAccount: probeServiceAccount, key: "a-explicit-namespace", want: "a-explicit-namespace"},
				{name: "the default service account is not the one named", asStranger: true, key: "a-explicit-namespace"},
				{name: "RoleBinding naming a same-named service account of another namespace", asStranger: true, serviceAccount: probeServiceAccount, key: "b-other-namespaces-sa"},
				{name: "ClusterRoleBinding naming the service account", asStranger: true, serviceAccount: probeServiceAccount, key: "c-clusterrolebinding", want: "c-clusterrolebinding"},
				{name: "RoleBinding in another namespace naming the service account", asStranger: true, serviceAccount: probeServiceAccount, key: "d-bound-in-other-namespace"},
				{name: "RoleBinding naming the service account without a namespace", asStranger: true, serviceAccount: probeServiceAccount, key: "e-no-namespace", want: "e-no-namespace"},
			},
		},
		{
			name: "a PSP the pod may not use is passed over",
			policies: []*PodSecurityPolicy{
				namedPolicy("a-permissive-not-granted", nil),
				namedPolicy("b-defaults-uid", runsAsUserIn(1000, 2000)),
				namedPolicy("c-permissive-for-sa", nil),
			},
			rbac: func(e selectEnv) rbacFixture {
				forUser, forSA := e.useOnly("b-defaults-uid"), e.useOnly("c-permissive-for-sa")
				return rbacFixture{
					clusterRoles: []rbacv1.ClusterRole{forUser, forSA},
					rbs: []rbacv1.RoleBinding{
						roleBinding(e.ns, forUser.Name, toClusterRole(forUser.Name), userSubject(e.user)),
						roleBinding(e.ns, forSA.Name, toClusterRole(forSA.Name), saSubject(e.ns, probeServiceAccount)),
					},
				}
			},
			probes: []selectProbe{
				{name: "the only usable PSP mutates the pod", want: "b-defaults-uid"},
				{name: "the service account's PSP admits it unchanged", serviceAccount: probeServiceAccount, want: "c-permissive-for-sa"},
			},
		},
		{
			// The first mutating PSP is chosen on its own verdict; core
			// validation then rejects the pod it made, and the next PSP,
			// which would have admitted the pod, is never considered.
			name: "core validation of the chosen PSP's pod rejects it",
			policies: []*PodSecurityPolicy{
				namedPolicy("a-privileged-no-escalation", func(s *PodSecurityPolicySpec) { s.AllowPrivilegeEscalation = new(false) }),
				namedPolicy("b-privileged-defaults-uid", runsAsUserIn(1000, 2000)),
			},
			rbac: grantUser("a-privileged-no-escalation", "b-privileged-defaults-uid"),
			probes: []selectProbe{
				{name: "privileged pod", pod: privilegedPod, wantInvalid: true},
				{name: "plain pod gets allowPrivilegeEscalation false", want: "a-privileged-no-escalation"},
				{name: "privileged pod asking for escalation", pod: privilegedEscalatingPod, want: "b-privileged-defaults-uid"},
			},
		},
	}
}

// grantUser lets the case's user use the PSPs with the suffixes in the case's
// namespace.
func grantUser(suffixes ...string) func(e selectEnv) rbacFixture {
	return func(e selectEnv) rbacFixture {
		var names []string
		for _, s := range suffixes {
			names = append(names, e.name(s))
		}
		role := clusterRole(e.name("use"), useRule(policyGroup, names...))
		return rbacFixture{
			clusterRoles: []rbacv1.ClusterRole{role},
			rbs:          []rbacv1.RoleBinding{roleBinding(e.ns, role.Name, toClusterRole(role.Name), userSubject(e.user))},
		}
	}
}

func runsAsUserIn(minUID, maxUID int64) func(*PodSecurityPolicySpec) {
	return func(s *PodSecurityPolicySpec) {
		s.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: []IDRange{{Min: minUID, Max: maxUID}}}
	}
}

func withAnnotations(p *PodSecurityPolicy, annotations map[string]string) *PodSecurityPolicy {
	p.Annotations = annotations
	return p
}

// keyedPolicies are permissive PSPs that each admit only pods running as
// their key UID (keyUID of the suffix), unchanged: which of them admits a
// keyed pod shows exactly whether that PSP is usable.
func keyedPolicies(suffixes ...string) []*PodSecurityPolicy {
	var ps []*PodSecurityPolicy
	for _, s := range suffixes {
		uid := keyUID(s)
		ps = append(ps, namedPolicy(s, runsAsUserIn(uid, uid)))
	}
	return ps
}

// keyUID is 1001 for a suffix starting with "a", 1002 for "b", and so on.
func keyUID(suffix string) int64 { return 1000 + int64(suffix[0]-'a') + 1 }

func privilegedEscalatingPod(p *corev1.Pod) {
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true), AllowPrivilegeEscalation: new(true)}
}

// selectCluster is the server and an admin client.
type selectCluster struct {
	cluster *testcluster.Cluster
	admin   kubernetes.Interface
	dynamic dynamic.Interface
	store   *apiServer // for storePolicy
}

// startSelectCluster starts a v1.24 cluster for this test, or skips: in
// -short mode, or when hack/testservers/build.sh has not been run (unless CI
// is set).
func startSelectCluster(t *testing.T) *selectCluster {
	t.Helper()
	c := testcluster.Private(t, "v1.24")
	config := quiet(c.AdminConfig())
	cl := &selectCluster{cluster: c, admin: kubernetes.NewForConfigOrDie(config), dynamic: dynamic.NewForConfigOrDie(config)}
	cl.store = &apiServer{dynamic: cl.dynamic}
	return cl
}

// quiet drops PSP's deprecation warnings and lifts client-side throttling.
func quiet(config *rest.Config) *rest.Config {
	config.WarningHandler = rest.NoWarnings{}
	config.QPS, config.Burst = 500, 1000
	return config
}

func (cl *selectCluster) client(t *testing.T, user string, groups ...string) kubernetes.Interface {
	t.Helper()
	config, err := cl.cluster.UserConfig(user, groups...)
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(quiet(config))
}

// run sets the case up, waits until the server's admission sees all of it,
// and compares each probe.
func (cl *selectCluster) run(t *testing.T, tc selectCase) {
	e := newSelectEnv()
	cl.createNamespaces(t, e)
	for _, p := range tc.policies {
		stored := copyPSP(t, p)
		stored.Name = e.name(p.Name)
		if err := cl.store.storePolicy(t, stored); err != nil {
			t.Fatalf("the server refuses PSP %s: %v", stored.Name, err)
		}
	}
	cl.createRBAC(t, tc.rbac(e))
	cl.waitAdmissionSynced(t, e)
	model := cl.model(t)
	user, stranger := cl.client(t, e.user, e.group), cl.client(t, e.stranger)
	for i, p := range tc.probes {
		client := user
		if p.asStranger {
			client = stranger
		}
		t.Run(p.name, func(t *testing.T) {
			cl.probe(t, e, model, client, "probe-"+strconv.Itoa(i), p)
		})
	}
}

// createNamespaces makes the case's two namespaces, each with the default
// and the probe service account and a RoleBinding that lets the user and
// the stranger create pods (and nothing about PSPs).
func (cl *selectCluster) createNamespaces(t *testing.T, e selectEnv) {
	t.Helper()
	ctx := context.Background()
	pods := clusterRole(e.name("pods"), rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}})
	var f rbacFixture
	f.clusterRoles = append(f.clusterRoles, pods)
	for _, ns := range []string{e.ns, e.otherNS} {
		if _, err := cl.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create namespace: %v", err)
		}
		t.Cleanup(func() { _ = cl.admin.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
		// No controller manager runs, so nobody else creates "default".
		for _, sa := range []string{DefaultServiceAccount, probeServiceAccount} {
			obj := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}
			if _, err := cl.admin.CoreV1().ServiceAccounts(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create service account: %v", err)
			}
		}
		f.rbs = append(f.rbs, roleBinding(ns, pods.Name, toClusterRole(pods.Name), userSubject(e.user), userSubject(e.stranger)))
	}
	cl.createRBAC(t, f)
}

// createRBAC creates the objects as admin; the cluster-scoped ones are
// deleted when the test ends, the namespaced ones go with their namespace.
func (cl *selectCluster) createRBAC(t *testing.T, f rbacFixture) {
	t.Helper()
	ctx, rbac := context.Background(), cl.admin.RbacV1()
	for i := range f.clusterRoles {
		r := &f.clusterRoles[i]
		if _, err := rbac.ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create ClusterRole %s: %v", r.Name, err)
		}
		t.Cleanup(func() { _ = rbac.ClusterRoles().Delete(context.Background(), r.Name, metav1.DeleteOptions{}) })
	}
	for i := range f.roles {
		r := &f.roles[i]
		if _, err := rbac.Roles(r.Namespace).Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create Role %s/%s: %v", r.Namespace, r.Name, err)
		}
	}
	for i := range f.crbs {
		b := &f.crbs[i]
		if _, err := rbac.ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create ClusterRoleBinding %s: %v", b.Name, err)
		}
		t.Cleanup(func() { _ = rbac.ClusterRoleBindings().Delete(context.Background(), b.Name, metav1.DeleteOptions{}) })
	}
	for i := range f.rbs {
		b := &f.rbs[i]
		if _, err := rbac.RoleBindings(b.Namespace).Create(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create RoleBinding %s/%s: %v", b.Namespace, b.Name, err)
		}
	}
}

// waitAdmissionSynced returns once PSP admission and RBAC see every object
// created so far, including the deletions of earlier cases. Each informer
// delivers the events of its resource in order, so once a PSP, ClusterRole,
// ClusterRoleBinding, Role and RoleBinding created last are all in effect,
// everything before them is too. They grant a sync user a sync PSP that
// sorts first and admits its pod unchanged; that PSP admits no probe pod
// (it allows no volumes, and probes mount the service account token), and
// the model sees it like every other PSP.
func (cl *selectCluster) waitAdmissionSynced(t *testing.T, e selectEnv) {
	t.Helper()
	name := "0sync-" + e.prefix
	syncUser := e.name("sync")
	policy := namedPolicy(name, func(s *PodSecurityPolicySpec) { s.Volumes = nil })
	if err := cl.store.storePolicy(t, policy); err != nil {
		t.Fatalf("the server refuses the sync PSP: %v", err)
	}
	pods := namespacedRole(e.ns, name, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}})
	cl.createRBAC(t, rbacFixture{
		clusterRoles: []rbacv1.ClusterRole{clusterRole(name, useRule(policyGroup, name))},
		crbs:         []rbacv1.ClusterRoleBinding{clusterRoleBinding(name, toClusterRole(name), userSubject(syncUser))},
		roles:        []rbacv1.Role{pods},
		rbs:          []rbacv1.RoleBinding{roleBinding(e.ns, name, toRole(name), userSubject(syncUser))},
	})
	client := cl.client(t, syncUser)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "sync", Namespace: e.ns},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: new(false),
			Containers:                   []corev1.Container{{Name: "app", Image: "nginx"}},
		},
	}
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var got *corev1.Pod
		got, err = client.CoreV1().Pods(e.ns).Create(context.Background(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil && got.Annotations[ValidatedPSPAnnotation] == name {
			return
		}
	}
	t.Fatalf("admission never caught up with the case's objects: last error %v", err)
}

// selectModel is the simulation over everything the server holds.
type selectModel struct {
	selector   *Selector
	authorizer *Authorizer
}

// model reads all PSPs and RBAC objects from the server, bootstrap RBAC
// included, and builds the Selector and Authorizer from them.
func (cl *selectCluster) model(t *testing.T) selectModel {
	t.Helper()
	ctx, opts := context.Background(), metav1.ListOptions{}
	list, err := cl.dynamic.Resource(testcluster.PSPResource).List(ctx, opts)
	if err != nil {
		t.Fatalf("list PSPs: %v", err)
	}
	var policies []*PodSecurityPolicy
	for _, item := range list.Items {
		raw, err := item.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		p := &PodSecurityPolicy{}
		if err := json.Unmarshal(raw, p); err != nil {
			t.Fatalf("decode PSP %s: %v", item.GetName(), err)
		}
		policies = append(policies, p)
	}
	rbac := cl.admin.RbacV1()
	roles, err := rbac.Roles("").List(ctx, opts)
	if err != nil {
		t.Fatalf("list Roles: %v", err)
	}
	clusterRoles, err := rbac.ClusterRoles().List(ctx, opts)
	if err != nil {
		t.Fatalf("list ClusterRoles: %v", err)
	}
	rbs, err := rbac.RoleBindings("").List(ctx, opts)
	if err != nil {
		t.Fatalf("list RoleBindings: %v", err)
	}
	crbs, err := rbac.ClusterRoleBindings().List(ctx, opts)
	if err != nil {
		t.Fatalf("list ClusterRoleBindings: %v", err)
	}
	return selectModel{
		selector:   NewSelector(policies),
		authorizer: NewAuthorizer(roles.Items, clusterRoles.Items, rbs.Items, crbs.Items),
	}
}

// probe creates the probe's pod on the server, predicts the outcome, and
// compares both with each other and with the probe's expectation.
func (cl *selectCluster) probe(t *testing.T, e selectEnv, m selectModel, client kubernetes.Interface, podName string, p selectProbe) {
	ns := e.ns
	if p.inOtherNamespace {
		ns = e.otherNS
	}
	pod := probePod(ns, podName, p)
	want, chosen := cl.predict(t, m, pod, e.requester(p.asStranger))
	predictedInvalid := want.Pod == nil && chosen.Pod != nil

	wantPolicy := ""
	if p.want != "" {
		wantPolicy = e.name(p.want)
	}
	if want.Policy != wantPolicy || predictedInvalid != p.wantInvalid {
		t.Errorf("Select chose %q (core-invalid %v), the case expects %q (core-invalid %v)",
			want.Policy, predictedInvalid, wantPolicy, p.wantInvalid)
	}

	ctx := context.Background()
	_, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	switch {
	case err == nil:
		got, err := cl.admin.CoreV1().Pods(ns).Get(ctx, podName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("read back the pod: %v", err)
		}
		compareAdmitted(t, want, got)
	case apierrors.IsInvalid(err):
		if !predictedInvalid {
			t.Fatalf("the server finds the admitted pod invalid, Select predicts %s: %v", describeDecision(want), err)
		}
		expectErrors(t, err.Error(), CoreSecurityContextErrors(chosen.Pod))
	case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "PodSecurityPolicy: unable to admit pod"):
		if want.Pod != nil || predictedInvalid {
			t.Fatalf("PSP admission rejects the pod, Select predicts %s: %v", describeDecision(want), err)
		}
		// The server lists the errors of every PSP the pod may use.
		var rejections field.ErrorList
		for _, r := range want.Rejections {
			rejections = append(rejections, r.Errors...)
		}
		expectErrors(t, err.Error(), rejections)
	default:
		t.Fatalf("create the pod: %v", err)
	}
}

// probePod is a pod with one container and nothing else but what the probe
// sets.
func probePod(ns, name string, p selectProbe) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			ServiceAccountName: p.serviceAccount,
			Containers:         []corev1.Container{{Name: "app", Image: "nginx"}},
		},
	}
	if p.key != "" {
		withUser(keyUID(p.key))(pod)
	}
	if p.pod != nil {
		p.pod(pod)
	}
	return pod
}

// predict runs the simulation on the pod as the requester creates it: the
// Decision, and the PSP chosen before core validation (which differs only
// when core validation rejects the chosen PSP's pod).
func (cl *selectCluster) predict(t *testing.T, m selectModel, pod *corev1.Pod, requester UserInfo) (want, chosen Decision) {
	t.Helper()
	saName := pod.Spec.ServiceAccountName
	if saName == "" {
		saName = DefaultServiceAccount
	}
	sa, err := cl.admin.CoreV1().ServiceAccounts(pod.Namespace).Get(context.Background(), saName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get service account: %v", err)
	}
	template := &corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}
	admitted := AdmissionPod(pod.Namespace, template, sa)
	authorized := m.authorizer.ForPod(pod.Namespace, admitted.Spec.ServiceAccountName, requester)
	return m.selector.Select(admitted, authorized), m.selector.choose(admitted, authorized)
}

func describeDecision(d Decision) string {
	if d.Pod == nil {
		return "a rejection"
	}
	return "admission under " + d.Policy
}

func compareAdmitted(t *testing.T, want Decision, got *corev1.Pod) {
	t.Helper()
	gotPolicy := got.Annotations[ValidatedPSPAnnotation]
	if want.Pod == nil {
		t.Fatalf("the server admits the pod under %q, Select rejects it: %v", gotPolicy, want.Rejections)
	}
	if gotPolicy != want.Policy {
		t.Fatalf("the server admits the pod under %q, Select under %q", gotPolicy, want.Policy)
	}
	if w, g := securityViewOf(want.Pod), securityViewOf(got); !apiequality.Semantic.DeepEqual(w, g) {
		t.Errorf("the admitted pods differ:\n%s", yamlDiff(w, g))
	}
}

// expectErrors checks that the server's message holds exactly the errors,
// each as "path: type" and detail.
func expectErrors(t *testing.T, msg string, errs field.ErrorList) {
	t.Helper()
	for _, e := range errs {
		if !strings.Contains(msg, e.Field+": "+e.Type.String()) || !strings.Contains(msg, e.Detail) {
			t.Errorf("server message lacks %q:\n%s", e.Error(), msg)
		}
	}
	if n := countErrorTypes(msg); n != len(errs) {
		t.Errorf("server reports %d errors, Select %d:\n%s", n, len(errs), msg)
	}
}
