package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/apimachinery/pkg/api/equality"
)

// assertSharingChangesNothing plans the documents with answers shared
// and computed per workload, and from an inventory of security views,
// under several choices, and requires the same plan, patched templates
// included.
func assertSharingChangesNothing(t *testing.T, docs []manifest.Document) {
	t.Helper()
	load := psp.FromDocuments(docs)
	inv, _ := inventory.FromDocuments(docs, "")
	views, _ := inventory.FromDocumentsWith(docs, inventory.Options{SecurityViews: true})
	v124, err := apiserver.ParseVersion("v1.24")
	if err != nil {
		t.Fatal(err)
	}
	for _, choice := range []struct {
		name   string
		change func(*Options)
	}{
		{"defaults", func(*Options) {}},
		{"to restricted", func(o *Options) { o.ToLevel = pss.Restricted }},
		{"to baseline for a 1.24 server", func(o *Options) {
			o.ToLevel = pss.Baseline
			o.Target = apiserver.Target{Version: v124, From: apiserver.FromFlag}
		}},
		{"manager and a pod creator", func(o *Options) {
			o.ControllerIdentity, o.PodCreator = psp.ModeManager, "user:alice"
		}},
	} {
		t.Run(choice.name, func(t *testing.T) {
			opts := defaultOptions(t)
			choice.change(&opts)
			shared := Build(Input{Policies: load.Policies, Inventory: inv}, opts)
			shareAnswers = false
			each := Build(Input{Policies: load.Policies, Inventory: inv}, opts)
			shareAnswers = true
			got, want := planJSON(t, shared), planJSON(t, each)
			if !bytes.Equal(got, want) {
				t.Fatalf("sharing answers changes the plan:\n%s", firstDifference(got, want))
			}
			fromViews := planJSON(t, Build(Input{Policies: load.Policies, Inventory: views}, opts))
			if !bytes.Equal(fromViews, want) {
				t.Fatalf("planning from security views changes the plan:\n%s", firstDifference(fromViews, want))
			}
			for i := range shared.Workloads {
				s, e := &shared.Workloads[i], &each.Workloads[i]
				if !equality.Semantic.DeepEqual(s.PatchedTemplate(), e.PatchedTemplate()) {
					t.Errorf("%s: sharing answers changes the patched template", s.Ref())
				}
			}
		})
	}
}

func planJSON(t *testing.T, p *Plan) []byte {
	t.Helper()
	data, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			lo := max(0, i-15)
			return fmt.Sprintf("line %d:\n shared:   %s\n computed: %s\ncontext:\n%s", i, g[i], w[i], strings.Join(w[lo:i+1], "\n"))
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(g), len(w))
}

func readDocs(t *testing.T, paths ...string) []manifest.Document {
	t.Helper()
	docs, _ := manifest.Read(paths, nil)
	if len(docs) == 0 {
		t.Fatalf("no documents in %v", paths)
	}
	return docs
}

func TestSharingAnswersDemo(t *testing.T) {
	assertSharingChangesNothing(t, readDocs(t, "../testdata/demo"))
}

// TestSharingAnswersCorpus plans every corpus workload against every
// corpus PSP, in namespaces of their own and all in one, with RBAC that
// differs per namespace.
func TestSharingAnswersCorpus(t *testing.T) {
	dir := testinputs.CorpusDir(t)
	docs := readDocs(t, filepath.Join(dir, "psp"), filepath.Join(dir, "workloads"))
	assertSharingChangesNothing(t, append(docs, copiesInNamespaces(t, docs, 4)...))
}

// TestSharingAnswersPSAFixtures plans the PSA library's pods, one for
// each check, level and verdict, many of them alike but in one field,
// against the corpus PSPs.
func TestSharingAnswersPSAFixtures(t *testing.T) {
	psps := readDocs(t, filepath.Join(testinputs.CorpusDir(t), "psp"))
	docs := psps
	for _, level := range []string{"baseline", "restricted"} {
		dir := filepath.Join(testinputs.PSAModuleDir(t), "test", "testdata", level, "v1.37")
		fixtures := readDocs(t, dir)
		if testing.Short() {
			fixtures = fixtures[:len(fixtures)/3]
		}
		docs = append(docs, inNamespace(t, fixtures, level)...)
	}
	assertSharingChangesNothing(t, append(docs, copiesInNamespaces(t, docs, 4)...))
}

// copiesInNamespaces copies the workloads of docs into n namespaces
// ("copy-0", ...), with another image, environment, labels and
// annotations, which no answer reads. Namespaces two apart are alike: the
// same grant of two PSPs to their service accounts, which mount their
// token or not; neighbours differ in both.
func copiesInNamespaces(t *testing.T, docs []manifest.Document, n int) []manifest.Document {
	t.Helper()
	var psps []string
	for _, d := range docs {
		if d.Kind == "PodSecurityPolicy" {
			psps = append(psps, d.Name)
		}
	}
	var out []manifest.Document
	add := func(raw string) {
		read, errs := manifest.Read([]string{manifest.Stdin}, strings.NewReader(raw))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		out = append(out, read...)
	}
	for i := range n {
		ns := fmt.Sprintf("copy-%d", i)
		add(fmt.Sprintf(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"use-%[1]s"},"rules":[{"apiGroups":["policy"],"resources":["podsecuritypolicies"],"verbs":["use"],"resourceNames":[%[2]q,%[3]q]}]}`,
			ns, psps[i%2%len(psps)], psps[(i%2*7+3)%len(psps)]))
		add(fmt.Sprintf(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"use","namespace":%[1]q},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"use-%[1]s"},"subjects":[{"kind":"Group","name":"system:serviceaccounts:%[1]s"}]}`, ns))
		automount := []string{"true", "false"}[i%2]
		add(fmt.Sprintf(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":%q},"automountServiceAccountToken":%s}`, ns, automount))
		out = append(out, restyled(t, inNamespace(t, docs, ns), i)...)
	}
	return out
}

// restyled changes what no answer reads in each workload: the images,
// the environment, the template's labels and an annotation of its own.
func restyled(t *testing.T, docs []manifest.Document, i int) []manifest.Document {
	t.Helper()
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["image"].(string); ok {
				v["image"] = fmt.Sprintf("registry.example/copy-%d:1.0", i)
				v["env"] = []any{map[string]any{"name": "COPY", "value": fmt.Sprint(i)}}
				v["resources"] = map[string]any{"requests": map[string]any{"cpu": fmt.Sprintf("%dm", 100+i)}}
			}
			if meta, ok := v["metadata"].(map[string]any); ok {
				meta["labels"] = map[string]any{"copy": fmt.Sprint(i)}
				annotations, _ := meta["annotations"].(map[string]any)
				if annotations == nil {
					annotations = map[string]any{}
				}
				annotations["example.com/copy"] = fmt.Sprint(i)
				meta["annotations"] = annotations
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	out := make([]manifest.Document, 0, len(docs))
	for _, d := range docs {
		var obj map[string]any
		if err := json.Unmarshal(d.Raw, &obj); err != nil {
			t.Fatal(err)
		}
		walk(obj)
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		d.Raw = raw
		out = append(out, d)
	}
	return out
}

// inNamespace copies the namespaced objects of docs into the namespace.
func inNamespace(t *testing.T, docs []manifest.Document, ns string) []manifest.Document {
	t.Helper()
	var out []manifest.Document
	for _, d := range docs {
		if d.Kind == "PodSecurityPolicy" || d.Kind == "ClusterRole" || d.Kind == "ClusterRoleBinding" || d.Kind == "Namespace" {
			continue
		}
		var obj map[string]any
		if json.Unmarshal(d.Raw, &obj) != nil {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			continue
		}
		meta["namespace"] = ns
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		d.Namespace, d.Raw = ns, raw
		out = append(out, d)
	}
	return out
}
