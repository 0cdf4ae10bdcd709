package testcluster_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

// testcluster.PSPResource is addressed dynamically because k8s.io/api v0.37 no longer has the
// policy/v1beta1 PodSecurityPolicy types.

const pspFSGroup = 2000

func TestMain(m *testing.M) {
	os.Exit(testcluster.Main(m, "v1.24", "v1.29", "v1.37"))
}

func TestServerVersions(t *testing.T) {
	for minor, want := range map[string]string{"v1.24": "v1.24.17", "v1.29": "v1.29.15", "v1.37": "v1.37.2"} {
		t.Run(minor, func(t *testing.T) {
			c := testcluster.Get(t, minor)
			info, err := mustClient(t, c.AdminConfig()).Discovery().ServerVersion()
			if err != nil {
				t.Fatalf("GET /version: %v", err)
			}
			if info.GitVersion != want || c.Version() != want || !strings.HasPrefix(info.GitVersion, minor+".") {
				t.Errorf("/version reports %q, Cluster.Version() %q; want %q", info.GitVersion, c.Version(), want)
			}
		})
	}
}

func TestKubeconfigContexts(t *testing.T) {
	c := testcluster.Get(t, "v1.37")
	for ctxName, wantUser := range map[string]string{
		testcluster.AdminContext:   "psp2psa-admin",
		testcluster.LimitedContext: "psp2psa-limited",
	} {
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: c.KubeconfigPath()},
			&clientcmd.ConfigOverrides{CurrentContext: ctxName},
		).ClientConfig()
		if err != nil {
			t.Fatalf("load context %s: %v", ctxName, err)
		}
		review, err := mustClient(t, cfg).AuthenticationV1().SelfSubjectReviews().
			Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("context %s: self subject review: %v", ctxName, err)
		}
		if got := review.Status.UserInfo.Username; got != wantUser {
			t.Errorf("context %s authenticates as %q, want %q", ctxName, got, wantUser)
		}
	}
}

func TestPodSecurityPolicyV124(t *testing.T) {
	c := testcluster.Get(t, "v1.24")
	ctx := context.Background()
	admin := mustClient(t, c.AdminConfig())
	limited := mustClient(t, c.LimitedConfig())

	pspName := testcluster.UniqueName("restricted")
	pspCfg := c.AdminConfig()
	pspCfg.WarningHandler = rest.NoWarnings{} // the API's deprecation notice is expected
	createPSP(t, dynamic.NewForConfigOrDie(pspCfg), pspName)
	useRole := createClusterRole(t, admin, rbacv1.PolicyRule{
		APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"},
		Verbs: []string{"use"}, ResourceNames: []string{pspName},
	})
	podsRole := createClusterRole(t, admin, rbacv1.PolicyRule{
		APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create", "get"},
	})

	t.Run("admitted and mutated by the usable PSP", func(t *testing.T) {
		ns := createNamespace(t, admin, nil)
		bindLimitedUser(t, admin, ns, podsRole, useRole)
		pod, err := limited.CoreV1().Pods(ns).Create(ctx, plainPod("web"), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create pod as limited user: %v", err)
		}
		if got := pod.Annotations["kubernetes.io/psp"]; got != pspName {
			t.Errorf("kubernetes.io/psp annotation = %q, want %q", got, pspName)
		}
		if sc := pod.Spec.SecurityContext; sc == nil || sc.FSGroup == nil || *sc.FSGroup != pspFSGroup {
			t.Errorf("fsGroup not defaulted to %d by MustRunAs: %+v", pspFSGroup, sc)
		}
	})

	t.Run("rejected without a usable PSP", func(t *testing.T) {
		ns := createNamespace(t, admin, nil)
		bindLimitedUser(t, admin, ns, podsRole)
		_, err := limited.CoreV1().Pods(ns).Create(ctx, plainPod("web"), metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PodSecurityPolicy: unable to admit pod") {
			t.Fatalf("want Forbidden by PodSecurityPolicy, got %v", err)
		}
	})
}

func TestPodSecurityAdmissionV137(t *testing.T) {
	c := testcluster.Get(t, "v1.37")
	ctx := context.Background()
	admin := mustClient(t, c.AdminConfig())
	ns := createNamespace(t, admin, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})

	_, err := admin.CoreV1().Pods(ns).Create(ctx, privilegedPod("priv"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Errorf("privileged pod: want Forbidden by PodSecurity, got %v", err)
	}
	if _, err := admin.CoreV1().Pods(ns).Create(ctx, restrictedPod("ok"), metav1.CreateOptions{}); err != nil {
		t.Errorf("restricted-compliant pod rejected: %v", err)
	}
}

// TestPodSecurityAdmissionV129 is the cluster between PSP and today: the
// PodSecurity plugin enforces namespace labels without any flag, the
// PodSecurityPolicy API is gone, and ValidatingAdmissionPolicy (beta in
// 1.29) is not served.
func TestPodSecurityAdmissionV129(t *testing.T) {
	c := testcluster.Get(t, "v1.29")
	ctx := context.Background()
	admin := mustClient(t, c.AdminConfig())
	ns := createNamespace(t, admin, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})

	_, err := admin.CoreV1().Pods(ns).Create(ctx, privilegedPod("priv"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "restricted:latest"`) {
		t.Errorf("privileged pod: want Forbidden by PodSecurity, got %v", err)
	}
	if _, err := admin.CoreV1().Pods(ns).Create(ctx, restrictedPod("ok"), metav1.CreateOptions{}); err != nil {
		t.Errorf("restricted-compliant pod rejected: %v", err)
	}
	_, err = dynamic.NewForConfigOrDie(c.AdminConfig()).Resource(testcluster.PSPResource).List(ctx, metav1.ListOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("listing PodSecurityPolicies: want NotFound (the API was removed in 1.25), got %v", err)
	}
	if _, err := admin.Discovery().ServerResourcesForGroupVersion("admissionregistration.k8s.io/v1beta1"); !apierrors.IsNotFound(err) {
		t.Errorf("admissionregistration.k8s.io/v1beta1: want NotFound (beta APIs are off by default), got %v", err)
	}
}

func TestPodSecurityDryRunWarningsV137(t *testing.T) {
	c := testcluster.Get(t, "v1.37")
	ctx := context.Background()
	admin := mustClient(t, c.AdminConfig())
	ns := createNamespace(t, admin, nil)
	if _, err := admin.CoreV1().Pods(ns).Create(ctx, privilegedPod("priv"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create privileged pod in unlabelled namespace: %v", err)
	}

	warnings := &warningRecorder{}
	cfg := c.AdminConfig()
	cfg.WarningHandler = warnings
	patch := []byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted"}}}`)
	_, err := mustClient(t, cfg).CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, patch,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("dry-run label patch: %v", err)
	}
	t.Logf("dry-run warnings: %q", warnings.all())
	if !warnings.contains(`violate the new PodSecurity enforce level "restricted:latest"`) {
		t.Errorf("no PodSecurity warning for existing pods; got %q", warnings.all())
	}
	got, err := admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get namespace: %v", err)
	}
	if _, ok := got.Labels["pod-security.kubernetes.io/enforce"]; ok {
		t.Errorf("dry-run patch persisted the label: %v", got.Labels)
	}
}

// warningRecorder collects Warning headers; client-go calls it from any
// goroutine that makes requests.
type warningRecorder struct {
	mu       sync.Mutex
	messages []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, message string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.messages = append(w.messages, message)
}

func (w *warningRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.messages...)
}

func (w *warningRecorder) contains(substr string) bool {
	for _, m := range w.all() {
		if strings.Contains(m, substr) {
			return true
		}
	}
	return false
}

func mustClient(t *testing.T, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("build client: %v", err)
	}
	return cs
}

// createNamespace makes a fresh namespace and its "default" ServiceAccount:
// with no controller-manager nobody else creates it, and the ServiceAccount
// admission plugin rejects pods whose ServiceAccount does not exist.
func createNamespace(t *testing.T, cs kubernetes.Interface, labels map[string]string) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testcluster.UniqueName("e2e"), Labels: labels}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := cs.CoreV1().ServiceAccounts(ns.Name).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create default service account: %v", err)
	}
	return ns.Name
}

func createPSP(t *testing.T, dc dynamic.Interface, name string) {
	t.Helper()
	psp := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy/v1beta1",
		"kind":       "PodSecurityPolicy",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"privileged":               false,
			"allowPrivilegeEscalation": false,
			"runAsUser":                map[string]any{"rule": "RunAsAny"},
			"seLinux":                  map[string]any{"rule": "RunAsAny"},
			"supplementalGroups":       map[string]any{"rule": "RunAsAny"},
			"fsGroup": map[string]any{
				"rule":   "MustRunAs",
				"ranges": []any{map[string]any{"min": int64(pspFSGroup), "max": int64(3000)}},
			},
			"volumes": []any{"configMap", "secret", "emptyDir", "projected", "downwardAPI"},
		},
	}}
	if _, err := dc.Resource(testcluster.PSPResource).Create(context.Background(), psp, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PodSecurityPolicy: %v", err)
	}
	t.Cleanup(func() {
		_ = dc.Resource(testcluster.PSPResource).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

func createClusterRole(t *testing.T, cs kubernetes.Interface, rule rbacv1.PolicyRule) string {
	t.Helper()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: testcluster.UniqueName("e2e")},
		Rules:      []rbacv1.PolicyRule{rule},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(context.Background(), role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRole: %v", err)
	}
	return role.Name
}

// bindLimitedUser grants the limited user the cluster roles within ns only.
func bindLimitedUser(t *testing.T, cs kubernetes.Interface, ns string, clusterRoles ...string) {
	t.Helper()
	ctx := context.Background()
	for _, role := range clusterRoles {
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "psp2psa-limited"}},
		}
		if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create RoleBinding %s/%s: %v", ns, role, err)
		}
		cr, err := cs.RbacV1().ClusterRoles().Get(ctx, role, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get ClusterRole %s: %v", role, err)
		}
		waitAllowed(t, cs, ns, cr.Rules[0])
	}
}

// waitAllowed polls until the authorizer grants the limited user the first
// verb on the first resource of rule: RBAC reads bindings through an
// informer, so a binding is not effective the moment it is created.
func waitAllowed(t *testing.T, cs kubernetes.Interface, ns string, rule rbacv1.PolicyRule) {
	t.Helper()
	attrs := &authorizationv1.ResourceAttributes{
		Namespace: ns,
		Verb:      rule.Verbs[0],
		Group:     rule.APIGroups[0],
		Resource:  rule.Resources[0],
	}
	if len(rule.ResourceNames) > 0 {
		attrs.Name = rule.ResourceNames[0]
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               "psp2psa-limited",
		Groups:             []string{"psp2psa:limited", "system:authenticated"},
		ResourceAttributes: attrs,
	}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		review, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
		if err == nil && review.Status.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("limited user never allowed %+v: err=%v", attrs, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func plainPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.example/app:1",
		}}},
	}
}

func privilegedPod(name string) *corev1.Pod {
	pod := plainPod(name)
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
	return pod
}

// restrictedPod satisfies every check of the restricted Pod Security Standard.
func restrictedPod(name string) *corev1.Pod {
	pod := plainPod(name)
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To[int64](1000),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	return pod
}
