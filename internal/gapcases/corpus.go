package gapcases

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

// CorpusDir locates a directory of the shared corpus, which lives beside
// the repository (../shared from its root; tests run one level down).
// Without it the test skips, unless CI is set.
func CorpusDir(t testing.TB, sub string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus", sub)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: %v", dir, err)
		}
		t.Skipf("%s not found; the shared corpus lives beside the repository", dir)
	}
	return dir
}

// CorpusPolicies are the corpus PSPs a 1.24 apiserver accepts.
func CorpusPolicies(t testing.TB) []psp.Policy {
	t.Helper()
	docs, _ := manifest.Read([]string{CorpusDir(t, "psp")}, nil)
	policies := psp.FromDocuments(docs).Policies
	if len(policies) < 20 {
		t.Fatalf("only %d valid corpus PSPs", len(policies))
	}
	return policies
}

// CorpusPods are the pods of the corpus workloads in namespace ns, as the
// server receives them: the default ServiceAccount without a token volume,
// with the API defaults PSP saw.
func CorpusPods(t testing.TB, ns string) []Pod {
	t.Helper()
	docs, _ := manifest.Read([]string{CorpusDir(t, "workloads")}, nil)
	inv, _ := inventory.FromDocuments(docs, "")
	if len(inv.Workloads) < 10 {
		t.Fatalf("only %d corpus workloads", len(inv.Workloads))
	}
	out := make([]Pod, 0, len(inv.Workloads))
	for _, w := range inv.Workloads {
		out = append(out, Pod{Name: w.Kind + " " + w.Name, Pod: corpusPod(ns, w.Template)})
	}
	return out
}

func corpusPod(ns string, template *corev1.PodTemplateSpec) *corev1.Pod {
	t := template.DeepCopy()
	t.Spec.ServiceAccountName, t.Spec.DeprecatedServiceAccount = "", ""
	t.Spec.AutomountServiceAccountToken = new(false)
	t.Spec.NodeName = ""
	pod := psp.AdmissionPod(ns, t, nil)
	pod.Name = "corpus"
	return pod
}
