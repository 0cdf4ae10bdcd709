package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/report"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// TestPlanFromClusterAndSnapshotCLIV124 runs the commands as a user would
// before upgrading: snapshot the cluster, plan from the cluster, plan from
// the snapshot (by flag and by path): the three plans are one.
func TestPlanFromClusterAndSnapshotCLIV124(t *testing.T) {
	c := testcluster.Private(t, "v1.24")
	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{}
	admin := kubernetes.NewForConfigOrDie(cfg)
	ns, pspName := admittedPod(t, c, admin, dynamic.NewForConfigOrDie(cfg))
	kc := c.KubeconfigPath()
	snap := filepath.Join(t.TempDir(), "snapshot.yaml")

	r := runCLI(t, "", "snapshot", "--kubeconfig", kc, "-f", snap)
	if r.code != exitOK || !strings.Contains(r.stderr, "to "+snap) || r.stdout != "" {
		t.Fatalf("snapshot: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	checkSnapshotFile(t, snap)

	live := runCLI(t, "", "plan", "--kubeconfig", kc, "-o", "json")
	byFlag := runCLI(t, "", "plan", "--from-snapshot", snap, "-o", "json")
	byPath := runCLI(t, "", "plan", snap, "-o", "json")
	for _, r := range []result{live, byFlag, byPath} {
		if r.code != exitOK {
			t.Fatalf("plan: exit %d: %s", r.code, r.stderr)
		}
	}
	// With no version flag the plan is for the cluster it came from: a
	// 1.24 server, which a v1.37 pin would pin to nothing.
	for what, r := range map[string]struct{ out, from string }{
		"live": {live.stdout, "cluster"}, "--from-snapshot": {byFlag.stdout, "snapshot"}, "SNAPSHOT": {byPath.stdout, "snapshot"},
	} {
		var p plan.Plan
		if err := json.Unmarshal([]byte(r.out), &p); err != nil {
			t.Fatal(err)
		}
		if p.Target.String() != "v1.24" || p.Target.From != r.from || p.PSSVersion != "v1.24" {
			t.Errorf("plan %s: target %s from %q, PSS %s; want v1.24 from %q, PSS v1.24", what, p.Target, p.Target.From, p.PSSVersion, r.from)
		}
		for _, ns := range p.Namespaces {
			for key, value := range ns.Labels {
				if strings.HasSuffix(key, "-version") && value != "v1.24" {
					t.Errorf("plan %s: %s: %s=%s, want v1.24", what, ns.Name, key, value)
				}
			}
		}
	}
	want := withoutSources(t, live.stdout)
	samePlan(t, "plan --from-snapshot", withoutSources(t, byFlag.stdout), want)
	samePlan(t, "plan SNAPSHOT", withoutSources(t, byPath.stdout), want)
	w := findWorkload(t, live.stdout, "Pod", ns, "web")
	if w.Annotation != pspName || w.AnnotationAgrees == nil || !*w.AnnotationAgrees {
		t.Errorf("pod web: annotation %q, simulated %q; want both %q", w.Annotation, w.AdmittedBy, pspName)
	}
	if w.Source.File != "cluster admin" {
		t.Errorf("a live workload's source file is %q, want the context", w.Source.File)
	}

	t.Run("-n reads one namespace", func(t *testing.T) {
		r := runCLI(t, "", "plan", "--kubeconfig", kc, "-n", ns, "-o", "json")
		var p plan.Plan
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || r.code != exitOK {
			t.Fatalf("exit %d, %v: %s", r.code, err, r.stderr)
		}
		for _, w := range p.Workloads {
			if w.Namespace != ns {
				t.Errorf("%s is outside %s", w.Ref(), ns)
			}
		}
		if len(p.Workloads) != 2 {
			t.Errorf("%d workloads in %s, want the pod and the deployment", len(p.Workloads), ns)
		}
	})

	t.Run("a bare pod admitted on its creator's grant alone", func(t *testing.T) {
		ns := creatorOnlyPod(t, c, admin, pspName)
		read := runCLI(t, "", "plan", "--kubeconfig", kc, "-n", ns, "-o", "json")
		if read.code != exitOK {
			t.Fatalf("exit %d: %s", read.code, read.stderr)
		}
		// Its service account may use no PSP; its kubernetes.io/psp
		// annotation says what its creator could.
		w := findWorkload(t, read.stdout, "Pod", ns, "web")
		if w.AdmittedBy != pspName || len(w.Incomplete) > 0 || len(w.Notes) != 1 || !strings.Contains(w.Notes[0], "as its kubernetes.io/psp annotation says") {
			t.Errorf("pod web: admitted by %q, incomplete %q, notes %q", w.AdmittedBy, w.Incomplete, w.Notes)
		}
		named := runCLI(t, "", "plan", "--kubeconfig", kc, "-n", ns, "--pod-creator", "user:psp2psa-limited", "-o", "json")
		if w := findWorkload(t, named.stdout, "Pod", ns, "web"); w.AdmittedBy != pspName || w.Requester != "psp2psa-limited" || len(w.Incomplete) > 0 {
			t.Errorf("--pod-creator: admitted by %q, requester %q, incomplete %q", w.AdmittedBy, w.Requester, w.Incomplete)
		}
		// Named as created by a user without a grant, the pod is one no
		// subject of the namespace may admit: its grants are what the
		// input lacks, so the answer is unknown, not a rejection.
		other := runCLI(t, "", "plan", "--kubeconfig", kc, "-n", ns, "--pod-creator", "user:someone-else", "-o", "json")
		if w := findWorkload(t, other.stdout, "Pod", ns, "web"); !w.Unknown() || !slices.Equal(w.Incomplete, []string{plan.ReasonNoUseGrant}) ||
			w.AnnotationAgrees == nil || *w.AnnotationAgrees {
			t.Errorf("created by a user without a grant: admitted by %q, incomplete %q; want unknown (no-use-grant), the annotation disagreeing", w.AdmittedBy, w.Incomplete)
		}
	})

	t.Run("convert reads the cluster's PSPs", func(t *testing.T) {
		r := runCLI(t, "", "convert", "--kubeconfig", kc, "-o", "json")
		var res struct{ Policies []struct{ Name string } }
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != exitOK {
			t.Fatalf("exit %d, %v: %s", r.code, err, r.stderr)
		}
		if len(res.Policies) != 1 || res.Policies[0].Name != pspName {
			t.Errorf("policies %+v, want %s", res.Policies, pspName)
		}
	})

	t.Run("a user who may not read RBAC gets an incomplete plan", func(t *testing.T) {
		noRBAC := userWithoutRBAC(t, c, admin)
		r := runCLI(t, "", "plan", "--kubeconfig", noRBAC, "-o", "json")
		var p plan.Plan
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || r.code != exitOK {
			t.Fatalf("exit %d, %v: %s", r.code, err, r.stderr)
		}
		want := []string{
			"rbac.authorization.k8s.io/v1 clusterroles: forbidden",
			"rbac.authorization.k8s.io/v1 clusterrolebindings: forbidden",
			"rbac.authorization.k8s.io/v1 roles: forbidden",
			"rbac.authorization.k8s.io/v1 rolebindings: forbidden",
		}
		if got := clusterReadMessages(p.Incomplete); !slices.Equal(got, want) {
			t.Errorf("incomplete (cluster read) %q, want %q", got, want)
		}
		if !strings.Contains(r.stderr, "warning: cannot read rbac.authorization.k8s.io/v1 roles: ") {
			t.Errorf("stderr lacks the reason:\n%s", r.stderr)
		}
		text := runCLI(t, "", "plan", "--kubeconfig", noRBAC)
		if !strings.Contains(text.stdout, "INCOMPLETE: rbac.authorization.k8s.io/v1 clusterroles: forbidden; ") {
			t.Errorf("the text plan does not say it is incomplete:\n%s", text.stdout)
		}

		snap := filepath.Join(t.TempDir(), "incomplete.yaml")
		if r := runCLI(t, "", "snapshot", "--kubeconfig", noRBAC, "-f", snap); r.code != exitOK {
			t.Fatalf("snapshot: exit %d: %s", r.code, r.stderr)
		}
		fromSnap := runCLI(t, "", "plan", "--from-snapshot", snap, "-o", "json")
		samePlan(t, "plan from the incomplete snapshot", withoutSources(t, fromSnap.stdout), withoutSources(t, r.stdout))
	})
}

// TestPlanFromClusterCLIV137: after the upgrade the cluster has no PSPs
// to give; the plan is made but says so, and says where to get them.
func TestPlanFromClusterCLIV137(t *testing.T) {
	c := testcluster.Private(t, "v1.37")
	r := runCLI(t, "", "plan", "--kubeconfig", c.KubeconfigPath())
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "INCOMPLETE: podsecuritypolicies: not served by this cluster (v1.37.2)") {
		t.Errorf("the plan does not say PSPs are missing:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "warning: this cluster (v1.37.2) no longer serves PodSecurityPolicy; take a snapshot with psp2psa snapshot before upgrading, or plan from manifests / --from-snapshot FILE") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	snap := runCLI(t, "", "snapshot", "--kubeconfig", c.KubeconfigPath())
	if snap.code != exitOK || !strings.HasPrefix(snap.stdout, "# psp2psa snapshot of admin (Kubernetes v1.37.2), all namespaces, taken ") ||
		!strings.Contains(snap.stdout, "\n# incomplete: podsecuritypolicies: not served by this cluster (v1.37.2)\n") {
		t.Errorf("snapshot to stdout: exit %d\n%s", snap.code, snap.stdout)
	}
}

// admittedPod makes a namespace where the limited user creates pod "web",
// admitted by a fresh PSP that sets fsGroup, and a Deployment; it returns
// the namespace and the PSP's name.
func admittedPod(t *testing.T, c *testcluster.Cluster, admin kubernetes.Interface, dyn dynamic.Interface) (string, string) {
	t.Helper()
	ctx := context.Background()
	pspName := testcluster.UniqueName("fsgroup")
	psp := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
		"metadata": map[string]any{"name": pspName},
		"spec": map[string]any{
			"runAsUser": map[string]any{"rule": "RunAsAny"}, "seLinux": map[string]any{"rule": "RunAsAny"},
			"supplementalGroups": map[string]any{"rule": "RunAsAny"},
			"fsGroup":            map[string]any{"rule": "MustRunAs", "ranges": []any{map[string]any{"min": int64(2000), "max": int64(3000)}}},
			"volumes":            []any{"projected", "emptyDir"},
		},
	}}
	must(t, "create PSP", func() error {
		_, err := dyn.Resource(testcluster.PSPResource).Create(ctx, psp, metav1.CreateOptions{})
		return err
	})
	ns := namespaceWithPSPPod(t, c, admin, "cli", pspName, true)
	dep := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "api"},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": "api"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "api"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "api", "image": "registry.example/api:1"}}}},
		},
	}}
	must(t, "create Deployment", func() error {
		_, err := dyn.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns).Create(ctx, dep, metav1.CreateOptions{})
		return err
	})
	return ns, pspName
}

// creatorOnlyPod makes a namespace where only the limited user may use
// the PSP, not the service accounts, and has the user create pod "web".
func creatorOnlyPod(t *testing.T, c *testcluster.Cluster, admin kubernetes.Interface, pspName string) string {
	t.Helper()
	return namespaceWithPSPPod(t, c, admin, "creator", pspName, false)
}

// namespaceWithPSPPod makes a namespace (named from prefix) with a default
// service account, where the limited user (and with serviceAccounts the
// namespace's service accounts) may use the PSP and the user may create
// pods, and has the user create pod "web", which the PSP must admit.
func namespaceWithPSPPod(t *testing.T, c *testcluster.Cluster, admin kubernetes.Interface, prefix, pspName string, serviceAccounts bool) string {
	t.Helper()
	ctx := context.Background()
	ns := testcluster.UniqueName(prefix)
	must(t, "create namespace", func() error {
		_, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		return err
	})
	must(t, "create service account", func() error {
		_, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
		return err
	})
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "psp"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{pspName}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}},
	}}
	must(t, "create Role", func() error { _, err := admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); return err })
	subjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "psp2psa-limited"}}
	if serviceAccounts {
		subjects = append(subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:serviceaccounts:" + ns})
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "psp"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "psp"},
		Subjects:   subjects,
	}
	must(t, "create RoleBinding", func() error {
		_, err := admin.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{})
		return err
	})
	waitAllowed(t, admin, "psp2psa-limited", authorizationv1.ResourceAttributes{Namespace: ns, Verb: "use", Group: "policy", Resource: "podsecuritypolicies", Name: pspName})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}}
	got, err := kubernetes.NewForConfigOrDie(c.LimitedConfig()).CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil || got.Annotations["kubernetes.io/psp"] != pspName {
		t.Fatalf("create pod as the limited user: %v (annotations %v)", err, got.GetAnnotations())
	}
	return ns
}

// userWithoutRBAC returns a kubeconfig of a fresh user bound to the
// shipped reader role minus its RBAC rule.
func userWithoutRBAC(t *testing.T, c *testcluster.Cluster, admin kubernetes.Interface) string {
	t.Helper()
	ctx := context.Background()
	user := testcluster.UniqueName("no-rbac")
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}}
	for _, r := range shippedReaderRules(t) {
		if !slices.Contains(r.APIGroups, rbacv1.GroupName) {
			role.Rules = append(role.Rules, r)
		}
	}
	must(t, "create ClusterRole", func() error {
		_, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
		return err
	})
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	must(t, "create ClusterRoleBinding", func() error {
		_, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
		return err
	})
	waitAllowed(t, admin, user, authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods"})
	path, err := c.UserKubeconfig(user)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func shippedReaderRules(t *testing.T) []rbacv1.PolicyRule {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/psp2psa-reader.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal([]byte(strings.SplitN(string(raw), "\n---\n", 2)[0]), &role); err != nil || len(role.Rules) == 0 {
		t.Fatalf("decoding the reader ClusterRole: %v", err)
	}
	return role.Rules
}

func checkSnapshotFile(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %v, want 0600: pods may carry credentials", info.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "# psp2psa snapshot of admin (Kubernetes v1.24.17), all namespaces, taken ") ||
		!strings.Contains(string(raw), "\napiVersion: v1\nkind: List\nmetadata:\n  annotations:\n    psp2psa.io/cluster: admin\n") ||
		!strings.Contains(string(raw), "\nitems:\n- ") {
		t.Errorf("snapshot does not start as a snapshot:\n%.400s", raw)
	}
	if strings.Contains(string(raw), "managedFields") || strings.Contains(string(raw), "kind: Secret\n") {
		t.Errorf("the snapshot holds managedFields or a Secret")
	}
}

// withoutSources is plan JSON with every "source" removed: where the
// objects were read is all a snapshot changes.
func withoutSources(t *testing.T, planJSON string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(planJSON), &v); err != nil {
		t.Fatalf("plan JSON: %v", err)
	}
	var drop func(any)
	drop = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			delete(v, "source")
			for _, x := range v {
				drop(x)
			}
		case []any:
			for _, x := range v {
				drop(x)
			}
		}
	}
	drop(v)
	// Where the target version came from differs (the cluster, the
	// snapshot); the version itself must not.
	if m, ok := v.(map[string]any); ok {
		if target, ok := m["target"].(map[string]any); ok {
			delete(target, "from")
		}
	}
	out, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func samePlan(t *testing.T, what, got, live string) {
	t.Helper()
	if got != live {
		t.Errorf("%s differs from the live plan:\n%s", what, report.UnifiedDiff("live", what, []byte(live), []byte(got)))
	}
}

func findWorkload(t *testing.T, planJSON, kind, ns, name string) plan.Workload {
	t.Helper()
	var p plan.Plan
	if err := json.Unmarshal([]byte(planJSON), &p); err != nil {
		t.Fatal(err)
	}
	for _, w := range p.Workloads {
		if w.Kind == kind && w.Namespace == ns && w.Name == name {
			return w
		}
	}
	t.Fatalf("no %s %s/%s in the plan", kind, ns, name)
	return plan.Workload{}
}

// clusterReadMessages are the messages of what the read of the cluster
// could not see, in order.
func clusterReadMessages(list []plan.Incomplete) []string {
	var out []string
	for _, m := range list {
		if m.Reason == plan.ReasonClusterRead {
			out = append(out, m.Message)
		}
	}
	return out
}

func must(t *testing.T, what string, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitAllowed polls until RBAC, which reads bindings through an informer,
// allows user what attrs say.
func waitAllowed(t *testing.T, admin kubernetes.Interface, user string, attrs authorizationv1.ResourceAttributes) {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: []string{"system:authenticated"}, ResourceAttributes: &attrs,
	}}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		review, err := admin.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
		if err == nil && review.Status.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never allowed %+v: %v", user, attrs, err)
		}
	}
}
