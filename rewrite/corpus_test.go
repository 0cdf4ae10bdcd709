package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/manifest"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// podSpecPaths is where each workload kind keeps its pod spec.
var podSpecPaths = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  templateSpec,
	"DaemonSet":   templateSpec,
	"StatefulSet": templateSpec,
	"ReplicaSet":  templateSpec,
	"Job":         templateSpec,
	"CronJob":     cronPodSpec,
}

// TestFileOnEveryWorkload edits every workload document of the corpus and
// the demo, one at a time (deleting host namespaces and privileged, setting
// runAsNonRoot and allowPrivilegeEscalation), and checks the result against the same edit
// made on the decoded object: the other documents are byte-identical, no
// comment is lost, the edit is idempotent, and the edited document decodes
// to exactly the original plus the edit.
func TestFileOnEveryWorkload(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testinputs.CorpusDir(t, "workloads"), "*.y*ml"))
	demo, _ := filepath.Glob(filepath.Join("..", "testdata", "demo", "*.yaml"))
	edited := 0
	for _, file := range append(files, demo...) {
		in, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		spans, err := manifest.Spans(in)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, s := range spans {
			var obj map[string]any
			if err := sigsyaml.Unmarshal(in[s.Start:s.End], &obj); err != nil || obj == nil {
				continue
			}
			specPath, ok := podSpecPaths[obj["kind"].(string)]
			if !ok {
				continue
			}
			edited++
			t.Run(filepath.Base(file)+"/"+obj["kind"].(string), func(t *testing.T) {
				checkWorkloadEdit(t, in, s.Index, obj, specPath)
			})
		}
	}
	if edited < 20 {
		t.Errorf("edited only %d workloads; the corpus should hold more", edited)
	}
}

func checkWorkloadEdit(t *testing.T, in []byte, index int, obj map[string]any, specPath []string) {
	spec := lookupMap(t, obj, specPath)
	first := spec["containers"].([]any)[0].(map[string]any)
	name := first["name"].(string)
	edits := []Edit{{Document: index,
		Deletes: []Delete{
			{Path: []string{"metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod"}},
			{Path: path(specPath, []string{"hostNetwork"})},
			{Path: path(specPath, []string{"hostPID"})},
			{Path: sc(container(specPath, "containers", name), "privileged")},
		},
		Sets: []Set{
			{Path: sc(specPath, "runAsNonRoot"), Value: true},
			{Path: sc(container(specPath, "containers", name), "allowPrivilegeEscalation"), Value: false},
		},
	}}
	out, err := File(in, edits)
	if err != nil {
		t.Fatal(err)
	}
	assertUntouchedIdentical(t, in, out, edits)
	assertCommentsKept(t, in, out, deletedComments(t, in, index, edits[0].Deletes))
	again, err := File(out, edits)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, out) {
		t.Error("applying the edits to the output changed it")
	}

	// The same edit on the decoded object.
	delete(spec, "hostNetwork")
	delete(spec, "hostPID")
	if csc, ok := first["securityContext"].(map[string]any); ok {
		delete(csc, "privileged")
	}
	podSC, _ := spec["securityContext"].(map[string]any)
	if podSC == nil {
		podSC = map[string]any{}
		spec["securityContext"] = podSC
	}
	podSC["runAsNonRoot"] = true
	containerSC, _ := first["securityContext"].(map[string]any)
	if containerSC == nil {
		containerSC = map[string]any{}
		first["securityContext"] = containerSC
	}
	containerSC["allowPrivilegeEscalation"] = false

	spans, err := manifest.Spans(out)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := sigsyaml.Unmarshal(out[spans[index].Start:spans[index].End], &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, obj) {
		gotJSON, _ := sigsyaml.Marshal(got)
		wantJSON, _ := sigsyaml.Marshal(obj)
		t.Errorf("edited document decodes to\n%s\nwant\n%s", gotJSON, wantJSON)
	}
}

func lookupMap(t *testing.T, obj map[string]any, path []string) map[string]any {
	t.Helper()
	for _, p := range path {
		next, ok := obj[p].(map[string]any)
		if !ok {
			t.Fatalf("no mapping at %s", FormatPath(path))
		}
		obj = next
	}
	return obj
}

// deletedComments lists the comment lines attached to the fields deletes
// remove: a deleted field's own comments go with it.
func deletedComments(t *testing.T, file []byte, index int, deletes []Delete) []string {
	t.Helper()
	spans, err := manifest.Spans(file)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parseDocument(string(file[spans[index].Start:spans[index].End]))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range deletes {
		parent, _, err := descend(doc.Content[0], d.Path[:len(d.Path)-1], false)
		if err != nil || parent == nil || parent.Kind != yaml.MappingNode {
			continue
		}
		if i := keyIndex(parent, d.Path[len(d.Path)-1]); i >= 0 {
			key, value := parent.Content[i], parent.Content[i+1]
			for _, c := range []string{key.HeadComment, key.LineComment, value.LineComment} {
				for _, line := range strings.Split(c, "\n") {
					if line != "" {
						out = append(out, strings.TrimSpace(line))
					}
				}
			}
		}
	}
	return out
}
