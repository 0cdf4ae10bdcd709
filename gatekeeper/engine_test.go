package gatekeeper

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/engines"
	"github.com/psp2psa/psp2psa/internal/gapcases"
	"github.com/psp2psa/psp2psa/psp"
	"sigs.k8s.io/yaml"
)

// suite is one PSP's Constraints and probe pods, in a namespace of its
// own so that one gator run holds every suite.
type suite struct {
	name      string
	psp       *psp.PodSecurityPolicy
	kept      []Kept
	namespace string
	probes    []gapcases.Probe
}

// libraryTemplates are the gatekeeper-library's pod-security-policy
// templates in the shared corpus, by the kind they define.
func libraryTemplates(t *testing.T) map[string]string {
	t.Helper()
	dir := gapcases.CorpusDir(t, "gatekeeper-library")
	files, err := filepath.Glob(filepath.Join(dir, "*.template.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in %s: %v", dir, err)
	}
	byKind := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl struct {
			Spec struct {
				CRD struct {
					Spec struct {
						Names struct{ Kind string }
					}
				}
			}
		}
		if err := yaml.Unmarshal(data, &tmpl); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		byKind[tmpl.Spec.CRD.Spec.Names.Kind] = f
	}
	return byKind
}

// TestTemplatesAreInTheLibrary: every kind written here is a template of
// the library.
func TestTemplatesAreInTheLibrary(t *testing.T) {
	byKind := libraryTemplates(t)
	for _, tmpl := range templates {
		if byKind[tmpl.kind] == "" {
			t.Errorf("%s: no such template in the gatekeeper-library corpus", tmpl.kind)
		}
	}
}

// TestGatorAgreesWithPSP is the differential test with the real engine:
// gator (Gatekeeper's CLI, with the K8s-native CEL driver it enables by
// default, as Gatekeeper does) runs the library templates and the
// Constraints ForPolicy writes for every differential case and every
// corpus PSP with gaps, over the cases' probe pods and every corpus pod,
// each defaulted by its PSP as the patched workloads are. For every pod
// the templates that report a violation must be exactly those keeping a
// field the 1.24 PSP (psp.Admit) rejects it on, except where the
// Constraint's comment says the template checks something else
// (divergence).
func TestGatorAgreesWithPSP(t *testing.T) {
	gator := engines.Gator(t)
	byKind := libraryTemplates(t)
	suites := gatorSuites(t)
	dir := t.TempDir()
	var constraints, pods []any
	podsBySuite := 0
	for _, s := range suites {
		for _, k := range s.kept {
			// Corpus PSPs share names: each suite's namespace names its
			// Constraints.
			constraints = append(constraints, ConstraintFor(s.namespace, k, []string{s.namespace}, false))
		}
		for i, pr := range s.probes {
			pods = append(pods, gapcases.ProbePod(pr.Pod, s.namespace, i))
		}
		podsBySuite += len(s.probes)
	}
	engines.WriteYAML(t, filepath.Join(dir, "constraints.yaml"), constraints...)
	engines.WriteYAML(t, filepath.Join(dir, "pods.yaml"), pods...)
	args := []string{"test", "-o", "json", "-f", filepath.Join(dir, "constraints.yaml"), "-f", filepath.Join(dir, "pods.yaml")}
	for _, tmpl := range templates {
		args = append(args, "-f", byKind[tmpl.kind])
	}
	out, stderr, code := engines.Run(t, gator, args...)
	if code != 0 || len(stderr) > 0 {
		// warn Constraints never make gator exit non-zero.
		t.Fatalf("gator exit %d: %s", code, stderr)
	}
	violations := gatorViolations(t, out)
	agreed, explained := 0, 0
	for _, s := range suites {
		for i, pr := range s.probes {
			got := violations[s.namespace+"/"+gapcases.ProbeName(i)]
			want := wantKinds(s.kept, pr.Fields)
			// A model must predict every verdict, not only those it
			// explains.
			for _, k := range s.kept {
				if model := templateModels[k.Kind]; model != nil && len(k.Limits) > 0 && model(k, pr.Pod) != slices.Contains(got, k.Kind) {
					t.Errorf("%s: %s: the model of %s predicts %v, gator says %v", s.name, pr.Name, k.Kind, model(k, pr.Pod), slices.Contains(got, k.Kind))
				}
			}
			if slices.Equal(got, want) {
				agreed++
				continue
			}
			if why := divergence(s, pr, want, got); why != "" {
				explained++
				continue
			}
			t.Errorf("%s: %s: templates %v report violations, the PSP rejects %v (want %v)", s.name, pr.Name, got, pr.Fields, want)
		}
	}
	t.Logf("gator %s: %d PSPs, %d pods, %d Constraints: %d verdicts agree with the PSP, %d differ as the Constraints' comments say",
		engines.GatorVersion, len(suites), podsBySuite, len(constraints), agreed, explained)
}

// gatorSuites are the differential cases, the profile-list cases and the
// corpus PSPs with Constraints.
func gatorSuites(t *testing.T) []suite {
	var suites []suite
	for i, tc := range append(gapcases.Cases(), gapcases.ProfileCases()...) {
		kept := ForPolicy(tc.PSP)
		if len(kept) == 0 {
			continue // runtime classes: no template
		}
		s := suite{name: tc.Name, psp: tc.PSP, kept: kept, namespace: fmt.Sprintf("case-%d", i)}
		s.probes = gapcases.Probes(tc.PSP, tc.Pods)
		suites = append(suites, s)
	}
	for i, pol := range gapcases.CorpusPolicies(t) {
		kept := ForPolicy(pol.PSP)
		if len(kept) == 0 {
			continue
		}
		ns := fmt.Sprintf("corpus-%d", i)
		s := suite{name: "corpus " + pol.PSP.Name, psp: pol.PSP, kept: kept, namespace: ns}
		s.probes = gapcases.Probes(pol.PSP, gapcases.CorpusPods(t, ns))
		suites = append(suites, s)
	}
	return suites
}

// wantKinds are the kinds of the Constraints keeping one of the fields.
func wantKinds(kept []Kept, fields []string) []string {
	var kinds []string
	for _, k := range kept {
		for _, f := range fields {
			f = strings.TrimSuffix(f, "/readOnly") // a check of allowedHostPaths
			if slices.Contains(k.Fields, f) && !slices.Contains(kinds, k.Kind) {
				kinds = append(kinds, k.Kind)
			}
		}
	}
	slices.Sort(kinds)
	return kinds
}

// gatorViolations maps "namespace/name" to the sorted kinds of the
// Constraints that object violates.
func gatorViolations(t *testing.T, out []byte) map[string][]string {
	t.Helper()
	var results []struct {
		Constraint struct {
			Kind string `json:"kind"`
		} `json:"constraint"`
		ViolatingObject struct {
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		} `json:"violatingObject"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("reading gator's output: %v\n%.2000s", err, out)
	}
	byObject := map[string][]string{}
	for _, r := range results {
		key := r.ViolatingObject.Metadata.Namespace + "/" + r.ViolatingObject.Metadata.Name
		if !slices.Contains(byObject[key], r.Constraint.Kind) {
			byObject[key] = append(byObject[key], r.Constraint.Kind)
		}
	}
	for _, kinds := range byObject {
		slices.Sort(kinds)
	}
	return byObject
}

// divergence explains a template's verdict on a probe that differs from
// the PSP's: for each template whose verdict differs, a model of what the
// Constraint's comment says the template does instead (templateModels)
// must predict gator's verdict. It returns the templates explained, or ""
// when one is not.
func divergence(s suite, pr gapcases.Probe, want, got []string) string {
	var explained []string
	for _, k := range s.kept {
		if slices.Contains(want, k.Kind) == slices.Contains(got, k.Kind) {
			continue
		}
		model := templateModels[k.Kind]
		if model == nil || len(k.Limits) == 0 || model(k, pr.Pod) != slices.Contains(got, k.Kind) {
			return ""
		}
		explained = append(explained, k.Kind)
	}
	return strings.Join(explained, ", ")
}
