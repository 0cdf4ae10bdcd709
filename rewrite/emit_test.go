package rewrite

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/manifest"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// layouts are the ones deriveLayout gives and a few it could.
var layouts = []layout{{2, false}, {2, true}, {4, false}, {4, true}, {3, true}, {3, false}}

// assertQuickEncode checks that quickEncode, where it writes a document,
// writes what the emitter writes; it reports whether it wrote it.
func assertQuickEncode(t *testing.T, what string, doc *yaml.Node, l layout) bool {
	t.Helper()
	want, err := emit(doc, l)
	if err != nil {
		return false
	}
	got, ok := quickEncode(doc, l)
	if ok && got != want {
		t.Errorf("%s, layout %+v: quickEncode differs from the emitter:\n--- emitter\n%s--- quickEncode\n%s", what, l, want, got)
	}
	return ok
}

// documentsOf are the YAML documents of the files, by file and index.
func documentsOf(t *testing.T, files []string) map[string]string {
	t.Helper()
	docs := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		spans, err := manifest.Spans(data)
		if err != nil {
			continue
		}
		for _, s := range spans {
			if !s.Empty && !s.JSON && !s.MarkerContent {
				docs[fmt.Sprintf("%s document %d", f, s.Index)] = string(data[s.Start:s.End])
			}
		}
	}
	return docs
}

func yamlFilesUnder(dir string) []string {
	var files []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	return files
}

// TestQuickEncodeIsTheEmitter compares quickEncode with the emitter on
// every manifest of the repository and of the PSA library's pod fixtures,
// as read and with the edits a plan makes, in every layout.
func TestQuickEncodeIsTheEmitter(t *testing.T) {
	root := testinputs.RepoRoot(t)
	files := yamlFilesUnder(filepath.Join(root, "testdata"))
	for _, dir := range []string{"rewrite", "cmd/psp2psa", "artifacts", "plan"} {
		files = append(files, yamlFilesUnder(filepath.Join(root, dir, "testdata"))...)
	}
	fixtures := yamlFilesUnder(filepath.Join(testinputs.PSAModuleDir(t), "test", "testdata"))
	if testing.Short() {
		// A quarter of the PSA library's fixtures: they come in
		// families that differ in one field.
		for i := 0; i < len(fixtures); i += 4 {
			files = append(files, fixtures[i])
		}
	} else {
		files = append(files, fixtures...)
	}
	compareOnDocuments(t, documentsOf(t, files))
}

// TestQuickEncodeCorpus does the same on the shared corpus.
func TestQuickEncodeCorpus(t *testing.T) {
	compareOnDocuments(t, documentsOf(t, yamlFilesUnder(testinputs.CorpusDir(t))))
}

func compareOnDocuments(t *testing.T, docs map[string]string) {
	t.Helper()
	if len(docs) < 50 {
		t.Fatalf("only %d documents found", len(docs))
	}
	written, total := 0, 0
	for what, text := range docs {
		doc, err := parseDocument(text)
		if err != nil {
			continue
		}
		// The layout the document shows, and one other.
		wide, _ := listsIndented(text)
		for _, l := range []layout{deriveLayout(text, func() bool { return wide }), layouts[len(what)%len(layouts)]} {
			total++
			if assertQuickEncode(t, what, doc, l) {
				written++
			}
		}
		edited := false
		for _, e := range planLikeEdits() {
			if applyEdits(doc, []Edit{{Sets: e.Sets, Deletes: e.Deletes}}) == nil {
				edited = true
			}
		}
		if edited {
			assertQuickEncode(t, what+" (edited)", doc, layouts[len(text)%len(layouts)])
		}
	}
	t.Logf("quickEncode wrote %d of %d document layouts of %d documents", written, total, len(docs))
	if written < total/2 {
		t.Errorf("quickEncode wrote only %d of %d document layouts", written, total)
	}
}

// planLikeEdits are edits of the kinds a plan makes, at the places a
// plan makes them, in every kind of workload.
func planLikeEdits() []Edit {
	var out []Edit
	for _, base := range [][]string{{"spec"}, {"spec", "template", "spec"}, {"spec", "jobTemplate", "spec", "template", "spec"}} {
		out = append(out,
			Edit{Sets: []Set{
				{Path: append(clone(base), "securityContext", "runAsNonRoot"), Value: true},
				{Path: append(clone(base), "securityContext", "fsGroup"), Value: int64(1)},
				{Path: append(clone(base), "securityContext", "supplementalGroups"), Value: []int64{1, 2}},
				{Path: append(clone(base), "securityContext", "seccompProfile"), Value: map[string]any{"type": "RuntimeDefault"}},
				{Path: append(clone(base), "securityContext", "seLinuxOptions", "type"), Value: "spc_t"},
			}},
			Edit{Deletes: []Delete{{Path: append(clone(base[:len(base)-1]), "metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod")}}},
		)
	}
	out = append(out, Edit{Sets: []Set{
		{Path: []string{"metadata", "labels", "pod-security.kubernetes.io/enforce"}, Value: "baseline"},
		{Path: []string{"metadata", "labels", "pod-security.kubernetes.io/enforce-version"}, Value: "v1.37"},
		{Path: []string{"metadata", "labels", "odd"}, Value: "yes: no #x"},
		{Path: []string{"metadata", "labels", "number"}, Value: "0o17"},
	}})
	return out
}

func clone(s []string) []string { return append([]string(nil), s...) }

// TestQuickEncodeGenerated compares quickEncode with the emitter on
// generated documents: every kind of node and scalar it handles, and many
// it declines, nested every way.
func TestQuickEncodeGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	written := 0
	const n = 3000
	for i := range n {
		doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{randomMapping(rng, 0)}}
		if rng.IntN(4) == 0 {
			doc.HeadComment = randomComment(rng)
		}
		l := layouts[rng.IntN(len(layouts))]
		if assertQuickEncode(t, fmt.Sprintf("generated document %d", i), doc, l) {
			written++
		}
		// And as the parser gives it back.
		text, err := emit(doc, l)
		if err != nil {
			continue
		}
		if parsed, err := parseDocument(text); err == nil {
			assertQuickEncode(t, fmt.Sprintf("generated document %d, parsed", i), parsed, l)
		}
	}
	t.Logf("quickEncode wrote %d of %d generated documents", written, n)
	if written < n/4 {
		t.Errorf("quickEncode wrote only %d of %d generated documents", written, n)
	}
}

// scalars are values that take every path of the scalar rules: plain,
// quoted by style, quoted because they read as another type, indicators,
// spaces, YAML 1.1 and 1.2 numbers and words, timestamps, and a few the
// quick path declines.
var scalars = []string{
	"app", "registry.example.com/app:1.2.3", "500m", "64Mi", "8080", "0", "-1", "+1", "0x1F", "0o17", "0b101", "-0b1",
	"0777", "09", "1_000", "1e3", "1.5", ".5", ".inf", "-.Inf", ".nan", ".x", "1.2.3", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
	"true", "True", "false", "yes", "no", "on", "off", "y", "n", "null", "Null", "~", "", "<<",
	"a b", " lead", "trail ", "a: b", "a:b", "a #b", "a#b", "#x", "-", "- x", "-x", "?", "? x", ":x", ": x",
	"[a]", "{a}", "a,b", "&a", "*a", "!a", "|", ">", "'q'", `"q"`, "it's", `back\slash`, "%x", "@x", "`x",
	"---", "--- x", "...", "a\tb", "ünï", "line\nbreak", "--upstream=127.0.0.1:8000",
}

var tags = []string{"", yaml.NodeTagString, yaml.NodeTagInt, yaml.NodeTagBool, yaml.NodeTagNull, yaml.NodeTagFloat, "!custom"}

func randomScalar(rng *rand.Rand) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: scalars[rng.IntN(len(scalars))], Tag: yaml.NodeTagString}
	switch rng.IntN(6) {
	case 0:
		n.Tag = tags[rng.IntN(len(tags))]
	case 1:
		n.Style = yaml.DoubleQuotedStyle
	case 2:
		n.Style = yaml.SingleQuotedStyle
	}
	if rng.IntN(40) == 0 {
		n.Style = []yaml.Style{yaml.LiteralStyle, yaml.FoldedStyle, yaml.TaggedStyle, yaml.FlowStyle}[rng.IntN(4)]
	}
	if rng.IntN(60) == 0 {
		n.LineComment = "# line"
	}
	return n
}

func randomKey(rng *rand.Rand) *yaml.Node {
	keys := []string{"name", "spec", "app.kubernetes.io/name", "securityContext", "x", "a b", "true", "1", "k: v", "-k", strings.Repeat("k", 130)}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: keys[rng.IntN(len(keys))]}
	if rng.IntN(8) == 0 {
		n.HeadComment = randomComment(rng)
	}
	if rng.IntN(10) == 0 {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func randomComment(rng *rand.Rand) string {
	return []string{"# one", "# one\n# two", "#tight", "# one\n\n# after a blank", "# ünï"}[rng.IntN(5)]
}

func randomNode(rng *rand.Rand, depth int) *yaml.Node {
	if depth > 4 {
		return randomScalar(rng)
	}
	switch rng.IntN(5) {
	case 0:
		return randomMapping(rng, depth+1)
	case 1:
		return randomSequence(rng, depth+1)
	}
	return randomScalar(rng)
}

func randomMapping(rng *rand.Rand, depth int) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
	for range rng.IntN(5) + boolInt(depth == 0) {
		m.Content = append(m.Content, randomKey(rng), randomNode(rng, depth))
	}
	if rng.IntN(30) == 0 {
		m.Style = yaml.FlowStyle
	}
	return m
}

func randomSequence(rng *rand.Rand, depth int) *yaml.Node {
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
	for range rng.IntN(4) {
		s.Content = append(s.Content, randomNode(rng, depth))
	}
	if rng.IntN(30) == 0 {
		s.Style = yaml.FlowStyle
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FuzzQuickEncode parses arbitrary YAML and compares quickEncode with the
// emitter on it.
func FuzzQuickEncode(f *testing.F) {
	for _, s := range []string{
		"a: 1\nb:\n  - x\n  - y: 2\n    z: '3'\n",
		"# head\nkind: A\nspec:\n  list:\n  - {}\n  - []\n  - \"q\"\n",
		"a: [1, 2]\nb: {c: d}\n",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, pick uint8) {
		doc, err := parseDocument(string(data))
		if err != nil {
			return
		}
		assertQuickEncode(t, "fuzzed document", doc, layouts[int(pick)%len(layouts)])
	})
}
