package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/report"
)

// restrictedCorpusPolicies are the corpus PSPs (by name, first file to use
// the name) granted in the test's strict namespace: none admits a
// privileged pod, and all of them mutate.
var restrictedCorpusPolicies = []string{"baseline", "elastic.restricted", "psp.flannel.unprivileged", "restricted", "tekton-pipelines"}

// testPods are pods the limited user creates; PSP admission picks one of
// the PSPs it may use, or rejects the pod.
var testPods = []struct {
	name, account string
	edit          func(*corev1.PodSpec)
}{
	{"plain", "default", nil},
	{"non-root", "app", func(s *corev1.PodSpec) {
		s.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](1000)}
	}},
	{"privileged", "default", func(s *corev1.PodSpec) {
		s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
	}},
	{"host-network", "default", func(s *corev1.PodSpec) { s.HostNetwork = true }},
	{"host-path", "app", func(s *corev1.PodSpec) {
		s.Volumes = []corev1.Volume{{Name: "logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}}}
		s.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "logs", MountPath: "/logs"}}
	}},
	{"runtime-default", "default", func(s *corev1.PodSpec) {
		s.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	}},
	{"net-admin", "app", func(s *corev1.PodSpec) {
		s.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}}
	}},
}

func podSpec(account string, edit func(*corev1.PodSpec)) corev1.PodSpec {
	s := corev1.PodSpec{ServiceAccountName: account, Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}
	if edit != nil {
		edit(&s)
	}
	return s
}

// TestSnapshotPlansLikeTheLiveClusterV124 is the round trip the snapshot
// exists for: a plan from the live cluster and a plan from its snapshot
// file are the same plan, and both simulate PSP admission the way the real
// 1.24 admission plugin admitted the cluster's pods.
func TestSnapshotPlansLikeTheLiveClusterV124(t *testing.T) {
	c := testcluster.Get(t, "v1.24")
	a := newAdmin(t, c)
	names := createCorpusPolicies(t, a)
	wideNS := policyNamespace(t, a, slices.Sorted(mapValues(names)))
	var strict []string
	for _, n := range restrictedCorpusPolicies {
		strict = append(strict, names[n])
	}
	strictNS := policyNamespace(t, a, strict)
	admitted := map[string]string{} // "ns/name" → kubernetes.io/psp
	for _, ns := range []string{wideNS, strictNS} {
		for k, v := range createPodsAsLimitedUser(t, c, ns) {
			admitted[k] = v
		}
		createControllers(t, a.cs, ns)
	}
	if distinct := len(slices.Compact(slices.Sorted(mapValues(admitted)))); distinct < 2 {
		t.Fatalf("the pods were admitted by %d PSP(s), want at least 2 for a meaningful check: %v", distinct, admitted)
	}

	ctx := context.Background()
	live, err := Read(ctx, c.AdminConfig(), Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(live.Incomplete) > 0 {
		t.Fatalf("an admin's read is incomplete: %v", live.Incomplete)
	}
	livePlan := planOf(t, live.Documents)

	snapshotFile := filepath.Join(t.TempDir(), "snapshot.yaml")
	writeSnapshot(t, c, snapshotFile)
	snapPlan := planOf(t, readFile(t, snapshotFile))

	if l, s := planJSON(t, livePlan), planJSON(t, snapPlan); l != s {
		t.Errorf("the snapshot plans differently from the live cluster:\n%s", report.UnifiedDiff("live", "snapshot", []byte(l), []byte(s)))
	}
	checkAnnotations(t, livePlan, admitted)
	checkKindsPlanned(t, livePlan, wideNS)
}

// writeSnapshot does what `psp2psa snapshot -f FILE` does: a fresh read,
// written as one List file.
func writeSnapshot(t *testing.T, c *testcluster.Cluster, path string) {
	t.Helper()
	res, err := Read(context.Background(), c.AdminConfig(), Options{PageSize: 7})
	if err != nil {
		t.Fatalf("Read for the snapshot: %v", err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := &Snapshot{Result: res, Cluster: c.Host(), Taken: time.Now()}
	if err := s.Write(f); err != nil {
		t.Fatalf("writing the snapshot: %v", err)
	}
}

// checkAnnotations asserts that the plan's simulated admission of every
// Pod matches the PSP that really admitted it.
func checkAnnotations(t *testing.T, p *plan.Plan, admitted map[string]string) {
	t.Helper()
	seen := 0
	for _, w := range p.Workloads {
		want, ok := admitted[w.Namespace+"/"+w.Name]
		if w.Kind != "Pod" || !ok {
			continue
		}
		seen++
		if w.Annotation != want {
			t.Errorf("%s: the plan read annotation %q, the pod has %q", w.Ref(), w.Annotation, want)
		}
		if w.AnnotationAgrees == nil || !*w.AnnotationAgrees {
			t.Errorf("%s: the plan says %q admits it, but %q did (rejections %v)", w.Ref(), w.AdmittedBy, want, w.Rejections)
		}
	}
	if seen != len(admitted) {
		t.Errorf("the plan has %d of the %d pods created", seen, len(admitted))
	}
}

func checkKindsPlanned(t *testing.T, p *plan.Plan, ns string) {
	t.Helper()
	kinds := map[string]bool{}
	for _, w := range p.Workloads {
		if w.Namespace == ns {
			kinds[w.Kind] = true
		}
	}
	for _, want := range []string{"Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController"} {
		if !kinds[want] {
			t.Errorf("no %s of namespace %s in the plan (have %v)", want, ns, kinds)
		}
	}
}

// createCorpusPolicies creates every corpus PSP the 1.24 apiserver accepts
// (as psp.FromDocuments judges), the first of each name, renamed with one
// fresh prefix so that their order by name, which admission follows, is
// the corpus's. It returns corpus name → name in the cluster.
func createCorpusPolicies(t *testing.T, a *admin) map[string]string {
	t.Helper()
	docs := readFile(t, corpusPath(t, "psp"))
	load := psp.FromDocuments(docs)
	bySource := map[string]manifest.Document{}
	for _, d := range docs {
		bySource[d.Source.String()] = d
	}
	prefix := testcluster.UniqueName("c")
	names := map[string]string{}
	for _, p := range load.Policies {
		if _, dup := names[p.PSP.Name]; dup {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(bySource[p.Source.String()].Raw); err != nil {
			t.Fatalf("%s: %v", p.Source, err)
		}
		name := prefix + "-" + p.PSP.Name
		obj.SetName(name)
		obj.SetNamespace("")
		obj.SetAPIVersion(policy.String()) // extensions/v1beta1 has the same schema and is long gone
		if _, err := a.dyn.Resource(policy.WithResource("podsecuritypolicies")).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create corpus PSP %s (%s): %v", p.PSP.Name, p.Source, err)
		}
		names[p.PSP.Name] = name
	}
	t.Logf("created %d corpus PSPs", len(names))
	return names
}

// policyNamespace makes a namespace whose service accounts and the limited
// user may use exactly the named PSPs, and in which the limited user may
// create pods. Both identities get the same PSPs: for a bare Pod the plan
// knows only the service account.
func policyNamespace(t *testing.T, a *admin, policies []string) string {
	t.Helper()
	ns := a.namespace(t,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "app"}, AutomountServiceAccountToken: ptr.To(false)},
	)
	use := a.clusterRole(t, testcluster.UniqueName("use"), rbacv1.PolicyRule{
		APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: policies,
	})
	pods := a.clusterRole(t, testcluster.UniqueName("pods"), rbacv1.PolicyRule{
		APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create", "get"},
	})
	a.roleBinding(t, ns, use,
		rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: limitedUser},
		rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:serviceaccounts:" + ns})
	a.roleBinding(t, ns, pods, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: limitedUser})
	groups := []string{limitedGroup}
	a.waitAllowed(t, limitedUser, groups, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "pods"})
	for _, p := range policies {
		a.waitAllowed(t, limitedUser, groups, authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: "use", Group: "policy", Resource: "podsecuritypolicies", Name: p,
		})
	}
	return ns
}

// createPodsAsLimitedUser creates testPods as the limited user, so that PSP
// admission chooses among the PSPs of the namespace, and returns the
// admitted ones' kubernetes.io/psp annotation by "ns/name".
func createPodsAsLimitedUser(t *testing.T, c *testcluster.Cluster, ns string) map[string]string {
	t.Helper()
	limited := kubernetes.NewForConfigOrDie(c.LimitedConfig())
	admitted := map[string]string{}
	for _, tp := range testPods {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: tp.name}, Spec: podSpec(tp.account, tp.edit)}
		got, err := limited.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{})
		if apierrors.IsForbidden(err) && strings.Contains(err.Error(), "PodSecurityPolicy: unable to admit pod") {
			continue
		}
		if err != nil {
			t.Fatalf("create pod %s/%s: %v", ns, tp.name, err)
		}
		admitted[ns+"/"+tp.name] = got.Annotations["kubernetes.io/psp"]
	}
	t.Logf("namespace %s: admitted %v", ns, admitted)
	return admitted
}

// createControllers creates one object of every controller kind; with no
// controller-manager they never make pods, but the plan reads their
// templates.
func createControllers(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": "x"}
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec("default", nil)}
	selector := &metav1.LabelSelector{MatchLabels: labels}
	meta := metav1.ObjectMeta{Name: "x"}
	jobTemplate := template
	jobTemplate.Spec.RestartPolicy = corev1.RestartPolicyNever
	priv := template
	priv.Spec = podSpec("default", testPods[2].edit)
	creates := map[string]error{}
	_, creates["Deployment"] = cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Selector: selector, Template: template}}, metav1.CreateOptions{})
	_, creates["ReplicaSet"] = cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Selector: selector, Template: priv}}, metav1.CreateOptions{})
	_, creates["StatefulSet"] = cs.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Selector: selector, Template: template}}, metav1.CreateOptions{})
	_, creates["DaemonSet"] = cs.AppsV1().DaemonSets(ns).Create(ctx, &appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Selector: selector, Template: priv}}, metav1.CreateOptions{})
	_, creates["Job"] = cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: jobTemplate}}, metav1.CreateOptions{})
	_, creates["CronJob"] = cs.BatchV1().CronJobs(ns).Create(ctx, &batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{
		Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobTemplate}},
	}}, metav1.CreateOptions{})
	_, creates["ReplicationController"] = cs.CoreV1().ReplicationControllers(ns).Create(ctx, &corev1.ReplicationController{ObjectMeta: meta, Spec: corev1.ReplicationControllerSpec{
		Selector: labels, Template: &template,
	}}, metav1.CreateOptions{})
	for kind, err := range creates {
		if err != nil {
			t.Fatalf("create %s %s/x: %v", kind, ns, err)
		}
	}
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// TestReadAsTheShippedReaderRoleV124 proves deploy/psp2psa-reader.yaml
// is enough: bound through its own example binding, a user with no other
// rights reads exactly what an admin reads.
func TestReadAsTheShippedReaderRoleV124(t *testing.T) {
	c := testcluster.Get(t, "v1.24")
	a := newAdmin(t, c)
	ns := a.namespace(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	createControllers(t, a.cs, ns)
	a.apply(t, readFile(t, repoPath("deploy", "psp2psa-reader.yaml")))
	user, group := testcluster.UniqueName("reader"), "psp2psa-readers" // the example binding's group
	a.waitAllowed(t, user, []string{group}, authorizationv1.ResourceAttributes{Verb: "list", Group: "batch", Resource: "cronjobs"})
	cfg, err := c.UserConfig(user, group)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	asReader, err := Read(ctx, cfg, Options{})
	if err != nil {
		t.Fatalf("Read as the reader: %v", err)
	}
	if len(asReader.Incomplete) > 0 {
		t.Errorf("the reader role misses: %v (warnings %v)", asReader.Incomplete, asReader.Warnings)
	}
	asAdmin, err := Read(ctx, c.AdminConfig(), Options{})
	if err != nil {
		t.Fatalf("Read as admin: %v", err)
	}
	if got, want := objectKeys(asReader.Documents), objectKeys(asAdmin.Documents); !slices.Equal(got, want) {
		t.Errorf("the reader reads %d objects, an admin %d:\n%s", len(got), len(want),
			report.UnifiedDiff("admin", "reader", []byte(strings.Join(want, "\n")+"\n"), []byte(strings.Join(got, "\n")+"\n")))
	}
}

// TestReadWithoutRBACRightsIsIncompleteV124: a user who may read
// everything but RBAC still gets the rest, and the result names exactly
// the four RBAC kinds as missing.
func TestReadWithoutRBACRightsIsIncompleteV124(t *testing.T) {
	c := testcluster.Get(t, "v1.24")
	a := newAdmin(t, c)
	ns := a.namespace(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	createControllers(t, a.cs, ns)
	var rules []rbacv1.PolicyRule
	for _, r := range readerRole(t).Rules {
		if !slices.Contains(r.APIGroups, rbacv1.GroupName) {
			rules = append(rules, r)
		}
	}
	role := a.clusterRole(t, testcluster.UniqueName("no-rbac"), rules...)
	user := testcluster.UniqueName("no-rbac")
	a.clusterRoleBinding(t, role, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user})
	a.waitAllowed(t, user, nil, authorizationv1.ResourceAttributes{Verb: "list", Group: "batch", Resource: "cronjobs"})
	cfg, err := c.UserConfig(user)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		namespace string
		want      []string
	}{
		{"all namespaces", "", []string{
			"rbac.authorization.k8s.io/v1 clusterroles: forbidden",
			"rbac.authorization.k8s.io/v1 clusterrolebindings: forbidden",
			"rbac.authorization.k8s.io/v1 roles: forbidden",
			"rbac.authorization.k8s.io/v1 rolebindings: forbidden",
		}},
		{"one namespace", ns, []string{
			"rbac.authorization.k8s.io/v1 clusterroles: forbidden",
			"rbac.authorization.k8s.io/v1 clusterrolebindings: forbidden",
			"rbac.authorization.k8s.io/v1 roles in namespace " + ns + ": forbidden",
			"rbac.authorization.k8s.io/v1 rolebindings in namespace " + ns + ": forbidden",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Read(context.Background(), cfg, Options{Namespace: tc.namespace})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !slices.Equal(res.Incomplete, tc.want) {
				t.Errorf("Incomplete = %q, want %q", res.Incomplete, tc.want)
			}
			for _, w := range tc.want {
				if !slices.ContainsFunc(res.Warnings, func(s string) bool {
					return strings.Contains(s, strings.TrimSuffix(w, ": forbidden")) && strings.Contains(s, user)
				}) {
					t.Errorf("no warning with the server's reason for %q naming the user: %q", w, res.Warnings)
				}
			}
			p := planOf(t, res.Documents)
			if n := countKind(p, ns, "Deployment"); n != 1 {
				t.Errorf("the plan has %d Deployments in %s, want 1: the readable kinds must still be planned", n, ns)
			}
		})
	}
}

func countKind(p *plan.Plan, ns, kind string) int {
	n := 0
	for _, w := range p.Workloads {
		if w.Namespace == ns && w.Kind == kind {
			n++
		}
	}
	return n
}

// readerRole is the ClusterRole of deploy/psp2psa-reader.yaml.
func readerRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	for _, d := range readFile(t, repoPath("deploy", "psp2psa-reader.yaml")) {
		if d.Kind == "ClusterRole" {
			var role rbacv1.ClusterRole
			if err := json.Unmarshal(d.Raw, &role); err != nil {
				t.Fatal(err)
			}
			return &role
		}
	}
	t.Fatal("deploy/psp2psa-reader.yaml has no ClusterRole")
	return nil
}

// TestReadNamespaceV124: a read restricted to one namespace gets that
// namespace's objects, the namespace itself, and the cluster-scoped RBAC
// and PSPs, and nothing of other namespaces.
func TestReadNamespaceV124(t *testing.T) {
	c := testcluster.Get(t, "v1.24")
	a := newAdmin(t, c)
	ns := a.namespace(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	other := a.namespace(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	createControllers(t, a.cs, ns)
	createControllers(t, a.cs, other)
	res, err := Read(context.Background(), c.AdminConfig(), Options{Namespace: ns})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	kinds := map[string]int{}
	for _, d := range res.Documents {
		if d.Namespace != "" && d.Namespace != ns || d.Kind == "Namespace" && d.Name != ns {
			t.Errorf("%s is outside namespace %s", d.Object(), ns)
		}
		kinds[d.Kind]++
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "Deployment", "CronJob", "ClusterRole", "ClusterRoleBinding"} {
		if kinds[k] == 0 {
			t.Errorf("no %s read (have %v)", k, kinds)
		}
	}
	if kinds["Namespace"] != 1 {
		t.Errorf("read %d namespaces, want 1", kinds["Namespace"])
	}

	_, err = Read(context.Background(), c.AdminConfig(), Options{Namespace: testcluster.UniqueName("missing")})
	if !errors.Is(err, ErrNamespaceNotFound) {
		t.Errorf("reading a namespace that does not exist: got %v, want ErrNamespaceNotFound", err)
	}
}

// TestReadPaginatesV124 reads more service accounts than fit one page and
// checks that every one arrives, over several list requests.
func TestReadPaginatesV124(t *testing.T) {
	c := testcluster.Get(t, "v1.24")
	a := newAdmin(t, c)
	var accounts []*corev1.ServiceAccount
	for i := range 12 {
		accounts = append(accounts, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa-" + string(rune('a'+i))}})
	}
	ns := a.namespace(t, accounts...)
	cfg := c.AdminConfig()
	requests := &requestLog{}
	cfg.Wrap(requests.wrap)
	res, err := Read(context.Background(), cfg, Options{Namespace: ns, PageSize: 5})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var got []string
	for _, d := range res.Documents {
		if d.Kind == "ServiceAccount" {
			got = append(got, d.Name)
		}
	}
	var want []string
	for _, sa := range accounts {
		want = append(want, sa.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("read service accounts %v, want %v", got, want)
	}
	pages := requests.matching("/api/v1/namespaces/" + ns + "/serviceaccounts?")
	if len(pages) != 3 {
		t.Errorf("listed the 12 service accounts in %d requests, want 3 pages of at most 5: %v", len(pages), pages)
	}
	for i, p := range pages {
		if !strings.Contains(p, "limit=5") || (i > 0) != strings.Contains(p, "continue=") {
			t.Errorf("page %d request %s: want limit=5 and a continue token after the first", i, p)
		}
	}
}

// TestReadV137WarnsPSPIsGone: on a 1.25+ server the read succeeds without
// PSPs, and tells the user where they must come from. It reads the
// ValidatingAdmissionPolicies the server serves (v1) with the rest.
func TestReadV137WarnsPSPIsGone(t *testing.T) {
	c := testcluster.Get(t, "v1.37")
	a := newAdmin(t, c)
	ns := a.namespace(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	createControllers(t, a.cs, ns)
	vapName := testcluster.UniqueName("keep-fsgroup")
	policy, errs := manifest.Read([]string{manifest.Stdin}, strings.NewReader(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: `+vapName+`
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [pods]
  validations:
  - expression: "has(object.spec.securityContext) && has(object.spec.securityContext.fsGroup)"
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	a.apply(t, policy)
	res, err := Read(context.Background(), c.AdminConfig(), Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if res.ServerVersion != "v1.37.2" {
		t.Errorf("ServerVersion = %q", res.ServerVersion)
	}
	want := "this cluster (v1.37.2) no longer serves PodSecurityPolicy; take a snapshot with psp2psa snapshot before upgrading, or plan from manifests / --from-snapshot FILE"
	if !slices.Contains(res.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", res.Warnings, want)
	}
	if !slices.Equal(res.Incomplete, []string{"podsecuritypolicies: not served by this cluster (v1.37.2)"}) {
		t.Errorf("Incomplete = %q", res.Incomplete)
	}
	if n := countKind(planOf(t, res.Documents), ns, "CronJob"); n != 1 {
		t.Errorf("the plan has %d CronJobs (batch/v1) in %s, want 1", n, ns)
	}
	if want := "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy/" + vapName; !slices.Contains(objectKeys(res.Documents), want) {
		t.Errorf("%s not read", want)
	}
}
