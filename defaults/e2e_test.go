package defaults

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/gapcases"
	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/psp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestMain(m *testing.M) { os.Exit(testcluster.Main(m, "v1.37")) }

// canaryLabel marks the pod waitActive sends; withCanary adds a mutation
// that annotates that pod only, so that the wait does not depend on the
// defaults under test.
const (
	canaryLabel      = "psp2psa-canary"
	canaryAnnotation = "psp2psa-canary-mutated"
)

func withCanary(policy *admissionregistrationv1.MutatingAdmissionPolicy) *admissionregistrationv1.MutatingAdmissionPolicy {
	policy.Spec.Mutations = append(policy.Spec.Mutations, admissionregistrationv1.Mutation{
		PatchType: admissionregistrationv1.PatchTypeApplyConfiguration,
		ApplyConfiguration: &admissionregistrationv1.ApplyConfiguration{Expression: "'" + canaryLabel + "' in object.metadata.?labels.orValue({}) ? " +
			"Object{metadata: Object.metadata{annotations: {'" + canaryAnnotation + "': 'true'}}} : Object{}"},
	})
	return policy
}

// defaultsCase is a PSP whose defaults the e2e applies to pods.
type defaultsCase struct {
	name string
	psp  *psp.PodSecurityPolicy
	pods []gapcases.Pod
}

// defaultsCases are the differential cases whose PSPs fill values in, one
// PSP with every profile and escalation default, and every corpus PSP
// that fills something in with every corpus pod.
func defaultsCases(t *testing.T) []defaultsCase {
	var out []defaultsCase
	for _, tc := range gapcases.Cases() {
		if len(ForPolicy(tc.PSP)) > 0 {
			out = append(out, defaultsCase{tc.Name, tc.PSP, tc.Pods})
		}
	}
	out = append(out, profilesCase())
	for i, pol := range gapcases.CorpusPolicies(t) {
		if len(ForPolicy(pol.PSP)) > 0 {
			out = append(out, defaultsCase{fmt.Sprintf("corpus %d %s", i, pol.PSP.Name), pol.PSP, gapcases.CorpusPods(t, "corpus")})
		}
	}
	return out
}

// profilesCase: seccomp and AppArmor defaults, default capabilities,
// allowPrivilegeEscalation false, over pods that set their own.
func profilesCase() defaultsCase {
	p := gapcases.PSPWith("profiles", func(s *psp.PodSecurityPolicySpec) {
		s.DefaultAddCapabilities = []corev1.Capability{"NET_BIND_SERVICE", "CHOWN"}
		s.RequiredDropCapabilities = []corev1.Capability{"NET_RAW"}
		s.AllowPrivilegeEscalation = new(false)
	})
	p.Annotations = map[string]string{
		psp.SeccompDefaultProfileAnnotation:  "runtime/default",
		psp.AppArmorDefaultProfileAnnotation: "localhost/k8s-default",
	}
	with := func(name string, edit func(pod *corev1.Pod, c *corev1.Container)) gapcases.Pod {
		pod := gapcases.CleanPod()
		pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "registry.example/init:1"}}
		edit(pod, &pod.Spec.Containers[0])
		return gapcases.Pod{Name: name, Pod: pod}
	}
	return defaultsCase{name: "profiles and capabilities", psp: p, pods: []gapcases.Pod{
		with("nothing set", func(*corev1.Pod, *corev1.Container) {}),
		with("pod seccomp Localhost", func(pod *corev1.Pod, _ *corev1.Container) {
			gapcases.PodSecurity(pod).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("p.json")}
		}),
		with("container AppArmor RuntimeDefault", func(_ *corev1.Pod, c *corev1.Container) {
			gapcases.Security(c).AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
		}),
		with("pod AppArmor RuntimeDefault", func(pod *corev1.Pod, _ *corev1.Container) {
			gapcases.PodSecurity(pod).AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
		}),
		with("drops CHOWN, adds SYS_TIME", func(_ *corev1.Pod, c *corev1.Container) {
			gapcases.Security(c).Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"SYS_TIME"}, Drop: []corev1.Capability{"CHOWN"}}
		}),
		with("drops NET_RAW, adds both defaults", func(_ *corev1.Pod, c *corev1.Container) {
			gapcases.Security(c).Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"CHOWN", "NET_BIND_SERVICE"}, Drop: []corev1.Capability{"NET_RAW"}}
		}),
		with("allowPrivilegeEscalation false", func(_ *corev1.Pod, c *corev1.Container) {
			gapcases.Security(c).AllowPrivilegeEscalation = new(false)
		}),
	}}
}

// TestDefaultsMatchPSP installs, on a real v1.37 apiserver, the
// MutatingAdmissionPolicy of every case's PSP bound to a namespace of its
// own and dry-runs every pod the PSP admits, as written: the pod the
// server returns must carry, field for field, the security settings the
// 1.24 PSP (psp.Admit) gave it, its profile annotations read as fields
// (capability lists compared as sets: 1.24 sorted them).
func TestDefaultsMatchPSP(t *testing.T) {
	admin := adminClient(t)
	var compared, mutated atomic.Int64
	t.Cleanup(func() {
		t.Logf("%d pods compared field for field, %d of them given values by their PSP", compared.Load(), mutated.Load())
	})
	type installed struct {
		defaultsCase
		p  *psp.PodSecurityPolicy
		ns string
	}
	var all []installed
	for _, tc := range defaultsCases(t) {
		p := tc.psp.DeepCopy()
		p.Name = testcluster.UniqueName("defaults")
		in := installed{defaultsCase: tc, p: p, ns: namespace(t, admin)}
		ensureRuntimeClasses(t, admin, p)
		create(t, admin, withCanary(Policy(p.Name, ForPolicy(p))), Binding(p.Name, []string{in.ns}))
		all = append(all, in)
	}
	for _, in := range all {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			waitActive(t, admin, in.ns)
			for _, np := range in.pods {
				adm := psp.Admit(in.p, np.Pod)
				if len(adm.Errors) > 0 {
					continue // rejected: no PSP gave it anything
				}
				got, err := dryRunCreate(admin, in.ns, np.Pod)
				if err != nil {
					t.Errorf("%s: the server refuses the pod: %v", np.Name, err)
					continue
				}
				compared.Add(1)
				want := asFields(np.Pod, adm.Pod)
				if len(differences(want, np.Pod)) > 0 {
					mutated.Add(1)
				}
				for _, d := range differences(want, got) {
					t.Errorf("%s: %s", np.Name, d)
				}
			}
		})
	}
}

func adminClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	config := testcluster.Get(t, "v1.37").AdminConfig()
	config.WarningHandler = rest.NoWarnings{}
	config.QPS, config.Burst = 500, 1000
	admin, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return admin
}

func namespace(t *testing.T, admin kubernetes.Interface) string {
	t.Helper()
	ctx := context.Background()
	name := testcluster.UniqueName("defaults")
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := admin.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the default ServiceAccount in %s: %v", name, err)
	}
	return name
}

// ensureRuntimeClasses creates the RuntimeClasses the PSP and the probe
// pods name: the RuntimeClass admission plugin rejects unknown ones.
func ensureRuntimeClasses(t *testing.T, admin kubernetes.Interface, p *psp.PodSecurityPolicy) {
	t.Helper()
	names := slices.Clone(gapcases.RuntimeClasses)
	if rc := p.Spec.RuntimeClass; rc != nil && rc.DefaultRuntimeClassName != nil {
		names = append(names, *rc.DefaultRuntimeClassName)
	}
	for _, name := range names {
		rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Handler: name}
		if _, err := admin.NodeV1().RuntimeClasses().Create(context.Background(), rc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating RuntimeClass %s: %v", name, err)
		}
	}
}

func create(t *testing.T, admin kubernetes.Interface, policy *admissionregistrationv1.MutatingAdmissionPolicy, binding *admissionregistrationv1.MutatingAdmissionPolicyBinding) {
	t.Helper()
	ctx := context.Background()
	if _, err := admin.AdmissionregistrationV1().MutatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		data, _ := json.MarshalIndent(policy, "", "  ")
		t.Fatalf("creating policy %s: %v\n%s", policy.Name, err, data)
	}
	if _, err := admin.AdmissionregistrationV1().MutatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating binding %s: %v", binding.Name, err)
	}
}

// waitActive dry-runs the canary pod until the policy annotates it: the
// admission plugin picks up new policies and bindings asynchronously.
func waitActive(t *testing.T, admin kubernetes.Interface, ns string) {
	t.Helper()
	canary := gapcases.CleanPod()
	canary.Labels = map[string]string{canaryLabel: "true"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := dryRunCreate(admin, ns, canary)
		if err == nil && got.Annotations[canaryAnnotation] == "true" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the policy did not take effect in %s within 30s (last error: %v)", ns, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func dryRunCreate(admin kubernetes.Interface, ns string, pod *corev1.Pod) (*corev1.Pod, error) {
	pod = pod.DeepCopy()
	pod.Namespace = ns
	return admin.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
}

// asFields is the pod psp.Admit made, with the profiles it wrote as
// annotations moved to the fields the policies write: the pod's seccomp
// default and each container's AppArmor default, where the pod as written
// had none. Unconfined defaults are not written (see the package doc).
func asFields(raw, admitted *corev1.Pod) *corev1.Pod {
	pod := admitted.DeepCopy()
	if v, ok := pod.Annotations[psp.SeccompPodAnnotation]; ok && raw.Annotations[psp.SeccompPodAnnotation] == "" {
		delete(pod.Annotations, psp.SeccompPodAnnotation)
		if profile := seccompField(v); profile != nil && (raw.Spec.SecurityContext == nil || raw.Spec.SecurityContext.SeccompProfile == nil) {
			gapcases.PodSecurity(pod).SeccompProfile = profile
		}
	}
	for i := range pod.Spec.InitContainers {
		appArmorField(raw, pod, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		appArmorField(raw, pod, &pod.Spec.Containers[i])
	}
	return pod
}

func seccompField(v string) *corev1.SeccompProfile {
	switch {
	case v == psp.SeccompProfileRuntimeDefault || v == psp.SeccompProfileDockerDefault:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case strings.HasPrefix(v, psp.SeccompLocalhostProfilePrefix):
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new(strings.TrimPrefix(v, psp.SeccompLocalhostProfilePrefix))}
	}
	return nil
}

func appArmorField(raw, pod *corev1.Pod, c *corev1.Container) {
	key := psp.AppArmorContainerAnnotationPrefix + c.Name
	v, ok := pod.Annotations[key]
	if !ok || raw.Annotations[key] != "" {
		return
	}
	delete(pod.Annotations, key)
	switch {
	case v == psp.AppArmorProfileRuntimeDefault:
		gapcases.Security(c).AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case strings.HasPrefix(v, psp.AppArmorLocalhostPrefix):
		gapcases.Security(c).AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: new(strings.TrimPrefix(v, psp.AppArmorLocalhostPrefix))}
	}
}

// differences lists the security settings of got that differ from want.
func differences(want, got *corev1.Pod) []string {
	var out []string
	eq := apiequality.Semantic.DeepEqual
	if w, g := podSC(want), podSC(got); !eq(w, g) {
		out = append(out, fmt.Sprintf("pod securityContext %s, PSP made %s", jsonOf(g), jsonOf(w)))
	}
	if !eq(want.Spec.RuntimeClassName, got.Spec.RuntimeClassName) {
		out = append(out, fmt.Sprintf("runtimeClassName %s, PSP made %s", jsonOf(got.Spec.RuntimeClassName), jsonOf(want.Spec.RuntimeClassName)))
	}
	for _, lists := range [][2][]corev1.Container{{want.Spec.InitContainers, got.Spec.InitContainers}, {want.Spec.Containers, got.Spec.Containers}} {
		for i := range lists[0] {
			w, g := containerSC(&lists[0][i]), containerSC(&lists[1][i])
			if !eq(w, g) {
				out = append(out, fmt.Sprintf("container %s securityContext %s, PSP made %s", lists[0][i].Name, jsonOf(g), jsonOf(w)))
			}
		}
	}
	return out
}

// podSC and containerSC are the security contexts, empty when unset, with
// capability lists sorted.
func podSC(pod *corev1.Pod) *corev1.PodSecurityContext {
	if pod.Spec.SecurityContext == nil {
		return &corev1.PodSecurityContext{}
	}
	return pod.Spec.SecurityContext
}

func containerSC(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		return &corev1.SecurityContext{}
	}
	sc := c.SecurityContext.DeepCopy()
	if sc.Capabilities != nil {
		slices.Sort(sc.Capabilities.Add)
		sc.Capabilities.Add = slices.Compact(sc.Capabilities.Add)
		slices.Sort(sc.Capabilities.Drop)
		sc.Capabilities.Drop = slices.Compact(sc.Capabilities.Drop)
	}
	return sc
}

func jsonOf(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}
