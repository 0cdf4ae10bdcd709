package artifacts

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/plantest"

	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/pss"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const demo = "../testdata/demo"

func demoPlan(t *testing.T) (*plan.Plan, []manifest.Document) {
	t.Helper()
	p := plantest.Build(t, pss.Restricted, demo)
	return p.Plan, p.Documents
}

// TestWriteDirGolden keeps the files --write-dir writes for the demo.
func TestWriteDirGolden(t *testing.T) {
	p, _ := demoPlan(t)
	files, err := WriteDir(p, "out")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		b.WriteString("=== " + filepath.ToSlash(f.Path) + "\n")
		b.Write(f.New)
	}
	golden := filepath.Join("testdata", "write-dir.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != b.String() {
		t.Errorf("--write-dir output differs from %s; run go test ./artifacts -update and review", golden)
	}
}

// TestPatchFilesApplyToTheirWorkloads: each strategic-merge patch, applied
// to its workload as the input holds it, yields the plan's patched
// template.
func TestPatchFilesApplyToTheirWorkloads(t *testing.T) {
	p, docs := demoPlan(t)
	files, err := WriteDir(p, "out")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]byte{}
	for _, f := range files {
		byName[filepath.Base(f.Path)] = f.New
	}
	checked := 0
	for i := range p.Workloads {
		w := &p.Workloads[i]
		if w.Patch.Empty() {
			continue
		}
		patchYAML, ok := byName[patchFileName(w)]
		if !ok {
			t.Errorf("%s: no patch file", w.Ref())
			continue
		}
		original := documentOf(t, docs, w)
		patched := applyStrategic(t, original, patchYAML, w.Kind)
		got := templateOf(t, patched, w.Kind)
		if !equality.Semantic.DeepEqual(got, *w.PatchedTemplate()) {
			t.Errorf("%s: the patch file does not give the planned template:\n got %+v\nwant %+v", w.Ref(), got, *w.PatchedTemplate())
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d patched workloads checked", checked)
	}
}

func documentOf(t *testing.T, docs []manifest.Document, w *plan.Workload) []byte {
	for _, d := range docs {
		if d.Kind == w.Kind && d.Name == w.Name && d.Namespace == w.Namespace {
			return d.Raw
		}
	}
	t.Fatalf("%s: not in the input", w.Ref())
	return nil
}

func applyStrategic(t *testing.T, original, patchYAML []byte, kind string) []byte {
	t.Helper()
	patchJSON, err := yaml.YAMLToJSON(patchYAML)
	if err != nil {
		t.Fatal(err)
	}
	var schema any = appsv1.Deployment{}
	switch kind {
	case "StatefulSet":
		schema = appsv1.StatefulSet{}
	case "DaemonSet":
		schema = appsv1.DaemonSet{}
	case "CronJob":
		schema = batchv1.CronJob{}
	case "Job":
		schema = batchv1.Job{}
	}
	out, err := strategicpatch.StrategicMergePatch(original, patchJSON, schema)
	if err != nil {
		t.Fatalf("%s: applying the patch: %v", kind, err)
	}
	return out
}

func templateOf(t *testing.T, obj []byte, kind string) corev1.PodTemplateSpec {
	t.Helper()
	switch kind {
	case "CronJob":
		var c batchv1.CronJob
		mustUnmarshal(t, obj, &c)
		return c.Spec.JobTemplate.Spec.Template
	case "Job":
		var j batchv1.Job
		mustUnmarshal(t, obj, &j)
		return j.Spec.Template
	case "StatefulSet":
		var s appsv1.StatefulSet
		mustUnmarshal(t, obj, &s)
		return s.Spec.Template
	case "DaemonSet":
		var d appsv1.DaemonSet
		mustUnmarshal(t, obj, &d)
		return d.Spec.Template
	}
	var d appsv1.Deployment
	mustUnmarshal(t, obj, &d)
	return d.Spec.Template
}

func mustUnmarshal(t *testing.T, data []byte, into any) {
	t.Helper()
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatal(err)
	}
}
