package rewrite

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/manifest"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	sigsyaml "sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/rewrite")

// podPaths are the paths of a pod spec and its containers in each workload
// kind the cases edit.
var (
	templateSpec = []string{"spec", "template", "spec"}
	cronPodSpec  = []string{"spec", "jobTemplate", "spec", "template", "spec"}
)

func container(spec []string, list, name string) []string {
	return path(spec, []string{list, "[name=" + name + "]"})
}

func sc(prefix []string, fields ...string) []string {
	return path(prefix, []string{"securityContext"}, fields)
}

type goldenCase struct {
	name  string // golden file testdata/rewrite/<name>.yaml
	input string // path of the input file
	edits []Edit
	// dropsComments lists comment lines the edits delete on purpose.
	dropsComments []string
	check         func(t *testing.T, out []byte)
}

func goldenCases(t *testing.T) []goldenCase {
	corpus := testinputs.CorpusDir(t, "workloads")
	demo := filepath.Join("..", "testdata", "demo")
	return []goldenCase{
		{
			name:  "demo-shop-restricted",
			input: filepath.Join(demo, "shop.yaml"),
			edits: []Edit{
				{Document: 1, Sets: []Set{
					{Path: sc(templateSpec, "runAsNonRoot"), Value: true},
					{Path: sc(templateSpec, "seccompProfile"), Value: map[string]any{"type": "RuntimeDefault"}},
					{Path: sc(container(templateSpec, "containers", "web"), "allowPrivilegeEscalation"), Value: false},
					{Path: sc(container(templateSpec, "containers", "web"), "capabilities", "drop"), Value: []string{"ALL"}},
				}},
				{Document: 2, Sets: []Set{
					{Path: sc(templateSpec, "runAsNonRoot"), Value: true},
					{Path: sc(container(templateSpec, "containers", "api"), "allowPrivilegeEscalation"), Value: false},
				}},
			},
			check: func(t *testing.T, out []byte) {
				frontend := decode[appsv1.Deployment](t, out, 1)
				pod := frontend.Spec.Template.Spec
				wantTrue(t, "frontend runAsNonRoot", pod.SecurityContext.RunAsNonRoot)
				if pod.SecurityContext.SeccompProfile == nil || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("frontend seccompProfile = %+v", pod.SecurityContext.SeccompProfile)
				}
				web := pod.Containers[0].SecurityContext
				wantFalse(t, "web allowPrivilegeEscalation", web.AllowPrivilegeEscalation)
				if !reflect.DeepEqual(web.Capabilities.Drop, []corev1.Capability{"ALL"}) {
					t.Errorf("web capabilities.drop = %v", web.Capabilities.Drop)
				}
				api := decode[appsv1.Deployment](t, out, 2).Spec.Template.Spec
				wantTrue(t, "api runAsNonRoot", api.SecurityContext.RunAsNonRoot)
				if got := ptr.Deref(api.SecurityContext.RunAsUser, -1); got != 10001 {
					t.Errorf("api runAsUser = %d, want the original 10001", got)
				}
				wantTrue(t, "api readOnlyRootFilesystem", api.Containers[0].SecurityContext.ReadOnlyRootFilesystem)
				wantFalse(t, "api allowPrivilegeEscalation", api.Containers[0].SecurityContext.AllowPrivilegeEscalation)
			},
		},
		{
			name:  "demo-legacy-nonroot",
			input: filepath.Join(demo, "legacy.yaml"),
			edits: []Edit{{Document: 1,
				Deletes: []Delete{{Path: sc(container(templateSpec, "containers", "gateway"), "capabilities", "add")}},
				Sets:    []Set{{Path: sc(container(templateSpec, "containers", "gateway"), "runAsUser"), Value: int64(1000)}},
			}},
			check: func(t *testing.T, out []byte) {
				gw := decode[appsv1.Deployment](t, out, 1).Spec.Template.Spec.Containers[0].SecurityContext
				if got := ptr.Deref(gw.RunAsUser, -1); got != 1000 {
					t.Errorf("gateway runAsUser = %d, want 1000", got)
				}
				if gw.Capabilities != nil {
					t.Errorf("gateway capabilities = %+v, want none (the emptied mapping removed)", gw.Capabilities)
				}
			},
		},
		{
			name:  "gatekeeper-seccomp-annotation",
			input: filepath.Join(corpus, "open-policy-agent__gatekeeper-library__library_pod-security-policy_seccomp_samples_psp-seccomp_example_disallowed.yaml"),
			edits: []Edit{{
				Deletes: []Delete{{Path: []string{"metadata", "annotations", "container.seccomp.security.alpha.kubernetes.io/nginx"}}},
				Sets:    []Set{{Path: sc(container([]string{"spec"}, "containers", "nginx"), "seccompProfile", "type"), Value: "Unconfined"}},
			}},
			check: func(t *testing.T, out []byte) {
				pod := decode[corev1.Pod](t, out, 0)
				if len(pod.Annotations) != 0 {
					t.Errorf("annotations = %v, want none", pod.Annotations)
				}
				if p := pod.Spec.Containers[0].SecurityContext.SeccompProfile; p == nil || p.Type != corev1.SeccompProfileTypeUnconfined {
					t.Errorf("nginx seccompProfile = %+v", p)
				}
				if pod.Labels["app"] != "nginx-seccomp" {
					t.Errorf("labels = %v, want the original", pod.Labels)
				}
			},
		},
		{
			name:  "ceph-rbdplugin-unprivileged",
			input: filepath.Join(corpus, "ceph__ceph-csi__deploy_rbd_kubernetes_csi-rbdplugin.yaml"),
			edits: []Edit{{Document: 0, Sets: []Set{
				{Path: sc(container(templateSpec, "containers", "csi-rbdplugin"), "privileged"), Value: false},
				{Path: sc(container(templateSpec, "containers", "csi-rbdplugin"), "allowPrivilegeEscalation"), Value: false},
				{Path: path(templateSpec, []string{"hostPID"}), Value: false},
			}}},
			check: func(t *testing.T, out []byte) {
				ds := decode[appsv1.DaemonSet](t, out, 0).Spec.Template.Spec
				c := ds.Containers[0].SecurityContext
				wantFalse(t, "privileged", c.Privileged)
				wantFalse(t, "allowPrivilegeEscalation", c.AllowPrivilegeEscalation)
				if !reflect.DeepEqual(c.Capabilities.Add, []corev1.Capability{"SYS_ADMIN"}) {
					t.Errorf("capabilities.add = %v, want the original", c.Capabilities.Add)
				}
				if ds.HostPID || !ds.HostNetwork {
					t.Errorf("hostPID %v hostNetwork %v, want false and the original true", ds.HostPID, ds.HostNetwork)
				}
			},
		},
		{
			name:  "descheduler-cronjob-seccomp",
			input: filepath.Join(corpus, "kubernetes-sigs__descheduler__kubernetes_cronjob_cronjob.yaml"),
			edits: []Edit{{Document: 0, Sets: []Set{
				{Path: sc(cronPodSpec, "seccompProfile", "type"), Value: "RuntimeDefault"},
			}}},
			check: func(t *testing.T, out []byte) {
				spec := decode[batchv1.CronJob](t, out, 0).Spec.JobTemplate.Spec.Template.Spec
				if p := spec.SecurityContext.SeccompProfile; p == nil || p.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("seccompProfile = %+v", p)
				}
				if !reflect.DeepEqual(spec.Containers[0].Args, []string{"--policy-config-file", "/policy-dir/policy.yaml", "--v", "3"}) {
					t.Errorf("args = %q, want the original", spec.Containers[0].Args)
				}
			},
		},
		{
			name:  "flannel-init-containers",
			input: filepath.Join(corpus, "flannel-io__flannel__documentation_kustomization_kube-flannel_kube-flannel.yml"),
			edits: []Edit{{Document: 5, Sets: []Set{
				{Path: sc(container(templateSpec, "initContainers", "install-cni-plugin"), "capabilities", "drop"), Value: []string{"ALL"}},
				{Path: sc(container(templateSpec, "initContainers", "install-cni"), "capabilities", "drop"), Value: []string{"ALL"}},
				{Path: sc(container(templateSpec, "containers", "kube-flannel"), "capabilities", "drop"), Value: []string{"ALL"}},
			}}},
			check: func(t *testing.T, out []byte) {
				spec := decode[appsv1.DaemonSet](t, out, 5).Spec.Template.Spec
				for _, c := range append(spec.InitContainers, spec.Containers...) {
					if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil || !reflect.DeepEqual(c.SecurityContext.Capabilities.Drop, []corev1.Capability{"ALL"}) {
						t.Errorf("%s: securityContext %+v, want capabilities.drop [ALL]", c.Name, c.SecurityContext)
					}
				}
				if add := spec.Containers[0].SecurityContext.Capabilities.Add; !reflect.DeepEqual(add, []corev1.Capability{"NET_ADMIN", "NET_RAW"}) {
					t.Errorf("kube-flannel capabilities.add = %v, want the original", add)
				}
			},
		},
	}
}

func TestFileGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile(tc.input)
			if err != nil {
				t.Fatal(err)
			}
			out, err := File(in, tc.edits)
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("..", "testdata", "rewrite", tc.name+".yaml"), out)
			assertUntouchedIdentical(t, in, out, tc.edits)
			assertCommentsKept(t, in, out, tc.dropsComments)
			tc.check(t, out)
			again, err := File(out, tc.edits)
			if err != nil {
				t.Fatalf("second application: %v", err)
			}
			if !bytes.Equal(again, out) {
				t.Error("applying the edits to the output changed it")
			}
		})
	}
}

// TestFileLeavesSatisfiedEditsAlone sets fields of a hardened workload to
// the values they have: the file must come out byte for byte, quotes and
// all.
func TestFileLeavesSatisfiedEditsAlone(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(testinputs.CorpusDir(t, "workloads"), "kubernetes__kube-state-metrics__examples_standard_deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := container(templateSpec, "containers", "kube-state-metrics")
	out, err := File(in, []Edit{{Sets: []Set{
		{Path: sc(c, "allowPrivilegeEscalation"), Value: false},
		{Path: sc(c, "capabilities", "drop"), Value: []string{"ALL"}},
		{Path: sc(c, "runAsNonRoot"), Value: true},
		{Path: sc(c, "runAsUser"), Value: int64(65534)},
		{Path: sc(c, "seccompProfile"), Value: map[string]any{"type": "RuntimeDefault"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in, out) {
		t.Errorf("the file changed:\n%s", out)
	}
}

func compareGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./rewrite -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./rewrite -update and review the diff):\n%s", golden, got)
	}
}

// assertUntouchedIdentical checks that out is in but for the edited
// documents' text: putting the original text of those back gives the input
// byte for byte, separators and untouched documents included.
func assertUntouchedIdentical(t *testing.T, in, out []byte, edits []Edit) {
	t.Helper()
	edited := make(map[int]bool)
	for _, e := range edits {
		edited[e.Document] = true
	}
	inSpans, err := manifest.Spans(in)
	if err != nil {
		t.Fatal(err)
	}
	outSpans, err := manifest.Spans(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(inSpans) != len(outSpans) {
		t.Fatalf("%d documents in, %d out", len(inSpans), len(outSpans))
	}
	var restored bytes.Buffer
	pos := 0
	for i, s := range outSpans {
		if edited[i] {
			restored.Write(out[pos:s.Start])
			restored.Write(in[inSpans[i].Start:inSpans[i].End])
			pos = s.End
		}
	}
	restored.Write(out[pos:])
	if !bytes.Equal(restored.Bytes(), in) {
		t.Errorf("bytes outside the edited documents changed:\n%s", out)
	}
}

// assertCommentsKept checks every comment line of the input is still in
// the output, but for those the edits remove on purpose.
func assertCommentsKept(t *testing.T, in, out []byte, dropped []string) {
	t.Helper()
	outLines := make(map[string]bool)
	for _, l := range strings.Split(string(out), "\n") {
		outLines[strings.TrimSpace(l)] = true
	}
	for _, l := range strings.Split(string(in), "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "#") && !outLines[trimmed] && !contains(dropped, trimmed) {
			t.Errorf("comment lost: %s", trimmed)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decode reads document index of a file into a typed object, the way
// Kubernetes' own YAML reader would, and fails on fields it does not know.
func decode[T any](t *testing.T, file []byte, index int) T {
	t.Helper()
	spans, err := manifest.Spans(file)
	if err != nil {
		t.Fatal(err)
	}
	var obj T
	s := spans[index]
	if err := sigsyaml.UnmarshalStrict(file[s.Start:s.End], &obj); err != nil {
		t.Fatalf("document %d: %v", index, err)
	}
	return obj
}

func wantTrue(t *testing.T, what string, b *bool) {
	t.Helper()
	if b == nil || !*b {
		t.Errorf("%s = %v, want true", what, b)
	}
}

func wantFalse(t *testing.T, what string, b *bool) {
	t.Helper()
	if b == nil || *b {
		t.Errorf("%s = %v, want false", what, b)
	}
}
