package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/nslabels"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/pod-security-admission/api"
)

// TestPlanHoldsOnEachTargetServer is the migration, per target server, as
// a user runs it: plan for the server (--server-version), rewrite the
// manifests (--in-place), create the workloads where no PSP injects
// anything any more (on 1.24 one PSP that admits every pod unchanged; on
// 1.29 and 1.37 none), and label the namespaces with apply-labels.
//
// Every workload the labels admit must come out of the real server with
// the security settings PSP admission gave it before, field for field as
// that server's kubelet reads them (AppArmor as the annotation before
// 1.30, seccomp annotations only up to 1.26); the dry run of the labels
// must warn of none of them; and every workload the plan says its
// namespace's labels reject must be rejected there.
func TestPlanHoldsOnEachTargetServer(t *testing.T) {
	requireShared(t)
	for _, version := range []string{"v1.24", "v1.29", "v1.37"} {
		t.Run(version, func(t *testing.T) {
			c := testcluster.Private(t, version)
			if version == "v1.24" {
				c.AdmitEveryPodUnchanged(t)
			}
			migrateAndCheck(t, c, version)
		})
	}
}

func migrateAndCheck(t *testing.T, c *testcluster.Cluster, version string) {
	inputs := copyDir(t, demo)
	write(t, filepath.Join(inputs, "ranged.yaml"), string(mustRead(t, "../../testdata/target/ranged.yaml")))
	before := readWorld(t, inputs)

	r := runCLI(t, "", "plan", "-o", "json", "--server-version", version, inputs)
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || r.code != exitOK {
		t.Fatalf("plan: exit %d, %v: %s", r.code, err, r.stderr)
	}
	if p.Target.String() != version || p.PSSVersion != version {
		t.Fatalf("plan for %s: target %s, PSS %s", version, p.Target, p.PSSVersion)
	}
	if r := runCLI(t, "", "plan", "--in-place", "--server-version", version, inputs); r.code != exitOK {
		t.Fatalf("plan --in-place: exit %d: %s", r.code, r.stderr)
	}
	after := readWorld(t, inputs)

	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{}
	cs := kubernetes.NewForConfigOrDie(cfg)
	createNamespacesAndAccounts(t, cs, &p, after.inv)

	var rejected []*plan.Workload
	created := 0
	for i := range p.Workloads {
		w := &p.Workloads[i]
		if w.OwnedBy != "" {
			continue
		}
		if !admits(namespaceOf(t, &p, w.Namespace).Enforce, w.LevelAfterPatch) {
			rejected = append(rejected, w)
			continue
		}
		if w.Rejected() {
			continue // no PSP admits it today: nothing to keep
		}
		got := createPod(t, cs, w, after.template(t, w), metav1.CreateOptions{})
		want := before.admitted(t, w)
		gotView, wantView := effectiveSecurity(got, version), effectiveSecurity(want, "v1.24")
		if !equalJSON(gotView, wantView) {
			t.Errorf("%s on %s runs with\n%s\nPSP admission gave it\n%s", w.Ref(), version, asJSONText(gotView), asJSONText(wantView))
		}
		created++
	}
	if created < 8 || len(rejected) == 0 {
		t.Fatalf("%d workloads created, %d the labels reject: the test lost its coverage", created, len(rejected))
	}

	dry := runCLI(t, "", "apply-labels", "-o", "json", "--kubeconfig", c.KubeconfigPath(), "--server-version", version, inputs)
	var report nslabels.Report
	if err := json.Unmarshal([]byte(dry.stdout), &report); err != nil || dry.code != exitOK {
		t.Fatalf("apply-labels dry run: exit %d, %v: %s", dry.code, err, dry.stderr)
	}
	for _, ns := range report.Namespaces {
		if len(ns.Warnings) > 0 {
			t.Errorf("the dry run of %s's labels warns: %v", ns.Namespace, ns.Warnings)
		}
	}
	if r := runCLI(t, "", "apply-labels", "--apply", "--kubeconfig", c.KubeconfigPath(), "--server-version", version, inputs); r.code != exitOK {
		t.Fatalf("apply-labels --apply: exit %d: %s", r.code, r.stderr)
	}
	for _, w := range rejected {
		_, err := cs.CoreV1().Pods(w.Namespace).Create(context.Background(), podOf(w, after.template(t, w)), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
			t.Errorf("%s (%s once patched, namespace enforces %s): %v; want it rejected by PodSecurity",
				w.Ref(), w.LevelAfterPatch, namespaceOf(t, &p, w.Namespace).Enforce, err)
		}
	}
}

// world is the inventory and PSPs read from a directory of manifests.
type world struct {
	inv      *inventory.Inventory
	policies map[string]*psp.PodSecurityPolicy
}

func readWorld(t *testing.T, dir string) world {
	t.Helper()
	docs, errs := manifest.Read([]string{dir}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	inv, errs := inventory.FromDocuments(docs, "")
	for _, err := range errs {
		if !inventory.IsWarning(err) {
			t.Fatal(err)
		}
	}
	w := world{inv: inv, policies: map[string]*psp.PodSecurityPolicy{}}
	for _, pol := range psp.FromDocuments(docs).Policies {
		w.policies[pol.PSP.Name] = pol.PSP
	}
	return w
}

func (w world) workload(t *testing.T, pw *plan.Workload) *inventory.Workload {
	t.Helper()
	for i := range w.inv.Workloads {
		iw := &w.inv.Workloads[i]
		if iw.Kind == pw.Kind && iw.Namespace == pw.Namespace && iw.Name == pw.Name {
			return iw
		}
	}
	t.Fatalf("%s is not in the input", pw.Ref())
	return nil
}

func (w world) template(t *testing.T, pw *plan.Workload) *corev1.PodTemplateSpec {
	return w.workload(t, pw).Template
}

// admitted is the pod the PSP that admits the workload made of it.
func (w world) admitted(t *testing.T, pw *plan.Workload) *corev1.Pod {
	t.Helper()
	iw := w.workload(t, pw)
	var sa *corev1.ServiceAccount
	for i := range w.inv.ServiceAccounts {
		if s := &w.inv.ServiceAccounts[i]; s.Namespace == iw.Namespace && s.Name == iw.ServiceAccount {
			sa = s
		}
	}
	adm := psp.Admit(w.policies[pw.AdmittedBy], psp.AdmissionPod(iw.Namespace, iw.Template, sa))
	if !adm.Admitted() {
		t.Fatalf("%s: PSP %s does not admit it: %v", pw.Ref(), pw.AdmittedBy, adm.Errors)
	}
	return adm.Pod
}

func namespaceOf(t *testing.T, p *plan.Plan, name string) *plan.Namespace {
	t.Helper()
	for i := range p.Namespaces {
		if p.Namespaces[i].Name == name {
			return &p.Namespaces[i]
		}
	}
	t.Fatalf("no namespace %s in the plan", name)
	return nil
}

// admits reports whether a namespace enforcing enforce admits a pod that
// passes level.
func admits(enforce, level api.Level) bool {
	return enforce == "" || enforce == level || slices.Contains(pss.StricterLevels(enforce), level)
}

func createNamespacesAndAccounts(t *testing.T, cs kubernetes.Interface, p *plan.Plan, inv *inventory.Inventory) {
	t.Helper()
	ctx := context.Background()
	for _, ns := range p.Namespaces {
		if ns.System {
			continue
		}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns.Name}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create namespace %s: %v", ns.Name, err)
		}
		accounts := []corev1.ServiceAccount{{ObjectMeta: metav1.ObjectMeta{Name: "default"}}}
		for _, sa := range inv.ServiceAccounts {
			if sa.Namespace == ns.Name && sa.Name != "default" {
				accounts = append(accounts, corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa.Name}})
			}
		}
		for _, sa := range accounts {
			if _, err := cs.CoreV1().ServiceAccounts(ns.Name).Create(ctx, &sa, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create service account %s/%s: %v", ns.Name, sa.Name, err)
			}
		}
	}
}

// podOf is the pod a workload's controller would create from its template.
func podOf(w *plan.Workload, template *corev1.PodTemplateSpec) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: *template.ObjectMeta.DeepCopy(), Spec: *template.Spec.DeepCopy()}
	pod.Name = strings.ToLower(w.Kind) + "-" + w.Name
	pod.Namespace = w.Namespace
	if w.Kind == "StatefulSet" {
		addClaimVolumes(pod)
	}
	return pod
}

// addClaimVolumes adds what the StatefulSet controller adds for each
// volumeClaimTemplate: a volume of the mount's name with the pod's claim.
func addClaimVolumes(pod *corev1.Pod) {
	for _, c := range pod.Spec.Containers {
		for _, m := range c.VolumeMounts {
			if slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name }) {
				continue
			}
			pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: m.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: m.Name + "-" + pod.Name},
			}})
		}
	}
}

func createPod(t *testing.T, cs kubernetes.Interface, w *plan.Workload, template *corev1.PodTemplateSpec, opts metav1.CreateOptions) *corev1.Pod {
	t.Helper()
	got, err := cs.CoreV1().Pods(w.Namespace).Create(context.Background(), podOf(w, template), opts)
	if err != nil {
		t.Fatalf("create %s: %v", w.Ref(), err)
	}
	return got
}

// securityView is what a pod runs with as far as PSP defaults reach, read
// as the kubelet of one Kubernetes version reads it: seccomp from the
// field, and up to 1.26 from the annotation when there is no field;
// AppArmor from the annotation before 1.30, then the field first.
type securityView struct {
	FSGroup            *int64                   `json:"fsGroup,omitempty"`
	SupplementalGroups []int64                  `json:"supplementalGroups,omitempty"`
	RuntimeClassName   *string                  `json:"runtimeClassName,omitempty"`
	Containers         map[string]containerView `json:"containers"`
}

type containerView struct {
	RunAsUser                *int64                 `json:"runAsUser,omitempty"`
	RunAsGroup               *int64                 `json:"runAsGroup,omitempty"`
	RunAsNonRoot             *bool                  `json:"runAsNonRoot,omitempty"`
	SELinux                  *corev1.SELinuxOptions `json:"seLinux,omitempty"`
	Add                      []string               `json:"add,omitempty"`
	Drop                     []string               `json:"drop,omitempty"`
	ReadOnlyRootFilesystem   bool                   `json:"readOnlyRootFilesystem,omitempty"`
	AllowPrivilegeEscalation *bool                  `json:"allowPrivilegeEscalation,omitempty"`
	Seccomp                  string                 `json:"seccomp,omitempty"`
	AppArmor                 string                 `json:"appArmor,omitempty"`
}

func effectiveSecurity(pod *corev1.Pod, version string) securityView {
	minor := api.MajorMinorVersion(1, 0)
	if v, err := api.ParseVersion(version); err == nil {
		minor = v
	}
	readsSeccompAnnotations := minor.Older(api.MajorMinorVersion(1, 27))
	appArmorField := !minor.Older(api.MajorMinorVersion(1, 30))
	podSC := pod.Spec.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	v := securityView{FSGroup: podSC.FSGroup, RuntimeClassName: pod.Spec.RuntimeClassName, Containers: map[string]containerView{}}
	v.SupplementalGroups = slices.Sorted(slices.Values(podSC.SupplementalGroups))
	for _, c := range allPodContainers(&pod.Spec) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		cv := containerView{
			RunAsUser:                firstOf(sc.RunAsUser, podSC.RunAsUser),
			RunAsGroup:               firstOf(sc.RunAsGroup, podSC.RunAsGroup),
			RunAsNonRoot:             firstOf(sc.RunAsNonRoot, podSC.RunAsNonRoot),
			SELinux:                  firstOf(sc.SELinuxOptions, podSC.SELinuxOptions),
			ReadOnlyRootFilesystem:   sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem,
			AllowPrivilegeEscalation: sc.AllowPrivilegeEscalation,
		}
		if cv.RunAsUser != nil && *cv.RunAsUser != 0 && cv.RunAsNonRoot != nil && *cv.RunAsNonRoot {
			// A non-zero UID runs the same with or without runAsNonRoot:
			// true; the plan adds it where MustRunAs excluded root.
			cv.RunAsNonRoot = nil
		}
		if sc.Capabilities != nil {
			cv.Add, cv.Drop = capabilityNames(sc.Capabilities.Add), capabilityNames(sc.Capabilities.Drop)
		}
		cv.Seccomp = seccompOf(pod, c, podSC, readsSeccompAnnotations)
		cv.AppArmor = appArmorOf(pod, c, sc, podSC, appArmorField)
		v.Containers[c.Name] = cv
	}
	return v
}

func seccompOf(pod *corev1.Pod, c *corev1.Container, podSC *corev1.PodSecurityContext, readsAnnotations bool) string {
	profile := ""
	switch {
	case c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil:
		profile = seccompText(c.SecurityContext.SeccompProfile)
	case podSC.SeccompProfile != nil:
		profile = seccompText(podSC.SeccompProfile)
	case readsAnnotations:
		profile = pod.Annotations["container.seccomp.security.alpha.kubernetes.io/"+c.Name]
		if profile == "" {
			profile = pod.Annotations["seccomp.security.alpha.kubernetes.io/pod"]
		}
	}
	switch profile {
	case "unconfined":
		return "" // what an unset profile runs as on a default kubelet
	case "docker/default":
		return "runtime/default"
	}
	return profile
}

func seccompText(p *corev1.SeccompProfile) string {
	switch p.Type {
	case corev1.SeccompProfileTypeRuntimeDefault:
		return "runtime/default"
	case corev1.SeccompProfileTypeUnconfined:
		return "unconfined"
	case corev1.SeccompProfileTypeLocalhost:
		if p.LocalhostProfile != nil {
			return "localhost/" + *p.LocalhostProfile
		}
	}
	return string(p.Type)
}

func appArmorOf(pod *corev1.Pod, c *corev1.Container, sc *corev1.SecurityContext, podSC *corev1.PodSecurityContext, field bool) string {
	annotation := pod.Annotations["container.apparmor.security.beta.kubernetes.io/"+c.Name]
	if !field {
		return annotation
	}
	for _, p := range []*corev1.AppArmorProfile{sc.AppArmorProfile} {
		if p != nil {
			return appArmorText(p)
		}
	}
	if annotation != "" {
		return annotation
	}
	if podSC.AppArmorProfile != nil {
		return appArmorText(podSC.AppArmorProfile)
	}
	return ""
}

func appArmorText(p *corev1.AppArmorProfile) string {
	switch p.Type {
	case corev1.AppArmorProfileTypeRuntimeDefault:
		return "runtime/default"
	case corev1.AppArmorProfileTypeUnconfined:
		return "unconfined"
	case corev1.AppArmorProfileTypeLocalhost:
		if p.LocalhostProfile != nil {
			return "localhost/" + *p.LocalhostProfile
		}
	}
	return string(p.Type)
}

func allPodContainers(spec *corev1.PodSpec) []*corev1.Container {
	var out []*corev1.Container
	for i := range spec.InitContainers {
		out = append(out, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		out = append(out, &spec.Containers[i])
	}
	return out
}

func capabilityNames(caps []corev1.Capability) []string {
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		if !slices.Contains(out, string(c)) {
			out = append(out, string(c))
		}
	}
	slices.Sort(out)
	return out
}

func firstOf[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func equalJSON(a, b any) bool { return asJSONText(a) == asJSONText(b) }

func asJSONText(v any) string {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
