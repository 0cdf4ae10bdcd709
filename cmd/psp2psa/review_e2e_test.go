package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/engines"
	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/manifest"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// TestReviewCountsTheClusterAdmissionPoliciesCLIV124 follows a migration
// of a 1.24 cluster that keeps its PSP gaps with Kyverno, then with
// Gatekeeper: review against the cluster says the namespace loses fsGroup;
// plan --gap-policies writes the policies, they are created in the
// cluster (Kyverno's own CRDs, checking them against its schema), and
// review against the cluster, and against its snapshot, counts them; once
// they are deleted, fsGroup is lost again.
func TestReviewCountsTheClusterAdmissionPoliciesCLIV124(t *testing.T) {
	kubectl := kubectlBinary(t)
	c := testcluster.Private(t, "v1.24")
	admin := kubernetes.NewForConfigOrDie(c.AdminConfig())
	dyn := dynamic.NewForConfigOrDie(c.AdminConfig())
	ns, _ := admittedPod(t, c, admin, dyn)
	kc := c.KubeconfigPath()
	if lost := lostIn(t, ns, "--kubeconfig", kc); !strings.Contains(lost, "fsGroup") {
		t.Fatalf("without policies, %s loses %q", ns, lost)
	}
	createCRDs(t, kubectl, kc, kyvernoCRD(t, "clusterpolicies"), kyvernoCRD(t, "policies"))
	for _, engine := range []struct {
		name, file string
		crds       func(t *testing.T, policies string) []string
	}{
		{"kyverno", "kyverno-policies.yaml", func(*testing.T, string) []string { return nil }},
		{"gatekeeper", "gatekeeper-constraints.yaml", constraintCRDs},
	} {
		t.Run(engine.name, func(t *testing.T) {
			out := t.TempDir()
			if r := runCLI(t, "", "plan", "--kubeconfig", kc, "--write-dir", out, "--gap-policies", engine.name); r.code != exitOK {
				t.Fatalf("plan --gap-policies %s: exit %d: %s", engine.name, r.code, r.stderr)
			}
			policies := filepath.Join(out, engine.file)
			if crds := engine.crds(t, policies); len(crds) > 0 {
				createCRDs(t, kubectl, kc, crds...)
			}
			kubectlDo(t, kubectl, kc, "create", "-f", policies)
			if lost := lostIn(t, ns, "--kubeconfig", kc); strings.Contains(lost, "fsGroup") {
				t.Errorf("with the %s policies in the cluster, %s loses %q", engine.name, ns, lost)
			}
			snap := runCLI(t, "", "snapshot", "--kubeconfig", kc)
			file := filepath.Join(out, "snapshot.yaml")
			if err := os.WriteFile(file, []byte(snap.stdout), 0o644); snap.code != exitOK || err != nil {
				t.Fatalf("snapshot: exit %d, %v: %s", snap.code, err, snap.stderr)
			}
			if lost := lostIn(t, ns, "--from-snapshot", file); strings.Contains(lost, "fsGroup") {
				t.Errorf("with the %s policies in the snapshot, %s loses %q", engine.name, ns, lost)
			}
			kubectlDo(t, kubectl, kc, "delete", "-f", policies)
			if lost := lostIn(t, ns, "--kubeconfig", kc); !strings.Contains(lost, "fsGroup") {
				t.Errorf("with the %s policies deleted, %s loses %q", engine.name, ns, lost)
			}
		})
	}
}

// kubectlDo runs kubectl against the kubeconfig and fails the test when it
// fails.
func kubectlDo(t *testing.T, kubectl, kubeconfig string, args ...string) {
	t.Helper()
	if r := kubectlRun(t, kubectl, t.TempDir(), kubeconfig, args...); r.code != 0 {
		t.Fatalf("kubectl %s: exit %d: %s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
}

// createCRDs creates the CustomResourceDefinitions and waits until the
// apiserver serves them.
func createCRDs(t *testing.T, kubectl, kubeconfig string, files ...string) {
	t.Helper()
	kubectlDo(t, kubectl, kubeconfig, append([]string{"create"}, fileArgs(files)...)...)
	kubectlDo(t, kubectl, kubeconfig, append([]string{"wait", "--for", "condition=established", "--timeout", "60s"}, fileArgs(files)...)...)
}

func fileArgs(files []string) []string {
	var out []string
	for _, f := range files {
		out = append(out, "-f", f)
	}
	return out
}

// kyvernoCRD is the CustomResourceDefinition Kyverno ships for plural, from
// the module of the Kyverno CLI the engine tests build.
func kyvernoCRD(t *testing.T, plural string) string {
	t.Helper()
	return filepath.Join(moduleDir(t, "github.com/kyverno/kyverno", engines.KyvernoVersion), "config", "crds", "kyverno", "kyverno.io_"+plural+".yaml")
}

// moduleDir is the source of a module at a version, downloaded through
// the module proxy when the cache lacks it.
func moduleDir(t *testing.T, module, version string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = t.TempDir() // outside the main module, which does not need it
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if err != nil || json.Unmarshal(out, &info) != nil || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s %s", module, version, err, out, info.Error)
	}
	return info.Dir
}

// constraintCRDs writes, for each Constraint kind of the policies file,
// the CustomResourceDefinition Gatekeeper makes of its template: the
// kind's lower-case name as plural, cluster-scoped, served as v1beta1
// (stored), v1alpha1 and v1, parameters as the template declares them
// (here: any).
func constraintCRDs(t *testing.T, policies string) []string {
	t.Helper()
	docs, errs := manifest.Read([]string{policies}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var kinds []string
	for _, d := range docs {
		if !slices.Contains(kinds, d.Kind) {
			kinds = append(kinds, d.Kind)
		}
	}
	var files []string
	for _, kind := range kinds {
		plural := strings.ToLower(kind)
		version := func(name string, storage bool) map[string]any {
			return map[string]any{"name": name, "served": true, "storage": storage, "schema": map[string]any{
				"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
			}}
		}
		crd := map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": plural + ".constraints.gatekeeper.sh", "labels": map[string]any{"gatekeeper.sh/constraint": "yes"}},
			"spec": map[string]any{
				"group": "constraints.gatekeeper.sh", "scope": "Cluster",
				"names":    map[string]any{"kind": kind, "listKind": kind + "List", "plural": plural, "singular": plural, "categories": []any{"constraint", "constraints"}},
				"versions": []any{version("v1beta1", true), version("v1alpha1", false), version("v1", false)},
			},
		}
		file := filepath.Join(t.TempDir(), plural+".yaml")
		engines.WriteYAML(t, file, crd)
		files = append(files, file)
	}
	if len(files) == 0 {
		t.Fatalf("%s holds no Constraint", policies)
	}
	return files
}
