package pss

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// Names the e2e configuration exempts. Each test runs its own server, so
// fixed names cannot collide.
const (
	exemptNamespace    = "psp2psa-exempt"
	exemptUser         = "psp2psa-ci-deployer"
	exemptRuntimeClass = "psp2psa-sandbox"
)

// e2eConfig is the migration's default policy with one exemption of each
// kind besides the system namespace.
func e2eConfig(t *testing.T) Config {
	return Config{
		Defaults: migrationDefaults(t, "v1.37"),
		Exemptions: Exemptions{
			Namespaces:     []string{"kube-system", exemptNamespace},
			Usernames:      []string{exemptUser},
			RuntimeClasses: []string{exemptRuntimeClass},
		},
	}
}

// TestConfigurationAppliedByAPIServer starts kube-apiserver with the file
// Configuration writes and creates pods against it: the server must start,
// apply the defaults to a namespace without labels, and let each exempt
// request through. On 1.24 the file is v1beta1 and PodSecurityPolicy also
// judges pods, so a permissive PSP lets PodSecurity's verdict show alone.
func TestConfigurationAppliedByAPIServer(t *testing.T) {
	for _, version := range []string{"v1.37", "v1.24"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			data, err := Configuration(e2eConfig(t), mustVersion(t, version))
			if err != nil {
				t.Fatal(err)
			}
			c := startWithConfig(t, version, data)
			s := newConfigServer(t, c)
			for _, p := range configProbes() {
				t.Run(p.name, func(t *testing.T) { s.run(t, p) })
			}
		})
	}
}

// configProbe is one pod created against the configured server.
type configProbe struct {
	name      string
	namespace string // "" for a fresh namespace without labels
	labels    map[string]string
	user      string // "" for the admin
	pod       func() *corev1.PodSpec
	// denied, when set, is part of the expected rejection; warning part of
	// the expected warning; neither means admitted without a warning.
	denied, warning string
}

func configProbes() []configProbe {
	return []configProbe{
		{name: "privileged pod in a namespace without labels is rejected by the baseline default",
			pod: privilegedPod, denied: `violates PodSecurity "baseline:v1.37": privileged`},
		{name: "baseline pod in a namespace without labels is admitted with the restricted warning",
			pod: baselinePod, warning: `would violate PodSecurity "restricted:v1.37"`},
		{name: "restricted pod in a namespace without labels is admitted without a warning",
			pod: restrictedPod},
		{name: "namespace labels override the defaults",
			labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "privileged"},
			pod:    privilegedPod},
		{name: "a label for one mode leaves the others at their defaults",
			labels: map[string]string{"pod-security.kubernetes.io/warn": "baseline"},
			pod:    privilegedPod, denied: `violates PodSecurity "baseline:v1.37"`},
		{name: "privileged pod in exempt kube-system is admitted unchecked",
			namespace: "kube-system", pod: privilegedPod},
		{name: "privileged pod in an exempt namespace is admitted unchecked",
			namespace: exemptNamespace, pod: privilegedPod},
		{name: "privileged pod from an exempt user is admitted unchecked",
			user: exemptUser, pod: privilegedPod},
		{name: "privileged pod of an exempt runtime class is admitted unchecked",
			pod: func() *corev1.PodSpec {
				spec := privilegedPod()
				spec.RuntimeClassName = ptr.To(exemptRuntimeClass)
				return spec
			}},
	}
}

// startWithConfig starts a cluster of version whose apiserver reads the
// admission configuration, or skips as the other e2e tests do.
func startWithConfig(t *testing.T, version string, config []byte) *testcluster.Cluster {
	t.Helper()
	skipWithoutServers(t, version)
	start := time.Now()
	c, err := testcluster.StartWith(context.Background(), version, testcluster.Options{
		FileFlags: map[string][]byte{"--admission-control-config-file": config},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	t.Logf("started %s with the admission configuration in %s", c.Version(), time.Since(start).Round(time.Millisecond))
	return c
}

func skipWithoutServers(t *testing.T, version string) {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e test skipped in -short mode")
	}
	exact := map[string]string{"v1.24": "v1.24.17", "v1.37": "v1.37.2"}[version]
	for _, bin := range []string{"etcd", "kube-apiserver-" + exact} {
		if _, err := os.Stat(filepath.Join(testcluster.CacheDir(), bin)); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI is set but the test servers are missing: %v", err)
			}
			t.Skipf("e2e test skipped: %v (run hack/testservers/build.sh)", err)
		}
	}
}

// configServer creates the objects the probes need and the pods they try.
type configServer struct {
	cluster *testcluster.Cluster
	admin   *kubernetes.Clientset
}

func newConfigServer(t *testing.T, c *testcluster.Cluster) *configServer {
	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{} // PSP's deprecation notice on 1.24
	s := &configServer{cluster: c, admin: kubernetes.NewForConfigOrDie(cfg)}
	ctx := context.Background()
	if c.Minor() == "v1.24" {
		s.allowEveryPodByPSP(t)
	}
	s.namespace(t, exemptNamespace, nil)
	s.namespace(t, "kube-system", nil)
	if _, err := s.admin.NodeV1().RuntimeClasses().Create(ctx, &nodev1.RuntimeClass{
		ObjectMeta: metav1.ObjectMeta{Name: exemptRuntimeClass}, Handler: "sandbox",
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create the runtime class: %v", err)
	}
	// The exempt user may create pods; RBAC is not what is under test.
	if _, err := s.admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: exemptUser},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: exemptUser}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("bind the exempt user: %v", err)
	}
	return s
}

// allowEveryPodByPSP stores a PSP that admits any pod; the admin and the
// exempt user (cluster-admin) may use it. Without the seccomp annotation
// it would refuse the restricted pod's RuntimeDefault profile.
func (s *configServer) allowEveryPodByPSP(t *testing.T) {
	t.Helper()
	body := `{"apiVersion":"policy/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"permissive",
"annotations":{"seccomp.security.alpha.kubernetes.io/allowedProfileNames":"*"}},
"spec":{"privileged":true,"allowPrivilegeEscalation":true,"allowedCapabilities":["*"],"volumes":["*"],
"hostNetwork":true,"hostIPC":true,"hostPID":true,"hostPorts":[{"min":0,"max":65535}],
"runAsUser":{"rule":"RunAsAny"},"seLinux":{"rule":"RunAsAny"},
"supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"}}}`
	err := s.admin.RESTClient().Post().AbsPath("/apis/policy/v1beta1/podsecuritypolicies").
		SetHeader("Content-Type", "application/json").Body([]byte(body)).Do(context.Background()).Error()
	if err != nil {
		t.Fatalf("create the permissive PSP: %v", err)
	}
}

// namespace creates the namespace (unless it exists) and its default
// service account, which no controller creates here.
func (s *configServer) namespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ctx := context.Background()
	_, err := s.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	_, err = s.admin.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create the default service account in %s: %v", name, err)
	}
}

func (s *configServer) run(t *testing.T, p configProbe) {
	ns := p.namespace
	if ns == "" {
		ns = testcluster.UniqueName("probe")
		s.namespace(t, ns, p.labels)
	}
	cfg := s.cluster.AdminConfig()
	if p.user != "" {
		var err error
		if cfg, err = s.cluster.UserConfig(p.user); err != nil {
			t.Fatal(err)
		}
	}
	warnings := &warningRecorder{}
	cfg.WarningHandler = warnings
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: testcluster.UniqueName("pod")}, Spec: *p.pod()}
	_, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{})
	switch {
	case p.denied != "":
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), p.denied) {
			t.Errorf("want a rejection containing %q, got %v", p.denied, err)
		}
		t.Logf("rejected: %v", err)
	case err != nil:
		t.Errorf("want the pod admitted, got %v", err)
	case p.warning != "":
		if !warnings.contains(p.warning) {
			t.Errorf("want a warning containing %q, got %q", p.warning, warnings.all())
		}
		t.Logf("warned: %q", warnings.all())
	case len(warnings.all()) > 0:
		t.Errorf("want no warning, got %q", warnings.all())
	}
}

// warningRecorder keeps the warnings a client receives.
type warningRecorder struct {
	mu   sync.Mutex
	list []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warningRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.list...)
}

func (w *warningRecorder) contains(s string) bool {
	for _, text := range w.all() {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// TestAPIServerRefusesAnInvalidConfiguration shows why Configuration
// validates: kube-apiserver does not start on a configuration the plugin
// refuses, and ReadConfiguration refuses the same file first.
func TestAPIServerRefusesAnInvalidConfiguration(t *testing.T) {
	invalid := []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults:
      enforce: strict
`)
	if _, err := ReadConfiguration(invalid); err == nil || !strings.Contains(err.Error(), "defaults.enforce") {
		t.Fatalf("ReadConfiguration: want the invalid level refused, got %v", err)
	}
	skipWithoutServers(t, "v1.37")
	start := time.Now()
	c, err := testcluster.StartWith(context.Background(), "v1.37", testcluster.Options{
		FileFlags: map[string][]byte{"--admission-control-config-file": invalid},
	})
	if err == nil {
		c.Stop()
		t.Fatal("kube-apiserver started with an invalid PodSecurity configuration")
	}
	for _, want := range []string{"exited during start-up", `admission plugin \"PodSecurity\"`, "enforce: must be one of privileged, baseline, restricted"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("want the server to exit with %q, got %v", want, err)
		}
	}
	t.Logf("refused in %s", time.Since(start).Round(time.Millisecond))
}

func privilegedPod() *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []corev1.Container{{
		Name: "app", Image: "registry.k8s.io/pause:3.10",
		SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
	}}}
}

func baselinePod() *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}}
}

func restrictedPod() *corev1.PodSpec {
	return &corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name: "app", Image: "registry.k8s.io/pause:3.10",
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
	}
}
