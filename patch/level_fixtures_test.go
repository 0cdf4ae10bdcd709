package patch

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// psaFixtures returns the fixture pods the PSA module ships for a level,
// version and verdict (pass or fail), by file name.
func psaFixtures(t *testing.T, level, version, verdict string) map[string]*corev1.Pod {
	t.Helper()
	dir := filepath.Join(testinputs.PSAModuleDir(t), "test", "testdata", level, version, verdict)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s (%v)", dir, err)
	}
	return readPods(t, files)
}

// psaFixturesIfAny is psaFixtures for a version that may have none.
func psaFixturesIfAny(t *testing.T, level, version, verdict string) map[string]*corev1.Pod {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(testinputs.PSAModuleDir(t), "test", "testdata", level, version, verdict, "*.yaml"))
	return readPods(t, files)
}

func readPods(t *testing.T, files []string) map[string]*corev1.Pod {
	t.Helper()
	pods := map[string]*corev1.Pod{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var pod corev1.Pod
		if err := yaml.UnmarshalStrict(data, &pod); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		pods[filepath.Base(f)] = &pod
	}
	return pods
}

func templateOf(pod *corev1.Pod) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{ObjectMeta: *pod.ObjectMeta.DeepCopy(), Spec: *pod.Spec.DeepCopy()}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// The PSA module's own failing fixtures at v1.37, each patched to its
// level. Which families a securityContext change fixes:
//
//   - restricted: allowprivilegeescalation (4), apparmorprofile (2),
//     capabilities_restricted 0–2 (3: a missing drop ALL),
//     runasnonroot (4), seccompprofile_baseline (3, explicit Unconfined)
//     and seccompprofile_restricted (5) — 21 fixed. The other 55 are
//     unfixable: capabilities_restricted3 and the capabilities_baseline
//     fixtures add capabilities beyond NET_BIND_SERVICE; host namespaces,
//     ports, probes, hostPath and restricted volume types, privileged
//     (also unfixable allowPrivilegeEscalation), procMount Unmasked,
//     runAsUser: 0, custom SELinux options, unsafe sysctls and Windows
//     HostProcess are what those workloads are.
//   - baseline: apparmorprofile (2) and seccompprofile_baseline (3) — 5
//     fixed; the other 29 are the unfixable families above.
const (
	restrictedFixturesFixed     = 21
	restrictedFixturesUnfixable = 55
	baselineFixturesFixed       = 5
	baselineFixturesUnfixable   = 29
)

// fixtureOutcome is one fixture's result, as the golden file records it.
type fixtureOutcome struct {
	Fixture   string      `json:"fixture"`
	Fixed     bool        `json:"fixed"`
	Changes   []Change    `json:"changes,omitempty"`
	Unfixable []Unfixable `json:"unfixable,omitempty"`
}

func TestLevelPatchFixesOrNamesEveryFailingFixture(t *testing.T) {
	ev := pss.NewEvaluator()
	version := api.MajorMinorVersion(1, 37)
	for _, tc := range []struct {
		level            api.Level
		fixed, unfixable int
	}{
		{api.LevelRestricted, restrictedFixturesFixed, restrictedFixturesUnfixable},
		{api.LevelBaseline, baselineFixturesFixed, baselineFixturesUnfixable},
	} {
		t.Run(string(tc.level), func(t *testing.T) {
			lv := api.LevelVersion{Level: tc.level, Version: version}
			pods := psaFixtures(t, string(tc.level), "v1.37", "fail")
			var outcomes []fixtureOutcome
			fixed, unfixable := 0, 0
			for _, name := range sortedKeys(pods) {
				template := templateOf(pods[name])
				patch, still := LevelPatch(template, tc.level, version, ev)
				assertPatchHonest(t, name, ev, lv, template, patch, still)
				if len(still) == 0 {
					fixed++
				} else {
					unfixable++
				}
				outcomes = append(outcomes, fixtureOutcome{Fixture: name, Fixed: len(still) == 0, Changes: patch.Changes, Unfixable: still})
			}
			if fixed != tc.fixed || unfixable != tc.unfixable {
				t.Errorf("fixed %d, unfixable %d; want %d, %d", fixed, unfixable, tc.fixed, tc.unfixable)
			}
			compareGolden(t, filepath.Join("testdata", "level-fixtures-"+string(tc.level)+"-v1.37.yaml"), outcomes)
		})
	}
}

// assertPatchHonest checks what LevelPatch promises: the patched template
// fails exactly the checks named unfixable, every change targets a check
// that now passes, and patching again changes nothing.
func assertPatchHonest(t *testing.T, name string, ev *pss.Evaluator, lv api.LevelVersion, template *corev1.PodTemplateSpec, patch Patch, still []Unfixable) {
	t.Helper()
	before := checkIDs(ev.Failures(lv, &template.ObjectMeta, &template.Spec))
	patched, err := patch.Apply(template)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	after := checkIDs(ev.Failures(lv, &patched.ObjectMeta, &patched.Spec))
	var named []string
	for _, u := range still {
		named = append(named, u.Check)
		if u.Message == "" || u.Detail == "" {
			t.Errorf("%s: unfixable %s without message or detail", name, u.Check)
		}
	}
	if !slices.Equal(after, named) {
		t.Errorf("%s: patched template fails %v, unfixable names %v", name, after, named)
	}
	for _, ch := range patch.Changes {
		if slices.Contains(after, ch.Check) || !slices.Contains(before, ch.Check) {
			t.Errorf("%s: change %+v targets %q, which failed before: %v, fails after: %v", name, ch, ch.Check, before, after)
		}
	}
	again, stillAgain := LevelPatch(patched, lv.Level, lv.Version, ev)
	if !again.Empty() || len(stillAgain) != len(still) {
		t.Errorf("%s: patching the patched template again gives %+v, %+v", name, again, stillAgain)
	}
}

func checkIDs(results []pss.CheckResult) []string {
	ids := make([]string, len(results))
	for i, r := range results {
		ids[i] = r.ID
	}
	return ids
}

// Every failing fixture of every level and version keeps the promise;
// every passing one gets no patch.
func TestLevelPatchHonestAtEveryVersion(t *testing.T) {
	ev := pss.NewEvaluator()
	for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
		for minor := 0; minor <= 37; minor++ {
			version := api.MajorMinorVersion(1, minor)
			lv := api.LevelVersion{Level: level, Version: version}
			dir := fmt.Sprintf("v1.%d", minor)
			for name, pod := range psaFixturesIfAny(t, string(level), dir, "fail") {
				template := templateOf(pod)
				patch, still := LevelPatch(template, level, version, ev)
				assertPatchHonest(t, string(level)+"/"+dir+"/"+name, ev, lv, template, patch, still)
			}
			for name, pod := range psaFixturesIfAny(t, string(level), dir, "pass") {
				if patch, still := LevelPatch(templateOf(pod), level, version, ev); !patch.Empty() || len(still) > 0 {
					t.Errorf("%s/%s/pass/%s: passing pod got %+v, unfixable %+v", level, dir, name, patch, still)
				}
			}
		}
	}
}

// compareGolden compares the value, as YAML, with the golden file, or
// rewrites the file under -update.
func compareGolden(t *testing.T, path string, value any) {
	t.Helper()
	got, err := yaml.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the output; run go test -update and review the diff", path)
	}
}
