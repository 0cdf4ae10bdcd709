package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// kubectlBinary is the kubectl hack/testservers builds from the
// k8s.io/kubernetes release of the v1.37 test apiserver.
func kubectlBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e test skipped in -short mode")
	}
	path := filepath.Join(testcluster.CacheDir(), "kubectl-v1.37.2")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kubectl not built (make testservers): %v", err)
		}
		t.Skipf("kubectl not built (make testservers): %v", err)
	}
	return path
}

// pluginPath builds psp2psa as the kubectl plugin kubectl-psp2psa in a
// directory of its own, for PATH.
func pluginPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl-psp2psa"), ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	return dir
}

// kubectlRun runs kubectl with the plugin directory first on PATH and the
// kubeconfig in KUBECONFIG (kubectl passes no flag of its own to a plugin).
func kubectlRun(t *testing.T, kubectl, pluginDir, kubeconfig string, args ...string) result {
	t.Helper()
	cmd := exec.Command(kubectl, args...)
	cmd.Env = append(os.Environ(), "PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+kubeconfig)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("kubectl %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// TestKubectlPluginReviewCLIV124 runs psp2psa under a real kubectl as
// `kubectl psp2psa` against a 1.24 apiserver: its help and version name it
// so, and review says NOT READY (exit 3) until apply-labels has labelled
// the namespaces, then READY (exit 0).
func TestKubectlPluginReviewCLIV124(t *testing.T) {
	kubectl := kubectlBinary(t)
	plugins := pluginPath(t)
	c := testcluster.Private(t, "v1.24")
	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{}
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(cfg)
	psp := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
		"metadata": map[string]any{"name": "restricted"},
		"spec": map[string]any{
			"runAsUser": map[string]any{"rule": "MustRunAsNonRoot"}, "seLinux": map[string]any{"rule": "RunAsAny"},
			"supplementalGroups": map[string]any{"rule": "RunAsAny"}, "fsGroup": map[string]any{"rule": "RunAsAny"},
			"volumes": []any{"projected", "emptyDir", "configMap", "secret"},
		},
	}}
	must(t, "create PSP", func() error {
		_, err := dynamic.NewForConfigOrDie(cfg).Resource(testcluster.PSPResource).Create(ctx, psp, metav1.CreateOptions{})
		return err
	})
	must(t, "create namespace", func() error {
		_, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{})
		return err
	})
	kc := c.KubeconfigPath()

	if r := kubectlRun(t, kubectl, plugins, kc, "psp2psa", "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "kubectl psp2psa ") {
		t.Errorf("kubectl psp2psa --version: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := kubectlRun(t, kubectl, plugins, kc, "psp2psa", "review", "--help"); r.code != 0 || !strings.Contains(r.stdout, "Usage: kubectl psp2psa review") {
		t.Errorf("kubectl psp2psa review --help: exit %d, %q", r.code, r.stdout)
	}
	r := kubectlRun(t, kubectl, plugins, kc, "psp2psa", "review")
	if first := strings.SplitN(r.stdout, "\n", 2)[0]; r.code != exitNotReady || !strings.HasPrefix(first, "NOT READY: 2 namespaces to label") {
		t.Fatalf("kubectl psp2psa review before labelling: exit %d, %q\n%s", r.code, first, r.stderr)
	}
	if r := kubectlRun(t, kubectl, plugins, kc, "psp2psa", "apply-labels", "--apply"); r.code != 0 {
		t.Fatalf("kubectl psp2psa apply-labels --apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = kubectlRun(t, kubectl, plugins, kc, "psp2psa", "review")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "READY (0 errors") {
		t.Fatalf("kubectl psp2psa review after labelling: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = kubectlRun(t, kubectl, plugins, kc, "psp2psa", "review", "-o", "sarif")
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation any `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil || r.code != exitOK || log.Version != "2.1.0" {
		t.Fatalf("-o sarif: exit %d, %v", r.code, err)
	}
	for _, res := range log.Runs[0].Results {
		for _, l := range res.Locations {
			if l.PhysicalLocation != nil {
				t.Errorf("a live cluster's finding points at a file: %+v", l)
			}
		}
	}
}

// TestRolloutScriptsAreLabelOnlyCLIV137 runs the two rollout steps plan
// --write-dir writes, with a real kubectl, on a v1.37 apiserver whose
// namespaces carry labels of their own: step 1 sets warn and audit only,
// step 2 the planned labels, and no other label is touched.
func TestRolloutScriptsAreLabelOnlyCLIV137(t *testing.T) {
	kubectl := kubectlBinary(t)
	c := testcluster.Private(t, "v1.37")
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(c.AdminConfig())
	for _, ns := range []string{"batch", "legacy", "monitoring", "shop"} {
		must(t, "create namespace", func() error {
			_, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"team": ns}}}, metav1.CreateOptions{})
			return err
		})
	}
	out := t.TempDir()
	r := runCLI(t, "", "plan", "-o", "json", "--write-dir", out, demo)
	if r.code != exitOK {
		t.Fatalf("plan --write-dir: exit %d: %s", r.code, r.stderr)
	}
	var p struct {
		Namespaces []struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"namespaces"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"step-1-warn-audit.sh", "step-2-enforce.sh"} {
		cmd := exec.Command("sh", filepath.Join(out, "rollout", step))
		cmd.Env = append(os.Environ(), "KUBECTL="+kubectl, "KUBECONFIG="+c.KubeconfigPath())
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", step, err, b)
		}
		for _, planned := range p.Namespaces {
			if len(planned.Labels) == 0 {
				continue
			}
			got, err := admin.CoreV1().Namespaces().Get(ctx, planned.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"team": planned.Name, "kubernetes.io/metadata.name": planned.Name}
			enforce := planned.Labels["pod-security.kubernetes.io/enforce"]
			if step == "step-1-warn-audit.sh" {
				for _, mode := range []string{"warn", "audit"} {
					want["pod-security.kubernetes.io/"+mode] = enforce
					want["pod-security.kubernetes.io/"+mode+"-version"] = "v1.37"
				}
			} else {
				for k, v := range planned.Labels {
					want[k] = v
				}
			}
			if !equalLabels(got.Labels, want) {
				t.Errorf("after %s, namespace %s: %v, want %v", step, planned.Name, got.Labels, want)
			}
		}
	}
}

func equalLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
