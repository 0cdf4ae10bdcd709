package psp

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestAdmitAgreesWithAPIServer is the differential test: every case of the
// unit tables (as regular and as init containers; the server refuses
// ephemeral containers on create), every testdata/admission fixture and
// every corpus PSP × corpus pod template is dry-run on a real v1.24.17
// kube-apiserver with the PodSecurityPolicy plugin, under that one PSP, and
// the server's answer is compared with Admit's: admitted or not, the
// security fields and annotations of the admitted pod, and each rejection
// error's path, type and detail. Table cases say when the server refuses
// their PSP or pod; corpus PSPs the server refuses are skipped.
func TestAdmitAgreesWithAPIServer(t *testing.T) {
	srv := startAPIServer(t)

	t.Run("tables", func(t *testing.T) {
		for _, table := range admitCaseTables {
			for _, tc := range table.cases() {
				for _, kind := range []string{"containers", "initContainers"} {
					t.Run(table.name+"/"+tc.name+"/"+kind, func(t *testing.T) {
						t.Parallel()
						policy, pod, _, _ := tc.build(kind)
						if kind == "initContainers" {
							// A pod needs a regular container too.
							pod.Spec.Containers = []corev1.Container{{Name: "main", Image: "nginx"}}
						}
						usable, ns, refused := srv.grantPolicy(t, policy)
						switch {
						case tc.invalidPolicy != "":
							expectMessage(t, "storing the PSP", refused, tc.invalidPolicy)
						case refused != nil:
							t.Fatalf("the server refuses the PSP: %v", refused)
						case tc.invalidPod != "":
							_, err := srv.dryRunCreate(podForServer(pod, ns))
							expectMessage(t, "creating the pod", err, tc.invalidPod)
						default:
							srv.compare(t, usable, podForServer(pod, ns))
						}
					})
				}
			}
		}
	})

	t.Run("fixtures", func(t *testing.T) {
		for _, fixture := range admissionFixtureFiles(t) {
			t.Run(filepath.Base(fixture), func(t *testing.T) {
				t.Parallel()
				policy, pod := readAdmissionFixture(t, fixture)
				pod.Spec.EphemeralContainers = nil // refused on create
				usable, ns, refused := srv.grantPolicy(t, policy)
				if refused != nil {
					t.Fatalf("the server refuses the PSP: %v", refused)
				}
				srv.compare(t, usable, podForServer(pod, ns))
			})
		}
	})

	t.Run("corpus", func(t *testing.T) {
		pods := corpusPods(t)
		for i, policy := range corpusPolicies(t) {
			t.Run(policy.Name+"#"+strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				usable, ns, refused := srv.grantPolicy(t, policy)
				if refused != nil {
					t.Skipf("the 1.24 server refuses this PSP: %v", refused)
				}
				for _, pod := range pods {
					t.Run(pod.Name, func(t *testing.T) {
						srv.compare(t, usable, podForServer(pod, ns))
					})
				}
			})
		}
	})
}

// admitCaseTables lists the unit case tables the differential test replays.
var admitCaseTables = []struct {
	name  string
	cases func() []admitCase
}{
	{"runAsUser", runAsUserCases},
	{"runAsGroup", runAsGroupCases},
	{"fsGroup", fsGroupCases},
	{"supplementalGroups", supplementalGroupsCases},
	{"seLinux", seLinuxCases},
	{"seccomp", seccompCases},
	{"appArmor", appArmorCases},
	{"capabilities", capabilitiesCases},
	{"volumes", volumesCases},
	{"hostNamespaces", hostNamespacesCases},
	{"hostPorts", hostPortsCases},
	{"privilegedAndProcMount", privilegedAndProcMountCases},
	{"readOnlyRootFilesystem", readOnlyRootFilesystemCases},
	{"allowPrivilegeEscalation", allowPrivilegeEscalationCases},
	{"coreValidationConflicts", coreValidationConflictsCases},
	{"runtimeClass", runtimeClassCases},
	{"sysctls", sysctlsCases},
}

// limitedUser is the user of testcluster's "limited" credentials.
const limitedUser = "psp2psa-limited"

type apiServer struct {
	admin   kubernetes.Interface
	limited kubernetes.Interface
	dynamic dynamic.Interface
	// permissive admits every pod and writes nothing but what 1.24 wrote
	// under any PSP (a seccomp field copied into the annotation). It sorts
	// after every PSP under test and only the permissiveServiceAccount
	// may use it.
	permissive *PodSecurityPolicy
}

const (
	permissiveName           = "zz-permissive"
	permissiveServiceAccount = "with-permissive"
)

func permissivePolicy() *PodSecurityPolicy {
	p := permissivePSP()
	p.Name = permissiveName
	p.Annotations = map[string]string{SeccompAllowedProfilesAnnotation: "*"}
	p.Spec.Privileged, p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true, true
	p.Spec.AllowedCapabilities = []corev1.Capability{AllowAllCapabilities}
	p.Spec.Volumes = []FSType{All}
	p.Spec.HostPorts = []HostPortRange{{Min: 0, Max: 65535}}
	p.Spec.AllowedUnsafeSysctls = []string{"*"}
	return p
}

// startAPIServer starts a v1.24 cluster for this test, or skips: in -short
// mode, or when hack/testservers/build.sh has not been run (unless CI is
// set).
func startAPIServer(t *testing.T) *apiServer {
	t.Helper()
	c := testcluster.Private(t, "v1.24")

	adminConfig := c.AdminConfig()
	adminConfig.WarningHandler = rest.NoWarnings{} // PSP's deprecation notice
	adminConfig.QPS, adminConfig.Burst = 500, 1000
	limitedConfig := c.LimitedConfig()
	limitedConfig.QPS, limitedConfig.Burst = 500, 1000
	srv := &apiServer{
		admin:      kubernetes.NewForConfigOrDie(adminConfig),
		limited:    kubernetes.NewForConfigOrDie(limitedConfig),
		dynamic:    dynamic.NewForConfigOrDie(adminConfig),
		permissive: permissivePolicy(),
	}
	if err := srv.storePolicy(t, srv.permissive); err != nil {
		t.Fatalf("store the permissive PSP: %v", err)
	}
	usePermissive := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: permissiveName},
		Rules:      []rbacv1.PolicyRule{usePolicyRule(permissiveName)},
	}
	if _, err := srv.admin.RbacV1().ClusterRoles().Create(context.Background(), usePermissive, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRole: %v", err)
	}
	// The RuntimeClass admission plugin rejects pods naming a class that
	// does not exist; create the ones the tables and fixtures use.
	for _, name := range []string{"good", "bad", "foo", "tim", "gvisor"} {
		rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Handler: "runc"}
		if _, err := srv.admin.NodeV1().RuntimeClasses().Create(context.Background(), rc, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create RuntimeClass %s: %v", name, err)
		}
	}
	return srv
}

// grantPolicy stores a copy of the PSP under a fresh name and makes a fresh
// namespace where the limited user may create pods and use that PSP and no
// other. It returns the stored PSP and the namespace, or the server's error
// when it refuses the PSP as invalid.
func (s *apiServer) grantPolicy(t *testing.T, policy *PodSecurityPolicy) (stored *PodSecurityPolicy, ns string, refused error) {
	t.Helper()
	ctx := context.Background()
	name := testcluster.UniqueName("admit")
	stored = copyPSP(t, policy)
	stored.ObjectMeta = metav1.ObjectMeta{Name: name, Annotations: policy.Annotations}
	if err := s.storePolicy(t, stored); err != nil {
		return nil, "", err
	}

	if _, err := s.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { _ = s.admin.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	// Nobody else creates the default ServiceAccount here, and the
	// ServiceAccount admission plugin rejects pods without it.
	for _, sa := range []string{"default", permissiveServiceAccount} {
		obj := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}
		if _, err := s.admin.CoreV1().ServiceAccounts(name).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create service account: %v", err)
		}
	}
	permissiveBinding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: permissiveName},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: permissiveName},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: permissiveServiceAccount, Namespace: name}},
	}
	if _, err := s.admin.RbacV1().RoleBindings(name).Create(ctx, permissiveBinding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create role binding: %v", err)
	}
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}},
		usePolicyRule(name),
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "admit"}, Rules: rules}
	if _, err := s.admin.RbacV1().Roles(name).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create role: %v", err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "admit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "admit"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: limitedUser}},
	}
	if _, err := s.admin.RbacV1().RoleBindings(name).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create role binding: %v", err)
	}
	for _, rule := range rules {
		s.waitAllowed(t, limitedUser, []string{"system:authenticated"}, name, rule)
	}
	saUser := ServiceAccountUser(name, permissiveServiceAccount)
	s.waitAllowed(t, saUser.Name, saUser.Groups, name, usePolicyRule(permissiveName))
	return stored, name, nil
}

func usePolicyRule(pspName string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{pspName}}
}

// storePolicy creates the PSP on the server and deletes it when the test
// ends; the error is the server's when it refuses the PSP as invalid.
func (s *apiServer) storePolicy(t *testing.T, policy *PodSecurityPolicy) error {
	t.Helper()
	stored := copyPSP(t, policy)
	stored.TypeMeta = metav1.TypeMeta{APIVersion: APIVersionPolicy, Kind: Kind}
	raw, err := json.Marshal(stored)
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.dynamic.Resource(testcluster.PSPResource).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		if apierrors.IsInvalid(err) {
			return err
		}
		t.Fatalf("create PSP: %v", err)
	}
	t.Cleanup(func() {
		_ = s.dynamic.Resource(testcluster.PSPResource).Delete(context.Background(), policy.Name, metav1.DeleteOptions{})
	})
	return nil
}

func expectMessage(t *testing.T, action string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: want an error containing %q, got %v", action, want, err)
	}
}

// waitAllowed polls until RBAC, which reads bindings through an informer,
// grants the user the rule.
func (s *apiServer) waitAllowed(t *testing.T, user string, groups []string, ns string, rule rbacv1.PolicyRule) {
	t.Helper()
	attrs := &authorizationv1.ResourceAttributes{Namespace: ns, Verb: rule.Verbs[0], Group: rule.APIGroups[0], Resource: rule.Resources[0]}
	if len(rule.ResourceNames) > 0 {
		attrs.Name = rule.ResourceNames[0]
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: groups, ResourceAttributes: attrs,
	}}
	for deadline := time.Now().Add(10 * time.Second); ; {
		review, err := s.admin.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
		if err == nil && review.Status.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("limited user never allowed %+v: %v", attrs, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// podForServer makes a pod creatable in ns without changing what PSP sees:
// the default ServiceAccount without an injected token volume, no custom
// priority class, and no appArmorProfile field (1.24 drops it as unknown).
func podForServer(pod *corev1.Pod, ns string) *corev1.Pod {
	p := pod.DeepCopy()
	p.Name, p.Namespace = "pod", ns
	p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount = "", ""
	p.Spec.AutomountServiceAccountToken = new(false)
	if !strings.HasPrefix(p.Spec.PriorityClassName, "system-") {
		p.Spec.PriorityClassName = ""
	}
	p.Spec.Priority = nil
	if p.Spec.SecurityContext != nil {
		p.Spec.SecurityContext.AppArmorProfile = nil
	}
	visitContainers(&p.Spec, func(c *corev1.Container, _ *field.Path) {
		if c.SecurityContext != nil {
			c.SecurityContext.AppArmorProfile = nil
		}
	})
	return p
}

// compare dry-runs the pod as the limited user and checks the server's
// answer against Admit's.
func (s *apiServer) compare(t *testing.T, policy *PodSecurityPolicy, pod *corev1.Pod) {
	t.Helper()
	want := Admit(policy, pod)
	got, err := s.dryRunCreate(pod)
	if err == nil {
		if !want.Admitted() {
			t.Fatalf("the server admits the pod, Admit rejects it: %q", describeErrors(want.Errors))
		}
		if w, g := securityViewOf(want.Pod), securityViewOf(got); !apiequality.Semantic.DeepEqual(w, g) {
			t.Errorf("the admitted pods differ:\n%s", yamlDiff(w, g))
		}
		s.compareMutated(t, policy, pod, want)
		return
	}
	if want.Admitted() {
		t.Fatalf("the server rejects the pod, Admit admits it: %v", err)
	}
	compareRejection(t, want, err.Error())
}

// compareMutated checks Mutated through the plugin's choice between two
// usable PSPs that both admit the pod: the policy under test, which sorts
// first, and the permissive one. The first that leaves the pod unchanged
// wins; when both change it, the first does.
func (s *apiServer) compareMutated(t *testing.T, policy *PodSecurityPolicy, pod *corev1.Pod, underTest Admission) {
	t.Helper()
	pod = pod.DeepCopy()
	pod.Spec.ServiceAccountName = permissiveServiceAccount
	permissive := Admit(s.permissive, pod)
	if !permissive.Admitted() {
		t.Fatalf("the permissive PSP rejects the pod: %q", describeErrors(permissive.Errors))
	}
	winner := underTest
	if underTest.Mutated && !permissive.Mutated {
		winner = permissive
	}
	got, err := s.dryRunCreate(pod)
	if err != nil {
		t.Fatalf("with the permissive PSP usable too, the server rejects the pod: %v", err)
	}
	if w, g := securityViewOf(winner.Pod), securityViewOf(got); !apiequality.Semantic.DeepEqual(w, g) {
		t.Errorf("Mutated = %v under test, %v under the permissive PSP, but the server chose otherwise:\n%s",
			underTest.Mutated, permissive.Mutated, yamlDiff(w, g))
	}
}

// dryRunCreate retries while the PSP plugin sees no usable PSP at all
// ("unable to admit pod: []"): its PSP lister, like RBAC, lags behind
// freshly created objects. A real rejection always lists errors.
func (s *apiServer) dryRunCreate(pod *corev1.Pod) (*corev1.Pod, error) {
	opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	for deadline := time.Now().Add(10 * time.Second); ; {
		got, err := s.limited.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, opts)
		if err == nil || !strings.Contains(err.Error(), "unable to admit pod: []") || time.Now().After(deadline) {
			return got, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// compareRejection checks that the server's message holds exactly Admit's
// errors. PSP errors come first; the core validation errors Admit adds
// only show when PSP itself admitted the pod.
func compareRejection(t *testing.T, want Admission, msg string) {
	t.Helper()
	core := CoreSecurityContextErrors(want.Pod)
	var expected field.ErrorList
	for _, e := range want.Errors {
		if !slices.ContainsFunc(core, func(c *field.Error) bool { return c.Error() == e.Error() }) {
			expected = append(expected, e)
		}
	}
	marker := "PodSecurityPolicy: unable to admit pod"
	if len(expected) == 0 {
		expected, marker = core, "is invalid"
	}
	if !strings.Contains(msg, marker) {
		t.Fatalf("server message lacks %q: %s", marker, msg)
	}
	for _, e := range expected {
		if !strings.Contains(msg, e.Field+": "+e.Type.String()) || !strings.Contains(msg, e.Detail) {
			t.Errorf("server message lacks %q:\n%s", describeErrors(field.ErrorList{e}), msg)
		}
	}
	if n := countErrorTypes(msg); n != len(expected) {
		t.Errorf("server reports %d errors, Admit %d: %q\n%s", n, len(expected), describeErrors(expected), msg)
	}
}

func countErrorTypes(msg string) int {
	n := 0
	for _, marker := range []string{": Invalid value: ", ": Forbidden: ", ": Required value", ": Unsupported value: "} {
		n += strings.Count(msg, marker)
	}
	return n
}

// securityView is what PSP reads and writes in a pod. Seccomp appears only
// as the pod annotation: the server copies annotations and fields into each
// other after admission, and PSP never writes container seccomp.
type securityView struct {
	Annotations      map[string]string                  `json:"annotations,omitempty"`
	RuntimeClassName *string                            `json:"runtimeClassName,omitempty"`
	Pod              *corev1.PodSecurityContext         `json:"pod,omitempty"`
	Containers       map[string]*corev1.SecurityContext `json:"containers,omitempty"`
}

func securityViewOf(pod *corev1.Pod) securityView {
	v := securityView{RuntimeClassName: pod.Spec.RuntimeClassName, Containers: map[string]*corev1.SecurityContext{}}
	for k, value := range pod.Annotations {
		if !strings.HasPrefix(k, SeccompContainerAnnotationPrefix) {
			if v.Annotations == nil {
				v.Annotations = map[string]string{}
			}
			v.Annotations[k] = value
		}
	}
	v.Pod = pod.Spec.SecurityContext.DeepCopy()
	if v.Pod != nil {
		v.Pod.SeccompProfile = nil
		if apiequality.Semantic.DeepEqual(v.Pod, &corev1.PodSecurityContext{}) {
			v.Pod = nil
		}
	}
	visitContainers(&pod.Spec, func(c *corev1.Container, path *field.Path) {
		sc := c.SecurityContext.DeepCopy()
		if sc != nil {
			sc.SeccompProfile = nil
			if apiequality.Semantic.DeepEqual(sc, &corev1.SecurityContext{}) {
				sc = nil
			}
		}
		v.Containers[path.String()] = sc
	})
	return v
}
