package testcluster

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// PSPResource is the PodSecurityPolicy API of a 1.24 server; the current
// k8s.io/api has no types for it.
var PSPResource = schema.GroupVersionResource{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies"}

// AdmitEveryPodUnchanged makes a server that runs PodSecurityPolicy
// admission (1.24) behave as if it ran none: one PSP that allows every
// pod and injects nothing, usable by every authenticated user and service
// account. It is what a cluster looks like once the PSPs that injected
// defaults are gone but the plugin is still on. Removed when the test ends.
func (c *Cluster) AdmitEveryPodUnchanged(t testing.TB) {
	t.Helper()
	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{} // the PSP API's deprecation notice
	name := UniqueName("admit-all")
	anyRule := map[string]any{"rule": "RunAsAny"}
	psp := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
		"metadata": map[string]any{
			"name": name,
			// Every seccomp profile and none; without the annotation a
			// pod naming a profile is rejected. AppArmor is not checked
			// without its annotation.
			"annotations": map[string]any{"seccomp.security.alpha.kubernetes.io/allowedProfileNames": "*"},
		},
		"spec": map[string]any{
			"privileged": true, "allowPrivilegeEscalation": true,
			"allowedCapabilities": []any{"*"}, "volumes": []any{"*"},
			"hostNetwork": true, "hostPID": true, "hostIPC": true,
			"hostPorts":            []any{map[string]any{"min": int64(0), "max": int64(65535)}},
			"allowedUnsafeSysctls": []any{"*"},
			"runAsUser":            anyRule, "seLinux": anyRule, "supplementalGroups": anyRule, "fsGroup": anyRule,
		},
	}}
	ctx := context.Background()
	dc := dynamic.NewForConfigOrDie(cfg)
	if _, err := dc.Resource(PSPResource).Create(ctx, psp, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PodSecurityPolicy %s: %v", name, err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: []string{name}, Verbs: []string{"use"}}},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRole %s: %v", name, err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:authenticated"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRoleBinding %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
		_ = dc.Resource(PSPResource).Delete(ctx, name, metav1.DeleteOptions{})
	})
}
