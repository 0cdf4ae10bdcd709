package psp

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/psp2psa/psp2psa/manifest"
)

// admissionFixtures holds one PSP and one pod per file, with what Admit
// makes of them beside it in <name>.golden.yaml.
const admissionFixtures = "../testdata/admission"

func init() {
	// Shared by the package's golden tests: register it only once.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// admissionGolden is a golden file's content.
type admissionGolden struct {
	Admitted bool        `json:"admitted"`
	Mutated  bool        `json:"mutated"`
	Errors   []string    `json:"errors,omitempty"`
	Pod      *corev1.Pod `json:"pod"`
}

func TestAdmitFixtures(t *testing.T) {
	for _, fixture := range admissionFixtureFiles(t) {
		name := strings.TrimSuffix(filepath.Base(fixture), ".yaml")
		t.Run(name, func(t *testing.T) {
			policy, pod := readAdmissionFixture(t, fixture)
			got := Admit(policy, pod)
			out, err := yaml.Marshal(admissionGolden{
				Admitted: got.Admitted(), Mutated: got.Mutated, Errors: describeErrors(got.Errors), Pod: got.Pod,
			})
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join(admissionFixtures, name+".golden.yaml")
			if updateGolden() {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("Admit output differs from %s (run with -update to accept):\n%s", golden, yamlDiff(string(want), string(out)))
			}
		})
	}
}

func admissionFixtureFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(admissionFixtures, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var fixtures []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden.yaml") {
			fixtures = append(fixtures, f)
		}
	}
	if len(fixtures) == 0 {
		t.Fatalf("no fixtures in %s", admissionFixtures)
	}
	return fixtures
}

// readAdmissionFixture decodes a fixture's PodSecurityPolicy and Pod.
func readAdmissionFixture(t *testing.T, path string) (*PodSecurityPolicy, *corev1.Pod) {
	t.Helper()
	docs, errs := manifest.Read([]string{path}, nil)
	if len(errs) > 0 {
		t.Fatalf("read %s: %v", path, errs)
	}
	var policy *PodSecurityPolicy
	var pod *corev1.Pod
	for _, doc := range docs {
		var err error
		switch doc.Kind {
		case Kind:
			policy = &PodSecurityPolicy{}
			err = json.Unmarshal(doc.Raw, policy)
		case "Pod":
			pod = &corev1.Pod{}
			err = json.Unmarshal(doc.Raw, pod)
		}
		if err != nil {
			t.Fatalf("%s: %v", doc.Source, err)
		}
	}
	if policy == nil || pod == nil {
		t.Fatalf("%s needs a PodSecurityPolicy and a Pod", path)
	}
	return policy, pod
}
