package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/nslabels"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const labelsFixture = "../../testdata/labels/workloads.yaml"

// TestApplyLabelsCLIV137 drives the command as a user would: plan the
// fixture into a namespace whose pod was never patched, look (dry run),
// let CI gate on the warnings, apply, and run again.
func TestApplyLabelsCLIV137(t *testing.T) {
	c := testcluster.Private(t, "v1.37")
	admin := kubernetes.NewForConfigOrDie(c.AdminConfig())
	ns := labelsNamespace(t, c, admin)
	base := []string{"apply-labels", "--kubeconfig", c.KubeconfigPath(), "--to-level", "restricted", "-n", ns, labelsFixture}
	cli := func(extra ...string) result { return runCLI(t, "", append(append([]string{}, base...), extra...)...) }

	var rv string
	t.Run("dry run reports the labels and the violating pod, changes nothing", func(t *testing.T) {
		rv = resourceVersion(t, admin, ns)
		r := cli("-o", "json")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		res := onlyResult(t, r.stdout)
		if res.Status != nslabels.DryRun || len(res.Labels) != 6 || !strings.Contains(strings.Join(res.Warnings, "\n"), "web: ") {
			t.Errorf("result %+v: want a dry run of 6 labels warning about pod web", res)
		}
		if got := resourceVersion(t, admin, ns); got != rv {
			t.Errorf("dry run changed the namespace: resourceVersion %s -> %s", rv, got)
		}
	})

	t.Run("fail-on-warnings exits 3 and, with --apply, applies nothing", func(t *testing.T) {
		for _, args := range [][]string{{"--fail-on-warnings"}, {"--fail-on-warnings", "--apply"}} {
			r := cli(append(args, "-o", "json")...)
			if r.code != exitWarnings {
				t.Errorf("%v: exit %d, want %d: %s", args, r.code, exitWarnings, r.stderr)
			}
			if got := resourceVersion(t, admin, ns); got != rv {
				t.Errorf("%v changed the namespace: resourceVersion %s -> %s", args, rv, got)
			}
		}
	})

	t.Run("apply sets the planned labels", func(t *testing.T) {
		r := cli("--apply", "-o", "json")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		res := onlyResult(t, r.stdout)
		want := map[string]string{"kubernetes.io/metadata.name": ns, "team": "shop"}
		for _, l := range res.Labels {
			want[l.Key] = l.Planned
		}
		if got := liveNamespace(t, admin, ns).Labels; res.Status != nslabels.Applied || !reflect.DeepEqual(got, want) {
			t.Errorf("status %s, labels %v; want applied, %v", res.Status, got, want)
		}
	})

	t.Run("a second run changes nothing", func(t *testing.T) {
		rv := resourceVersion(t, admin, ns)
		r := cli("--apply")
		if r.code != exitOK || !strings.Contains(r.stdout, "1 unchanged; 0 with warnings") {
			t.Errorf("exit %d, output:\n%s%s", r.code, r.stdout, r.stderr)
		}
		if got := resourceVersion(t, admin, ns); got != rv {
			t.Errorf("second run changed the namespace: resourceVersion %s -> %s", rv, got)
		}
	})

	t.Run("a namespace not on the cluster is reported", func(t *testing.T) {
		missing := testcluster.UniqueName("missing")
		r := runCLI(t, "", "apply-labels", "--kubeconfig", c.KubeconfigPath(), "-n", missing, "--apply", "-o", "json", labelsFixture)
		if res := onlyResult(t, r.stdout); r.code != exitOK || res.Status != nslabels.Missing {
			t.Errorf("exit %d, status %s; want 0, missing: %s", r.code, res.Status, r.stderr)
		}
	})

	t.Run("planned from the 1.37 cluster itself: incomplete without PSPs, so dry run only", func(t *testing.T) {
		rv := resourceVersion(t, admin, ns)
		r := runCLI(t, "", "apply-labels", "--kubeconfig", c.KubeconfigPath(), "-n", ns, "-o", "json")
		var rep nslabels.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != exitOK {
			t.Fatalf("exit %d, report %v: %s%s", r.code, err, r.stdout, r.stderr)
		}
		if rep.Cluster != testcluster.AdminContext || !strings.Contains(strings.Join(rep.Incomplete, "\n"), "podsecuritypolicies") {
			t.Errorf("cluster %q, incomplete %q: want %q and podsecuritypolicies", rep.Cluster, rep.Incomplete, testcluster.AdminContext)
		}
		r = runCLI(t, "", "apply-labels", "--kubeconfig", c.KubeconfigPath(), "-n", ns, "--apply")
		if r.code != exitInput || !strings.Contains(r.stderr, "--apply is refused") {
			t.Errorf("--apply on an incomplete plan: exit %d, want %d: %s", r.code, exitInput, r.stderr)
		}
		if got := resourceVersion(t, admin, ns); got != rv {
			t.Errorf("namespace changed: resourceVersion %s -> %s", rv, got)
		}
	})

	t.Run("a snapshot of the 1.37 cluster: incomplete however it is read, so dry run only", func(t *testing.T) {
		rv := resourceVersion(t, admin, ns)
		snap := runCLI(t, "", "snapshot", "--kubeconfig", c.KubeconfigPath(), "-n", ns)
		if snap.code != exitOK {
			t.Fatalf("snapshot: exit %d: %s", snap.code, snap.stderr)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "after-upgrade.yaml"), []byte(snap.stdout), 0o600); err != nil {
			t.Fatal(err)
		}
		for name, in := range map[string]struct {
			stdin string
			path  string
		}{"in a directory": {"", dir}, "on stdin": {snap.stdout, "-"}} {
			r := runCLI(t, in.stdin, "apply-labels", "--kubeconfig", c.KubeconfigPath(), "-n", ns, "-o", "json", in.path)
			var rep nslabels.Report
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != exitOK {
				t.Fatalf("%s: exit %d, report %v: %s%s", name, r.code, err, r.stdout, r.stderr)
			}
			if !strings.Contains(strings.Join(rep.Incomplete, "\n"), "podsecuritypolicies: not served by this cluster (v1.37.2)") {
				t.Errorf("%s: incomplete %q", name, rep.Incomplete)
			}
			r = runCLI(t, in.stdin, "apply-labels", "--kubeconfig", c.KubeconfigPath(), "-n", ns, "--apply", in.path)
			if r.code != exitInput || !strings.Contains(r.stderr, "--apply is refused") {
				t.Errorf("%s: --apply: exit %d, want %d: %s", name, r.code, exitInput, r.stderr)
			}
		}
		if got := resourceVersion(t, admin, ns); got != rv {
			t.Errorf("namespace changed: resourceVersion %s -> %s", rv, got)
		}
	})

	t.Run("a user who may not patch fails with exit 1", func(t *testing.T) {
		r := runCLI(t, "", "apply-labels", "--kubeconfig", c.KubeconfigPath(), "--context", testcluster.LimitedContext,
			"-n", ns, "-o", "json", labelsFixture)
		if r.code != exitError || !strings.Contains(r.stderr, "1 namespace(s) failed") {
			t.Errorf("exit %d, want %d: %s", r.code, exitError, r.stderr)
		}
		if res := onlyResult(t, r.stdout); res.Status != nslabels.Failed || !strings.Contains(res.Error, "forbidden") {
			t.Errorf("result %+v: want failed, forbidden", res)
		}
	})
}

// TestApplyLabelsFromClusterCLIV124 is the migration's own order: on the
// 1.24 cluster, still under PSP, plan from the cluster and label it before
// upgrading.
func TestApplyLabelsFromClusterCLIV124(t *testing.T) {
	c := testcluster.Private(t, "v1.24")
	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{} // PSP's deprecation notice
	admin := kubernetes.NewForConfigOrDie(cfg)
	ns, _ := admittedPod(t, c, admin, dynamic.NewForConfigOrDie(cfg))

	r := runCLI(t, "", "apply-labels", "--kubeconfig", c.KubeconfigPath(), "-n", ns, "--apply", "--fail-on-warnings", "-o", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	var rep nslabels.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Incomplete) != 0 || len(rep.Namespaces) != 1 || rep.Namespaces[0].Status != nslabels.Applied {
		t.Fatalf("want one namespace applied from a complete read, got %+v", rep)
	}
	got := liveNamespace(t, admin, ns).Labels
	for _, l := range rep.Namespaces[0].Labels {
		if got[l.Key] != l.Planned {
			t.Errorf("%s = %q, want %q", l.Key, got[l.Key], l.Planned)
		}
	}
	// The pod "web" sets nothing restricted asks for, and baseline
	// forbids nothing it does.
	if enforce := got[nslabels.Prefix+"enforce"]; enforce != "baseline" {
		t.Errorf("enforce = %q, want baseline for pod web", enforce)
	}
}

func TestApplyLabelsUsage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"-A with manifests", []string{"apply-labels", "-A", labelsFixture}, "-A reads every namespace"},
		{"unknown context", []string{"apply-labels", "--kubeconfig", kubeconfigWithContext(t), "--context", "nope", labelsFixture}, "no cluster to label"},
		{"no kubeconfig", []string{"apply-labels", "--kubeconfig", filepath.Join(t.TempDir(), "absent"), labelsFixture}, "no cluster to label"},
		{"bad level", []string{"apply-labels", "--to-level", "strict", labelsFixture}, "--to-level"},
		{"unreadable manifests: no cluster is touched", []string{"apply-labels", "--kubeconfig", kubeconfigWithContext(t), "../../testdata/labels/absent.yaml"}, "input problem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			if r.code != exitInput || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, want %d with %q: %s", r.code, exitInput, tc.stderr, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("a report was written, so a cluster was asked:\n%s", r.stdout)
			}
		})
	}
}

// labelsNamespace creates a namespace with a team label, its default
// service account, and the fixture's Pod as written (not patched).
func labelsNamespace(t *testing.T, c *testcluster.Cluster, cs kubernetes.Interface) string {
	t.Helper()
	ctx := context.Background()
	name := testcluster.UniqueName("cli")
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: name, Labels: map[string]string{"team": "shop"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "web", Image: "nginxinc/nginx-unprivileged:1.27",
	}}}}
	if _, err := cs.CoreV1().Pods(name).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDryRunWarnings(t, c, name)
	return name
}

// waitDryRunWarnings waits until PodSecurity's pod informer has the pod:
// until then a dry run would not warn about it.
func waitDryRunWarnings(t *testing.T, c *testcluster.Cluster, ns string) {
	t.Helper()
	l, err := nslabels.NewLabeler(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	target := []nslabels.Target{{Namespace: ns, Labels: map[string]string{nslabels.Prefix + "enforce": "restricted"}}}
	deadline := time.Now().Add(10 * time.Second)
	for len(l.Run(context.Background(), target, nslabels.Options{}).Namespaces[0].Warnings) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no dry-run warnings for %s within 10s", ns)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func onlyResult(t *testing.T, stdout string) nslabels.Result {
	t.Helper()
	var r nslabels.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, stdout)
	}
	if len(r.Namespaces) != 1 {
		t.Fatalf("want one namespace in the report, got %+v", r.Namespaces)
	}
	return r.Namespaces[0]
}

func liveNamespace(t *testing.T, cs kubernetes.Interface, name string) *corev1.Namespace {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get namespace %s: %v", name, err)
	}
	return ns
}

func resourceVersion(t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	return liveNamespace(t, cs, name).ResourceVersion
}

// kubeconfigWithContext writes a kubeconfig whose only context is "only".
func kubeconfigWithContext(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	data := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: only, context: {cluster: c, user: u}}]
current-context: only
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
