package relabel

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/inventory"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestMain(m *testing.M) { os.Exit(testcluster.Main(m, "v1.37")) }

const probeLabel = "pod-security.kubernetes.io/enforce"

// relabelCase is a user with some RBAC, and how it tries to change the
// enforce label of namespace "a" (and, as the control, of "b").
type relabelCase struct {
	name string
	// rules are granted through a ClusterRole, bound cluster-wide or, with
	// inNamespace, by a RoleBinding in "a" (a Role there with asRole).
	rules       []rbacv1.PolicyRule
	inNamespace bool
	asRole      bool
	// extra rules go in the same role.
	extra []rbacv1.PolicyRule
	// escalate is how the user turns its grant into a label change before
	// trying the namespace itself.
	escalate func(t *testing.T, c *env, cs kubernetes.Interface)
	// target, when set, is another subject, which may patch the namespace
	// it names ("a" or "b") and which the user may try to impersonate.
	target *target
}

// target is a service account (in its namespace), a user, or with group
// the service accounts of its namespace, that may patch the namespace.
type target struct {
	serviceAccount bool
	group          bool
	inB            bool
}

// env is one case's user and namespaces on the shared apiserver.
type env struct {
	admin        kubernetes.Interface
	user         string
	a, b         string
	role         string
	userCfg      *rest.Config
	clusterAdmin bool
	// as is the user name of the case's target, once set up.
	as string
}

// TestRelabelAgreesWithTheAPIServer grants a user each kind of RBAC that
// Analyze judges, lets it try every way of changing a Pod Security label
// a client has (update, patch, the status and finalize subresources, and
// the escalations Analyze names), and checks that Analyze predicted
// exactly the namespaces where the label changed.
func TestRelabelAgreesWithTheAPIServer(t *testing.T) {
	c := testcluster.Get(t, "v1.37")
	admin := kubernetes.NewForConfigOrDie(c.AdminConfig())
	for _, tc := range []relabelCase{
		{name: "update namespaces cluster-wide", rules: rules("", "namespaces", "update", "get")},
		{name: "patch namespaces in one namespace", rules: rules("", "namespaces", "patch", "get"), inNamespace: true},
		{name: "update namespaces/status", rules: rules("", "namespaces/status", "update", "get")},
		{name: "update namespaces/finalize", rules: rules("", "namespaces/finalize", "update", "get")},
		{name: "read namespaces, write pods", rules: append(rules("", "namespaces", "get", "list"), rules("", "pods", "*")...)},
		{name: "update of another subresource", rules: rules("", "*/scale", "update")},
		{name: "bind cluster-admin and create rolebindings", inNamespace: true,
			rules: []rbacv1.PolicyRule{
				{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}, ResourceNames: []string{"cluster-admin"}},
				{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"rolebindings"}, Verbs: []string{"create"}},
			},
			escalate: bindClusterAdmin},
		{name: "escalate and update its own role", inNamespace: true, asRole: true,
			rules:    rules(rbacv1.GroupName, "roles", "escalate", "update", "get"),
			escalate: rewriteOwnRole},
		{name: "impersonate groups alone", rules: rules("", "groups", "impersonate"), escalate: impersonateMasters},
		{name: "impersonate users and groups", rules: rules("", "users", "impersonate"), escalate: impersonateMasters, extra: rules("", "groups", "impersonate")},
		{name: "impersonate the service accounts of a namespace, one of which relabels it", inNamespace: true,
			rules: rules("", "serviceaccounts", "impersonate"), target: &target{serviceAccount: true}, escalate: impersonateTarget},
		{name: "impersonate the service accounts of a namespace, not the one that relabels another", inNamespace: true,
			rules: rules("", "serviceaccounts", "impersonate"), target: &target{serviceAccount: true, inB: true}, escalate: impersonateTarget},
		{name: "impersonate a named user who relabels", target: &target{}, escalate: impersonateTarget},
		// The apiserver checks a service account's user name as the
		// service account: impersonating users is not enough.
		{name: "impersonate a service account to act as its namespace's group, which relabels it", inNamespace: true,
			rules: rules("", "serviceaccounts", "impersonate"), target: &target{group: true}, escalate: impersonateTarget},
		{name: "impersonate any user, not a service account that relabels",
			rules: rules("", "users", "impersonate"), target: &target{serviceAccount: true}, escalate: impersonateTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setUp(t, c, admin, tc)
			inv := e.inventory(t)
			res := Analyze(inv, nil, []string{e.a, e.b})
			predicted := map[string]bool{}
			for _, ns := range []string{e.a, e.b} {
				predicted[ns] = canRelabel(res, "User "+e.user, ns)
			}
			cs := kubernetes.NewForConfigOrDie(e.userCfg)
			if tc.escalate != nil {
				tc.escalate(t, e, cs)
			}
			for _, ns := range []string{e.a, e.b} {
				if got := e.tryRelabel(t, ns); got != predicted[ns] {
					t.Errorf("namespace %s: the apiserver let the label change: %v; Analyze predicted %v (%+v)", ns, got, predicted[ns], res)
				}
			}
		})
	}
}

func rules(group, resource string, verbs ...string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{APIGroups: []string{group}, Resources: []string{resource}, Verbs: verbs}}
}

func canRelabel(res *Result, subject, ns string) bool {
	has := func(gs []Grant) bool {
		return slices.ContainsFunc(gs, func(g Grant) bool { return g.Subject == subject })
	}
	if has(res.Cluster.Relabel) {
		return true
	}
	for _, s := range res.Namespaces {
		if s.Namespace == ns && has(s.Relabel) {
			return true
		}
	}
	return false
}

func setUp(t *testing.T, c *testcluster.Cluster, admin kubernetes.Interface, tc relabelCase) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{admin: admin, user: testcluster.UniqueName("relabel"), a: testcluster.UniqueName("ns-a"), b: testcluster.UniqueName("ns-b"), role: testcluster.UniqueName("role")}
	for _, ns := range []string{e.a, e.b} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: e.user}}
	tc.rules = append(slices.Clone(tc.rules), tc.extra...)
	if tc.target != nil {
		setUpTarget(t, e, tc)
		if !tc.target.serviceAccount && !tc.target.group {
			tc.rules = append(tc.rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"users"}, Verbs: []string{"impersonate"}, ResourceNames: []string{e.as}})
		}
	}
	var err error
	switch {
	case tc.asRole:
		_, err = admin.RbacV1().Roles(e.a).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: e.role}, Rules: tc.rules}, metav1.CreateOptions{})
		if err == nil {
			_, err = admin.RbacV1().RoleBindings(e.a).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: e.role},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: e.role}, Subjects: subject}, metav1.CreateOptions{})
		}
	default:
		_, err = admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: e.role}, Rules: tc.rules}, metav1.CreateOptions{})
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: e.role}
		if err == nil && tc.inNamespace {
			_, err = admin.RbacV1().RoleBindings(e.a).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: e.role}, RoleRef: ref, Subjects: subject}, metav1.CreateOptions{})
		} else if err == nil {
			_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: e.role}, RoleRef: ref, Subjects: subject}, metav1.CreateOptions{})
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if e.userCfg, err = c.UserConfig(e.user); err != nil {
		t.Fatal(err)
	}
	// RBAC reads bindings through informers: wait until the grant shows.
	time.Sleep(1500 * time.Millisecond)
	return e
}

// setUpTarget makes the case's target: a service account, or a user, with
// a RoleBinding that lets it patch its namespace (ClusterRole ROLE-target).
func setUpTarget(t *testing.T, e *env, tc relabelCase) {
	t.Helper()
	ctx := context.Background()
	ns := e.a
	if tc.target.inB {
		ns = e.b
	}
	name := testcluster.UniqueName("target")
	subject := rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
	e.as = name
	switch {
	case tc.target.group:
		// Any service account of the namespace is in its group, one that
		// does not exist too.
		subject = rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:serviceaccounts:" + ns}
		e.as = "system:serviceaccount:" + ns + ":" + name
	case tc.target.serviceAccount:
		if _, err := e.admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		subject = rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}
		e.as = "system:serviceaccount:" + ns + ":" + name
	}
	role := e.role + "-target"
	if _, err := e.admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: role},
		Rules: rules("", "namespaces", "patch", "get")}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects: []rbacv1.Subject{subject}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// inventory is the case's RBAC as the cluster holds it, read back: its
// roles, and every binding of its two namespaces.
func (e *env) inventory(t *testing.T) *inventory.Inventory {
	t.Helper()
	ctx := context.Background()
	inv := &inventory.Inventory{}
	for _, name := range []string{e.role, e.role + "-target"} {
		if cr, err := e.admin.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{}); err == nil {
			inv.ClusterRoles = append(inv.ClusterRoles, *cr)
		}
	}
	if crb, err := e.admin.RbacV1().ClusterRoleBindings().Get(ctx, e.role, metav1.GetOptions{}); err == nil {
		inv.ClusterRoleBindings = append(inv.ClusterRoleBindings, *crb)
	}
	if r, err := e.admin.RbacV1().Roles(e.a).Get(ctx, e.role, metav1.GetOptions{}); err == nil {
		inv.Roles = append(inv.Roles, *r)
	}
	for _, ns := range []string{e.a, e.b} {
		rbs, err := e.admin.RbacV1().RoleBindings(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		inv.RoleBindings = append(inv.RoleBindings, rbs.Items...)
	}
	return inv
}

// tryRelabel tries, as the user (or, after impersonateMasters, as whom it
// impersonates), each way a client changes a namespace's labels, and
// reports whether the enforce label changed.
func (e *env) tryRelabel(t *testing.T, ns string) bool {
	t.Helper()
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(e.userCfg)
	set := func(n *corev1.Namespace, v string) {
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		n.Labels[probeLabel] = v
	}
	attempts := []func() error{
		func() error {
			patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{probeLabel: "privileged"}}})
			_, err := cs.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	}
	for _, write := range []func(*corev1.Namespace) error{
		func(n *corev1.Namespace) error {
			_, err := cs.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{})
			return err
		},
		func(n *corev1.Namespace) error {
			_, err := cs.CoreV1().Namespaces().UpdateStatus(ctx, n, metav1.UpdateOptions{})
			return err
		},
		func(n *corev1.Namespace) error {
			_, err := cs.CoreV1().Namespaces().Finalize(ctx, n, metav1.UpdateOptions{})
			return err
		},
	} {
		attempts = append(attempts, func() error {
			n, err := e.admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				return err
			}
			set(n, "privileged")
			return write(n)
		})
	}
	for _, try := range attempts {
		_ = try()
		got, err := e.admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Labels[probeLabel] == "privileged" {
			// Put it back for the next way.
			set(got, "restricted")
			if _, err := e.admin.CoreV1().Namespaces().Update(ctx, got, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			return true
		}
	}
	return false
}

// bindClusterAdmin binds cluster-admin to the user in namespace "a".
func bindClusterAdmin(t *testing.T, e *env, cs kubernetes.Interface) {
	_, err := cs.RbacV1().RoleBindings(e.a).Create(context.Background(), &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "self-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: e.user}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("binding cluster-admin: %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
}

// rewriteOwnRole adds update of namespaces to the role bound to the user.
func rewriteOwnRole(t *testing.T, e *env, cs kubernetes.Interface) {
	ctx := context.Background()
	r, err := cs.RbacV1().Roles(e.a).Get(ctx, e.role, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.Rules = append(r.Rules, rules("", "namespaces", "update", "patch", "get")...)
	if _, err := cs.RbacV1().Roles(e.a).Update(ctx, r, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("rewriting its role: %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
}

// impersonateTarget makes the user's requests as the case's target.
func impersonateTarget(t *testing.T, e *env, cs kubernetes.Interface) {
	e.userCfg = rest.CopyConfig(e.userCfg)
	e.userCfg.Impersonate = rest.ImpersonationConfig{UserName: e.as}
}

// impersonateMasters makes the user's requests as system:masters.
func impersonateMasters(t *testing.T, e *env, cs kubernetes.Interface) {
	e.userCfg = rest.CopyConfig(e.userCfg)
	e.userCfg.Impersonate = rest.ImpersonationConfig{UserName: e.user, Groups: []string{Superuser}}
}
