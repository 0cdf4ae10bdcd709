package nslabels

import (
	"context"
	"fmt"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

const fixture = "../testdata/labels/workloads.yaml"

func TestMain(m *testing.M) { os.Exit(testcluster.Main(m, "v1.24", "v1.37")) }

// The story of one migration on a 1.37 cluster: the "patched" namespace
// runs pods already patched as `plan --to-level restricted` says, the
// "unpatched" one still runs the pod as written. Both are planned
// restricted.
func TestApplyLabelsV137(t *testing.T) {
	c := testcluster.Get(t, "v1.37")
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(c.AdminConfig())
	labeler, err := NewLabeler(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	other := map[string]string{"team": "shop"}
	patchedNS := createNamespace(t, admin, "patched", other)
	unpatchedNS := createNamespace(t, admin, "unpatched", other)
	patched, unpatched := planFor(t, patchedNS), planFor(t, unpatchedNS)
	// The informer PodSecurity lists pods from sees them in creation order:
	// once the unpatched pod shows in a dry run, the patched ones are seen too.
	patchedPods := createPods(t, admin, patched, (*plan.Workload).PatchedTemplate)
	violating := createPods(t, admin, unpatched, (*plan.Workload).Template)
	targets := append(targetsOf(t, patched), targetsOf(t, unpatched)...)
	waitForWarnings(t, labeler, targets[1])

	t.Run("dry run: no warnings for the patched namespace, the violating pods named for the other", func(t *testing.T) {
		r := labeler.Run(ctx, targets, Options{})
		if res := r.Namespaces[0]; res.Status != DryRun || len(res.Warnings) != 0 {
			t.Errorf("%s: status %s, warnings %q; want dry-run without warnings (pods %v)", res.Namespace, res.Status, res.Warnings, names(patchedPods))
		}
		res := r.Namespaces[1]
		if res.Status != DryRun {
			t.Errorf("%s: status %s (%s), want dry-run", res.Namespace, res.Status, res.Error)
		}
		want := expectedWarnings(t, unpatchedNS, violating)
		if !reflect.DeepEqual(res.Warnings, want) {
			t.Errorf("%s: warnings\n got %q\nwant %q", res.Namespace, res.Warnings, want)
		}
		// Both pods fail alike, so PodSecurity names the first and counts the other.
		if text := strings.Join(res.Warnings, "\n"); !strings.Contains(text, "frontend (and 1 other pod): ") || !strings.Contains(text, "runAsNonRoot != true") {
			t.Errorf("warnings do not name pod frontend and its runAsNonRoot check: %q", res.Warnings)
		}
		assertNoPSALabels(t, admin, patchedNS, unpatchedNS)
	})

	t.Run("hold on warnings applies nothing anywhere", func(t *testing.T) {
		before := resourceVersions(t, admin, patchedNS, unpatchedNS)
		r := labeler.Run(ctx, targets, Options{Apply: true, HoldOnWarnings: true})
		for _, res := range r.Namespaces {
			if res.Status != Held || res.Applied {
				t.Errorf("%s: status %s applied %v, want held", res.Namespace, res.Status, res.Applied)
			}
		}
		if after := resourceVersions(t, admin, patchedNS, unpatchedNS); !reflect.DeepEqual(before, after) {
			t.Errorf("namespaces changed: resourceVersions %v -> %v", before, after)
		}
	})

	t.Run("apply sets exactly the planned labels and touches no other", func(t *testing.T) {
		r := labeler.Run(ctx, targets, Options{Apply: true})
		for i, res := range r.Namespaces {
			if res.Status != Applied || !res.Applied {
				t.Errorf("%s: status %s (%s), want applied", res.Namespace, res.Status, res.Error)
			}
			want := maps.Clone(targets[i].Labels)
			maps.Copy(want, withName(other, res.Namespace))
			if got := liveLabels(t, admin, res.Namespace); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: labels\n got %v\nwant %v", res.Namespace, got, want)
			}
		}
	})

	t.Run("the enforced level rejects violating pods and admits patched ones", func(t *testing.T) {
		waitForbidden(t, admin, patchedNS, podFrom(unpatched.Workloads[1].Template(), "late-violator"))
		_, err := admin.CoreV1().Pods(patchedNS).Create(ctx, podFrom(unpatched.Workloads[1].Template(), "violator"), metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "restricted:v1.37"`) {
			t.Errorf("violating pod: want Forbidden by PodSecurity restricted:v1.37, got %v", err)
		}
		if _, err := admin.CoreV1().Pods(patchedNS).Create(ctx, podFrom(patched.Workloads[1].PatchedTemplate(), "web-2"), metav1.CreateOptions{}); err != nil {
			t.Errorf("patched pod rejected after labelling: %v", err)
		}
	})

	t.Run("running again sends no patch", func(t *testing.T) {
		before := resourceVersions(t, admin, patchedNS, unpatchedNS)
		r := labeler.Run(ctx, targets, Options{Apply: true, Overwrite: true})
		for _, res := range r.Namespaces {
			if res.Status != Unchanged || res.Applied || len(res.Warnings) != 0 {
				t.Errorf("%s: %+v, want unchanged", res.Namespace, res)
			}
			for _, l := range res.Labels {
				if l.Action != Equal {
					t.Errorf("%s: %+v, want equal", res.Namespace, l)
				}
			}
		}
		if after := resourceVersions(t, admin, patchedNS, unpatchedNS); !reflect.DeepEqual(before, after) {
			t.Errorf("namespaces changed: resourceVersions %v -> %v", before, after)
		}
	})
}

func TestApplyLabelsExistingValuesV137(t *testing.T) {
	c := testcluster.Get(t, "v1.37")
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(c.AdminConfig())
	labeler, err := NewLabeler(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	existing := map[string]string{
		Prefix + "enforce": "baseline",
		Prefix + "audit":   "restricted", // what the plan wants too
		"team":             "shop",
	}
	ns := createNamespace(t, admin, "existing", existing)
	targets := targetsOf(t, planFor(t, ns))
	planned := targets[0].Labels

	t.Run("without overwrite the live value is kept", func(t *testing.T) {
		r := labeler.Run(ctx, targets, Options{Apply: true})
		res := r.Namespaces[0]
		if res.Status != Applied {
			t.Fatalf("status %s (%s), want applied", res.Status, res.Error)
		}
		want := maps.Clone(planned)
		maps.Copy(want, withName(existing, ns))
		if got := liveLabels(t, admin, ns); !reflect.DeepEqual(got, want) {
			t.Errorf("labels\n got %v\nwant %v", got, want)
		}
		wantActions(t, res.Labels, map[string]Action{Prefix + "enforce": Keep, Prefix + "audit": Equal, Prefix + "warn": Add})
	})

	t.Run("with overwrite it is replaced, other labels untouched", func(t *testing.T) {
		r := labeler.Run(ctx, targets, Options{Apply: true, Overwrite: true})
		res := r.Namespaces[0]
		if res.Status != Applied {
			t.Fatalf("status %s (%s), want applied", res.Status, res.Error)
		}
		want := withName(map[string]string{"team": "shop"}, ns)
		maps.Copy(want, planned)
		if got := liveLabels(t, admin, ns); !reflect.DeepEqual(got, want) {
			t.Errorf("labels\n got %v\nwant %v", got, want)
		}
		wantActions(t, res.Labels, map[string]Action{Prefix + "enforce": Change, Prefix + "audit": Equal, Prefix + "warn": Equal})
	})

	t.Run("a namespace missing on the cluster is reported, not created", func(t *testing.T) {
		name := testcluster.UniqueName("missing")
		r := labeler.Run(ctx, []Target{{Namespace: name, Labels: planned}}, Options{Apply: true})
		if res := r.Namespaces[0]; res.Status != Missing {
			t.Errorf("status %s (%s), want missing", res.Status, res.Error)
		}
		if _, err := admin.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace %s: want NotFound, got %v", name, err)
		}
	})
}

// planFor plans the fixture's workloads into namespace ns, patched up to
// restricted as `plan --to-level restricted` would.
func planFor(t *testing.T, ns string) *plan.Plan {
	t.Helper()
	docs, errs := manifest.Read([]string{fixture}, nil)
	load := psp.FromDocuments(docs)
	inv, invErrs := inventory.FromDocuments(docs, ns)
	if all := append(append(errs, load.Errors...), invErrs...); len(all) > 0 {
		t.Fatalf("reading %s: %v", fixture, all)
	}
	p := plan.Build(plan.Input{Policies: load.Policies, Inventory: inv}, plan.Options{
		Version: pss.NewestVersion(), ToLevel: pss.Restricted, EmptyNamespaceLevel: pss.Baseline,
		ControllerIdentity: "serviceaccounts",
	})
	if len(p.Workloads) != 2 || p.Workloads[1].Kind != "Pod" {
		t.Fatalf("fixture: want a Deployment then a Pod, got %d workloads", len(p.Workloads))
	}
	return p
}

func targetsOf(t *testing.T, p *plan.Plan) []Target {
	t.Helper()
	targets, skipped := Targets(p)
	if len(targets) != 1 || len(skipped) != 0 || targets[0].Labels[Prefix+"enforce"] != "restricted" {
		t.Fatalf("plan: want one namespace enforcing restricted, got %+v (skipped %v)", targets, skipped)
	}
	return targets
}

func createNamespace(t *testing.T, cs kubernetes.Interface, prefix string, labels map[string]string) string {
	t.Helper()
	ctx := context.Background()
	name := testcluster.UniqueName(prefix)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: withName(labels, name)}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	// No controller-manager creates it, and pods need it.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := cs.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create default service account: %v", err)
	}
	return name
}

// withName returns labels plus the kubernetes.io/metadata.name label the
// apiserver sets on every namespace.
func withName(labels map[string]string, ns string) map[string]string {
	out := maps.Clone(labels)
	out["kubernetes.io/metadata.name"] = ns
	return out
}

// createPods creates one pod per workload of the plan from the template
// the accessor picks (as written or patched).
func createPods(t *testing.T, cs kubernetes.Interface, p *plan.Plan, template func(*plan.Workload) *corev1.PodTemplateSpec) []*corev1.Pod {
	t.Helper()
	var out []*corev1.Pod
	for i := range p.Workloads {
		w := &p.Workloads[i]
		pod, err := cs.CoreV1().Pods(w.Namespace).Create(context.Background(), podFrom(template(w), w.Name), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create pod from %s: %v", w.Ref(), err)
		}
		out = append(out, pod)
	}
	return out
}

func podFrom(t *corev1.PodTemplateSpec, name string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: *t.ObjectMeta.DeepCopy(), Spec: *t.Spec.DeepCopy()}
	pod.Name, pod.Namespace = name, ""
	return pod
}

// expectedWarnings are the warnings PodSecurity gives for a namespace
// whose pods are the given ones, computed with the library the apiserver
// runs: one line for the namespace, then per distinct reason the first pod.
func expectedWarnings(t *testing.T, ns string, pods []*corev1.Pod) []string {
	t.Helper()
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lv := api.LevelVersion{Level: api.LevelRestricted, Version: pss.NewestVersion()}
	first := map[string]string{}
	for _, pod := range pods {
		r := policy.AggregateCheckResults(eval.EvaluatePod(lv, &pod.ObjectMeta, &pod.Spec))
		if r.Allowed {
			t.Fatalf("pod %s passes restricted; the test needs it to violate", pod.Name)
		}
		if name, ok := first[r.ForbiddenReason()]; !ok || pod.Name < name {
			first[r.ForbiddenReason()] = pod.Name
		}
	}
	if len(first) != 1 {
		t.Fatalf("the pods fail for %d different reasons; the expectation handles one", len(first))
	}
	want := []string{fmt.Sprintf("existing pods in namespace %q violate the new PodSecurity enforce level %q", ns, lv.String())}
	for reason, name := range first {
		others := ""
		if n := len(pods) - 1; n == 1 {
			others = " (and 1 other pod)"
		} else if n > 1 {
			others = fmt.Sprintf(" (and %d other pods)", n)
		}
		want = append(want, fmt.Sprintf("%s%s: %s", name, others, reason))
	}
	return want
}

// waitForWarnings waits until the dry run of target returns warnings: the
// PodSecurity plugin lists pods from an informer, which trails creation.
func waitForWarnings(t *testing.T, l *Labeler, target Target) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := l.Run(context.Background(), []Target{target}, Options{})
		if len(r.Namespaces[0].Warnings) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dry-run warnings for %s within 10s: %+v", target.Namespace, r.Namespaces[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForbidden waits until a dry-run create of pod is rejected: the
// PodSecurity plugin reads namespace labels from an informer too.
func waitForbidden(t *testing.T, cs kubernetes.Interface, ns string, pod *corev1.Pod) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := cs.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if apierrors.IsForbidden(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s still admitted in %s 10s after labelling: %v", pod.Name, ns, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func liveLabels(t *testing.T, cs kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	got, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get namespace %s: %v", ns, err)
	}
	return got.Labels
}

func assertNoPSALabels(t *testing.T, cs kubernetes.Interface, namespaces ...string) {
	t.Helper()
	for _, ns := range namespaces {
		for k := range liveLabels(t, cs, ns) {
			if strings.HasPrefix(k, Prefix) {
				t.Errorf("%s: dry run left label %s", ns, k)
			}
		}
	}
}

func resourceVersions(t *testing.T, cs kubernetes.Interface, namespaces ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ns := range namespaces {
		got, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get namespace %s: %v", ns, err)
		}
		out[ns] = got.ResourceVersion
	}
	return out
}

func wantActions(t *testing.T, changes []LabelChange, want map[string]Action) {
	t.Helper()
	for _, c := range changes {
		if a, ok := want[c.Key]; ok && c.Action != a {
			t.Errorf("%s: action %s (live %q, planned %q), want %s", c.Key, c.Action, c.Live, c.Planned, a)
		}
	}
}

func names(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}

// On 1.24 PodSecurityPolicy still admits pods and Pod Security admission
// is beta: this is the cluster a migration labels before it upgrades.
// Labels pinned to v1.37 are evaluated there at the newest 1.24 knows.
func TestApplyLabelsV124(t *testing.T) {
	c := testcluster.Get(t, "v1.24")
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(c.AdminConfig())
	createPrivilegedPSP(t, c)
	labeler, err := NewLabeler(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	ns := createNamespace(t, admin, "v124", map[string]string{"team": "shop"})
	p := planFor(t, ns)
	createPods(t, admin, &plan.Plan{Workloads: p.Workloads[1:]}, (*plan.Workload).Template)
	targets := targetsOf(t, p)
	waitForWarnings(t, labeler, targets[0])

	r := labeler.Run(ctx, targets, Options{Apply: true})
	res := r.Namespaces[0]
	if res.Status != Applied {
		t.Fatalf("status %s (%s), want applied", res.Status, res.Error)
	}
	wantFirst := fmt.Sprintf("existing pods in namespace %q violate the new PodSecurity enforce level %q", ns, "restricted:v1.37")
	if len(res.Warnings) != 2 || res.Warnings[0] != wantFirst || !strings.HasPrefix(res.Warnings[1], "web: ") ||
		!strings.Contains(res.Warnings[1], "runAsNonRoot != true") {
		t.Errorf("warnings %q, want %q and the checks pod web fails", res.Warnings, wantFirst)
	}
	want := withName(map[string]string{"team": "shop"}, ns)
	maps.Copy(want, targets[0].Labels)
	if got := liveLabels(t, admin, ns); !reflect.DeepEqual(got, want) {
		t.Errorf("labels\n got %v\nwant %v", got, want)
	}
	waitForbidden(t, admin, ns, podFrom(p.Workloads[1].Template(), "late-violator"))
	_, err = admin.CoreV1().Pods(ns).Create(ctx, podFrom(p.Workloads[1].Template(), "violator"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Errorf("violating pod: want Forbidden by PodSecurity, got %v", err)
	}
}

// createPrivilegedPSP lets admin's pods in without changing them: admin is
// in system:masters, which may use every PSP.
func createPrivilegedPSP(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{} // the API's deprecation notice is expected
	dc := dynamic.NewForConfigOrDie(cfg)
	name := testcluster.UniqueName("privileged")
	anyRule := map[string]any{"rule": "RunAsAny"}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"privileged": true, "allowPrivilegeEscalation": true, "volumes": []any{"*"},
			"runAsUser": anyRule, "seLinux": anyRule, "supplementalGroups": anyRule, "fsGroup": anyRule,
		},
	}}
	if _, err := dc.Resource(testcluster.PSPResource).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PodSecurityPolicy: %v", err)
	}
	t.Cleanup(func() {
		_ = dc.Resource(testcluster.PSPResource).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}
