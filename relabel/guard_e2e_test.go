package relabel

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// TestGuardOnAPIServer applies the guard with Deny on a real v1.37
// apiserver: a member of the named group changes Pod Security labels,
// anyone else who may update namespaces may change every other label but
// not those, through the namespace or its status and finalize
// subresources, nor create a namespace with one.
func TestGuardOnAPIServer(t *testing.T) {
	c := testcluster.Get(t, "v1.37")
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(c.AdminConfig())
	// The guard applies to every namespace: this test has the cluster's
	// namespaces to itself while it runs, and removes it after.
	group := testcluster.UniqueName("label-admins")
	policy, binding := Guard([]string{group}, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny})
	if _, err := admin.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the apiserver refuses the policy: %v", err)
	}
	t.Cleanup(func() {
		_ = admin.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{})
		_ = admin.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, policy.Name, metav1.DeleteOptions{})
	})
	if _, err := admin.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := testcluster.UniqueName("ns-writer")
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: role},
		Rules: rules("", "*", "get", "create", "update", "patch")}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.RbacV1().ClusterRoleBindings().Delete(ctx, role, metav1.DeleteOptions{}) })
	ns := testcluster.UniqueName("guarded")
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
		Labels: map[string]string{probeLabel: "restricted", "team": "a"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	memberCfg, _ := c.UserConfig(testcluster.UniqueName("member"), group)
	otherCfg, _ := c.UserConfig(testcluster.UniqueName("other"), "developers")
	member, other := kubernetes.NewForConfigOrDie(memberCfg), kubernetes.NewForConfigOrDie(otherCfg)

	label := func(cs kubernetes.Interface, key, value string) error {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{key: value}}})
		_, err := cs.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, patch, metav1.PatchOptions{})
		return err
	}
	// RBAC and the policy reach their caches: wait until the other user
	// may patch a plain label.
	for deadline := time.Now().Add(15 * time.Second); label(other, "team", "b") != nil; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the other user never may patch a label: %v", label(other, "team", "b"))
		}
	}
	for deadline := time.Now().Add(15 * time.Second); label(other, probeLabel, "privileged") == nil; time.Sleep(200 * time.Millisecond) {
		_ = label(admin, probeLabel, "restricted")
		if time.Now().After(deadline) {
			t.Fatal("the policy never took effect")
		}
	}
	err := label(other, probeLabel, "privileged")
	if err == nil || !strings.Contains(err.Error(), "only members of "+group) {
		t.Errorf("the other user relabelled: %v", err)
	}
	n, _ := admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	n.Labels[probeLabel] = "privileged"
	if _, err := other.CoreV1().Namespaces().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err == nil {
		t.Error("the other user relabelled through namespaces/status")
	}
	if _, err := other.CoreV1().Namespaces().Finalize(ctx, n, metav1.UpdateOptions{}); err == nil {
		t.Error("the other user relabelled through namespaces/finalize")
	}
	delete(n.Labels, probeLabel)
	if _, err := other.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err == nil {
		t.Error("the other user removed the label")
	}
	if _, err := other.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testcluster.UniqueName("new"),
		Labels: map[string]string{probeLabel: "privileged"}}}, metav1.CreateOptions{}); err == nil {
		t.Error("the other user created a namespace with the label")
	}
	if err := label(member, probeLabel, "baseline"); err != nil {
		t.Errorf("a member of %s may not relabel: %v", group, err)
	}
	if err := label(admin, probeLabel, "restricted"); err != nil {
		t.Errorf("system:masters may not relabel: %v", err)
	}
	got, _ := admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if got.Labels[probeLabel] != "restricted" || got.Labels["team"] != "b" {
		t.Errorf("labels: %v", got.Labels)
	}
}
