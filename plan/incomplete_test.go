package plan

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
)

const enforceLabel = "pod-security.kubernetes.io/enforce"

// buildDocs plans documents read elsewhere: the demo less an object, say.
func buildDocs(t *testing.T, opts Options, docs []manifest.Document) *Plan {
	t.Helper()
	load := psp.FromDocuments(docs)
	inv, errs := inventory.FromDocuments(docs, "")
	for _, err := range errs {
		t.Fatalf("inventory: %v", err)
	}
	return Build(Input{Policies: load.Policies, Inventory: inv}, opts)
}

// demoWithout reads the demo less the objects named "Kind/namespace/name".
func demoWithout(t *testing.T, objects ...string) []manifest.Document {
	t.Helper()
	docs, errs := manifest.Read([]string{"../testdata/demo"}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	kept := docs[:0]
	for _, d := range docs {
		if !slices.Contains(objects, d.Kind+"/"+d.Namespace+"/"+d.Name) {
			kept = append(kept, d)
		}
	}
	if len(kept) != len(docs)-len(objects) {
		t.Fatalf("the demo does not hold all of %v", objects)
	}
	return kept
}

func entriesOf(p *Plan, reason string) []Incomplete {
	var out []Incomplete
	for _, m := range p.Incomplete {
		if m.Reason == reason {
			out = append(out, m)
		}
	}
	return out
}

// checkWithheld: a namespace whose answer is incomplete gets audit and warn
// labels but no enforce label, says why, and claims nothing stricter.
func checkWithheld(t *testing.T, ns *Namespace, reasons ...string) {
	t.Helper()
	if !reflect.DeepEqual(ns.Incomplete, reasons) {
		t.Errorf("%s: incomplete %q, want %q", ns.Name, ns.Incomplete, reasons)
	}
	if ns.Enforce != "" || ns.Labels[enforceLabel] != ns.Current[enforceLabel] || len(ns.Tightening) > 0 {
		t.Errorf("%s: enforce %q, labels %v, tightening %d: want no enforce level from an incomplete answer", ns.Name, ns.Enforce, ns.Labels, len(ns.Tightening))
	}
	if !ns.System && ns.Labels["pod-security.kubernetes.io/warn"] == "" {
		t.Errorf("%s: labels %v: want audit and warn", ns.Name, ns.Labels)
	}
	if !slices.ContainsFunc(ns.Notes, func(n string) bool { return strings.HasPrefix(n, "no enforce level: the plan is incomplete here") }) {
		t.Errorf("%s: notes %q do not say why there is no enforce label", ns.Name, ns.Notes)
	}
}

// TestIncompleteWithoutPSPs plans the corpus workloads alone: no PSP, no
// RBAC. Which PSP admits them is unknown, not "rejected"; no namespace
// claims a PSP level or gets an enforce label, so the DaemonSets that use
// host namespaces and hostPath are not shut out by enforce baseline.
func TestIncompleteWithoutPSPs(t *testing.T) {
	p := build(t, defaultOptions(t), testinputs.CorpusDir(t, "workloads"))
	if len(p.Incomplete) == 0 || p.Incomplete[0].Reason != ReasonNoPSP || p.Incomplete[0].Namespace != "" ||
		p.Incomplete[0].Message != "the input holds no PodSecurityPolicy: which PSP admits each workload today is unknown" {
		t.Fatalf("incomplete %+v: want no-psp first, for the whole plan", p.Incomplete)
	}
	if n := len(entriesOf(p, ReasonNoPSP)); n != 1 {
		t.Errorf("no-psp listed %d times, want once", n)
	}
	for i := range p.Workloads {
		w := &p.Workloads[i]
		if !w.Unknown() || !slices.Contains(w.Incomplete, ReasonNoPSP) {
			t.Errorf("%s: admitted by %q, incomplete %q: want unknown for want of PSPs", w.Ref(), w.AdmittedBy, w.Incomplete)
		}
	}
	for i := range p.Namespaces {
		ns := &p.Namespaces[i]
		if ns.PSPLevel != "" {
			t.Errorf("%s: PSP level %q with no PSP in the input", ns.Name, ns.PSPLevel)
		}
		if ns.Enforce != "" || (ns.Labels[enforceLabel] != "" && ns.Labels[enforceLabel] != ns.Current[enforceLabel]) {
			t.Errorf("%s: enforce %q, labels %v", ns.Name, ns.Enforce, ns.Labels)
		}
	}
	// Host network, PID and paths: privileged is what they need, and what
	// audit and warn compare against is baseline.
	for _, name := range []string{"monitoring", "longhorn-system", "rook-ceph"} {
		ns := namespace(t, p, name)
		checkWithheld(t, ns, ns.Incomplete...)
		if ns.WorkloadLevel != pss.Privileged || ns.Labels["pod-security.kubernetes.io/warn"] != "baseline" || ns.Workloads == 0 {
			t.Errorf("%s: workload level %s over %d workloads, labels %v: want privileged, warn baseline", name, ns.WorkloadLevel, ns.Workloads, ns.Labels)
		}
	}
	flannel := namespace(t, p, "kube-flannel")
	checkWithheld(t, flannel, ReasonNoPSP)
	if flannel.Labels[enforceLabel] != "privileged" || !slices.Contains(flannel.Notes, "keeps existing pod-security.kubernetes.io/enforce=privileged (the plan sets no pod-security.kubernetes.io/enforce here)") {
		t.Errorf("kube-flannel: labels %v, notes %q: want its own enforce label kept, and said so", flannel.Labels, flannel.Notes)
	}
}

// TestIncompleteMissingRole plans the demo without the ClusterRole that
// its monitoring RoleBinding names: node-exporter's answer rests on it,
// and only monitoring loses its enforce label.
func TestIncompleteMissingRole(t *testing.T) {
	p := buildDocs(t, defaultOptions(t), demoWithout(t, "ClusterRole//psp:privileged"))
	want := []Incomplete{{
		Reason: ReasonMissingRole, Namespace: "monitoring", Object: "ClusterRole psp:privileged",
		Message: "namespace monitoring: RoleBinding monitoring/psp:privileged binds ClusterRole psp:privileged, which is not in the input; it applies to the identities of 1 workload(s) here, and may grant them use of a PSP",
	}}
	if !reflect.DeepEqual(p.Incomplete, want) {
		t.Errorf("incomplete %+v\nwant %+v", p.Incomplete, want)
	}
	w := workload(t, p, "DaemonSet monitoring/node-exporter")
	if !w.Unknown() || !reflect.DeepEqual(w.Incomplete, []string{ReasonMissingRole}) {
		t.Errorf("node-exporter: admitted by %q, incomplete %q: want unknown, missing-role", w.AdmittedBy, w.Incomplete)
	}
	checkWithheld(t, namespace(t, p, "monitoring"), ReasonMissingRole)
	complete := build(t, defaultOptions(t), "../testdata/demo")
	for _, name := range []string{"shop", "batch", "legacy"} {
		got, want := namespace(t, p, name), namespace(t, complete, name)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s changed though no missing role applies to it:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// TestIncompleteMissingClusterRoleOfAClusterRoleBinding: the binding of
// every service account to a missing ClusterRole reaches every namespace
// with workloads.
func TestIncompleteMissingClusterRoleOfAClusterRoleBinding(t *testing.T) {
	p := buildDocs(t, defaultOptions(t), demoWithout(t, "ClusterRole//psp:restricted"))
	var namespaces []string
	for _, m := range entriesOf(p, ReasonMissingRole) {
		if m.Object != "ClusterRole psp:restricted" || !strings.Contains(m.Message, "ClusterRoleBinding psp:restricted:all-serviceaccounts binds ClusterRole psp:restricted") {
			t.Errorf("entry %+v", m)
		}
		namespaces = append(namespaces, m.Namespace)
	}
	if want := []string{"batch", "legacy", "monitoring", "shop"}; !reflect.DeepEqual(namespaces, want) {
		t.Errorf("missing-role in %q, want %q", namespaces, want)
	}
	// Without psp:restricted, shop and legacy may use no PSP at all.
	for name, reasons := range map[string][]string{
		"batch": {ReasonMissingRole}, "monitoring": {ReasonMissingRole},
		"legacy": {ReasonNoUseGrant, ReasonMissingRole}, "shop": {ReasonNoUseGrant, ReasonMissingRole},
	} {
		checkWithheld(t, namespace(t, p, name), reasons...)
	}
}

// TestIncompleteMissingServiceAccount: a workload's service account that
// the input lacks withholds its namespace's enforce label, and no other.
func TestIncompleteMissingServiceAccount(t *testing.T) {
	p := buildDocs(t, defaultOptions(t), demoWithout(t, "ServiceAccount/shop/api"))
	want := []Incomplete{{
		Reason: ReasonMissingServiceAccount, Namespace: "shop", Workload: "Deployment shop/api", Object: "ServiceAccount shop/api",
		Message: "Deployment shop/api: its service account shop/api is not in the input (no pod is created without it)",
	}}
	if !reflect.DeepEqual(p.Incomplete, want) {
		t.Errorf("incomplete %+v\nwant %+v", p.Incomplete, want)
	}
	if w := workload(t, p, "Deployment shop/api"); w.AdmittedBy != "restricted" || !reflect.DeepEqual(w.Incomplete, []string{ReasonMissingServiceAccount}) {
		t.Errorf("api: admitted by %q, incomplete %q", w.AdmittedBy, w.Incomplete)
	}
	checkWithheld(t, namespace(t, p, "shop"), ReasonMissingServiceAccount)
	if ns := namespace(t, p, "batch"); ns.Enforce == "" || len(ns.Incomplete) > 0 {
		t.Errorf("batch: enforce %q, incomplete %q: want it planned as before", ns.Enforce, ns.Incomplete)
	}
}

// TestIncompleteBarePods: the corpus's bare Pods (gatekeeper's samples,
// in default) run as default, which may use no PSP. Who created them is
// unknown, so no PSP admitting them is an unknown, not a rejection; with
// --pod-creator the creator's grants count and the answers are complete.
func TestIncompleteBarePods(t *testing.T) {
	corpus := testinputs.CorpusDir(t)
	pods := []string{"opa-disallowed", "nginx-forbidden-sysctls-disallowed", "nginx-host-networking-ports-allowed", "nginx-seccomp-disallowed", "nginx-users-disallowed"}

	unknown := build(t, defaultOptions(t), corpus)
	creators := entriesOf(unknown, ReasonUnknownPodCreator)
	if len(creators) != len(pods) {
		t.Fatalf("unknown-pod-creator %+v: want one per bare Pod", creators)
	}
	for i, name := range pods {
		w := workload(t, unknown, "Pod default/"+name)
		if creators[i].Workload != w.Ref() || !w.Unknown() || w.Requester != "" {
			t.Errorf("%s: entry %+v, admitted by %q, incomplete %q: want unknown for want of its creator", name, creators[i], w.AdmittedBy, w.Incomplete)
		}
	}
	def := namespace(t, unknown, "default")
	checkWithheld(t, def, ReasonMissingServiceAccount, ReasonUnknownPodCreator)
	// The pods may be running: they count toward the level audit and
	// warn are set from.
	if def.Workloads != 6 || def.WorkloadLevel != pss.Privileged {
		t.Errorf("default: %d workloads at %s; want the csi DaemonSet and the five pods, privileged", def.Workloads, def.WorkloadLevel)
	}

	opts := defaultOptions(t)
	opts.PodCreator = "user:alice"
	named := build(t, opts, corpus)
	if got := entriesOf(named, ReasonUnknownPodCreator); len(got) != 0 {
		t.Errorf("with --pod-creator: %+v", got)
	}
	for _, name := range pods {
		w := workload(t, named, "Pod default/"+name)
		if w.Requester != "alice" || len(w.Incomplete) > 0 {
			t.Errorf("%s: requester %q, incomplete %q", name, w.Requester, w.Incomplete)
		}
		// alice is authenticated, which the corpus grants allow-hostnetwork
		// and restricted: each pod is rejected with both PSPs' reasons, or
		// admitted.
		if w.Rejected() && len(w.Rejections) != 2 {
			t.Errorf("%s rejected with %+v: want the reasons of both PSPs alice may use", name, w.Rejections)
		}
	}
	if w := workload(t, named, "Pod default/nginx-users-disallowed"); w.AdmittedBy != "allow-hostnetwork" {
		t.Errorf("nginx-users-disallowed admitted by %q, want allow-hostnetwork", w.AdmittedBy)
	}
	checkWithheld(t, namespace(t, named, "default"), ReasonMissingServiceAccount)
}

// annotatedPod is a bare Pod in the demo's legacy namespace, whose service
// account may use only restricted, which rejects it (root, NET_ADMIN).
const annotatedPod = `apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: legacy
  annotations:
    kubernetes.io/psp: %s
spec:
  containers:
    - name: shell
      image: registry.example/legacy/vpn:0.9
      securityContext:
        runAsUser: 0
        capabilities:
          add: [NET_ADMIN]
`

func demoWithPod(t *testing.T, annotation string) []manifest.Document {
	t.Helper()
	pod := strings.Replace(annotatedPod, "%s", annotation, 1)
	if annotation == "" {
		pod = strings.Replace(annotatedPod, "  annotations:\n    kubernetes.io/psp: %s\n", "", 1)
	}
	docs, errs := manifest.Read([]string{"../testdata/demo", manifest.Stdin}, strings.NewReader(pod))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return docs
}

// TestBarePodAnnotation: without --pod-creator a Pod's kubernetes.io/psp
// annotation says which PSP its creator could use; the plan takes it, and
// says so. An annotation naming a PSP the input lacks is a missing piece.
func TestBarePodAnnotation(t *testing.T) {
	p := buildDocs(t, defaultOptions(t), demoWithPod(t, "privileged"))
	w := workload(t, p, "Pod legacy/debug")
	if w.AdmittedBy != "privileged" || len(w.Incomplete) > 0 || w.AnnotationAgrees == nil || !*w.AnnotationAgrees ||
		!slices.Contains(w.Notes, "its creator is unknown (--pod-creator names it): taken as allowed to use PSP privileged, as its kubernetes.io/psp annotation says") {
		t.Errorf("debug: admitted by %q, incomplete %q, notes %q", w.AdmittedBy, w.Incomplete, w.Notes)
	}
	if len(p.Incomplete) > 0 {
		t.Errorf("incomplete %+v", p.Incomplete)
	}
	if ns := namespace(t, p, "legacy"); ns.Enforce != pss.Privileged || ns.Workloads != 1 {
		t.Errorf("legacy: enforce %q over %d workloads; want privileged for the running pod", ns.Enforce, ns.Workloads)
	}

	bare := buildDocs(t, defaultOptions(t), demoWithPod(t, ""))
	if w := workload(t, bare, "Pod legacy/debug"); !w.Unknown() || !reflect.DeepEqual(w.Incomplete, []string{ReasonUnknownPodCreator}) || len(w.Rejections) != 1 {
		t.Errorf("without the annotation: admitted by %q, incomplete %q, rejections %+v", w.AdmittedBy, w.Incomplete, w.Rejections)
	}
	checkWithheld(t, namespace(t, bare, "legacy"), ReasonUnknownPodCreator)

	opts := defaultOptions(t)
	opts.PodCreator = "user:alice"
	named := buildDocs(t, opts, demoWithPod(t, ""))
	if w := workload(t, named, "Pod legacy/debug"); w.Unknown() || !w.Rejected() || len(w.Rejections) != 1 {
		t.Errorf("created by alice, who may use no PSP: admitted by %q, incomplete %q; want rejected by restricted", w.AdmittedBy, w.Incomplete)
	}
	if len(named.Incomplete) > 0 {
		t.Errorf("incomplete %+v", named.Incomplete)
	}

	gone := buildDocs(t, defaultOptions(t), demoWithPod(t, "psp-gone"))
	want := []Incomplete{{Reason: ReasonMissingPSP, Namespace: "legacy", Workload: "Pod legacy/debug", Object: "PodSecurityPolicy psp-gone",
		Message: "Pod legacy/debug: its kubernetes.io/psp annotation names PodSecurityPolicy psp-gone, which is not in the input"}}
	if !reflect.DeepEqual(gone.Incomplete, want) {
		t.Errorf("incomplete %+v\nwant %+v", gone.Incomplete, want)
	}
}

// TestIncompleteClusterRead: what a read of the cluster missed comes
// first, and every namespace, empty or not, rests on it.
func TestIncompleteClusterRead(t *testing.T) {
	docs := demoWithout(t)
	load := psp.FromDocuments(docs)
	inv, _ := inventory.FromDocuments(docs, "")
	inv.Incomplete = []string{"rbac.authorization.k8s.io/v1 rolebindings: forbidden"}
	p := Build(Input{Policies: load.Policies, Inventory: inv}, defaultOptions(t))
	if want := []Incomplete{{Reason: ReasonClusterRead, Message: inv.Incomplete[0]}}; !reflect.DeepEqual(p.Incomplete, want) {
		t.Errorf("incomplete %+v, want %+v", p.Incomplete, want)
	}
	for i := range p.Namespaces {
		checkWithheld(t, &p.Namespaces[i], ReasonClusterRead)
	}
	if w := workload(t, p, "Deployment legacy/vpn-gateway"); !w.Unknown() {
		t.Errorf("vpn-gateway is rejected by a read that missed the RoleBindings; want unknown")
	}
}

// TestIncompleteNoUseGrant plans the corpus workloads with the Kubernetes
// docs' restricted PSP and none of the RBAC that grants it: no subject of
// any namespace may use it, so no answer is a rejection.
func TestIncompleteNoUseGrant(t *testing.T) {
	p := build(t, defaultOptions(t), testinputs.CorpusDir(t, "psp", "kubernetes__website__content_en_examples_policy_restricted-psp.yaml"), testinputs.CorpusDir(t, "workloads"))
	var namespaces []string
	for _, m := range entriesOf(p, ReasonNoUseGrant) {
		namespaces = append(namespaces, m.Namespace)
	}
	if want := []string{"default", "kube-flannel", "kube-system", "longhorn-system", "monitoring", "rook-ceph"}; !reflect.DeepEqual(namespaces, want) {
		t.Errorf("no-use-grant in %q, want %q", namespaces, want)
	}
	for i := range p.Workloads {
		if w := &p.Workloads[i]; !w.Unknown() || !slices.Contains(w.Incomplete, ReasonNoUseGrant) {
			t.Errorf("%s: admitted by %q, incomplete %q: want unknown, no-use-grant", w.Ref(), w.AdmittedBy, w.Incomplete)
		}
	}
	if ns := namespace(t, p, "monitoring"); ns.PSPLevel != pss.Restricted || ns.Enforce != "" {
		t.Errorf("monitoring: PSP level %q, enforce %q: want restricted (a PSP exists, none usable), no enforce", ns.PSPLevel, ns.Enforce)
	}
}
