package rewrite

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// assertQuickParse checks that quickParse, where it reads a text, builds
// the tree yaml.v3 builds, comments and positions included; it reports
// whether it read it.
func assertQuickParse(t *testing.T, what, text string, l layout) bool {
	t.Helper()
	got, ok := quickParse(text, l)
	if !ok {
		return false
	}
	want, err := parseDocument(text)
	if err != nil {
		t.Errorf("%s: quickParse read what yaml.v3 refuses (%v):\n%s", what, err, text)
		return true
	}
	if diff := nodeDifference(got, want, "document"); diff != "" {
		t.Errorf("%s, layout %+v: quickParse differs from yaml.v3 at %s:\n%s", what, l, diff, text)
	}
	return true
}

// nodeDifference names the first place where two trees differ, "" when
// they are alike in every field.
func nodeDifference(a, b *yaml.Node, at string) string {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment ||
		a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s: %+v\nvs yaml.v3 %+v", at, *a, *b)
	}
	for i := range a.Content {
		if d := nodeDifference(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", at, i)); d != "" {
			return d
		}
	}
	return ""
}

// TestQuickParseIsYAMLv3 reads every manifest at hand as it is written and
// as the emitter rewrites it in every layout, and compares quickParse with
// yaml.v3 wherever quickParse reads it.
func TestQuickParseIsYAMLv3(t *testing.T) {
	docs := documentsOf(t, append(yamlFilesUnder("../testdata"), yamlFilesUnder("testdata")...))
	read, total := 0, 0
	for what, text := range docs {
		for _, l := range layouts {
			assertQuickParse(t, what+" as written", text, l)
			doc, err := parseDocument(text)
			if err != nil {
				continue
			}
			emitted, err := emit(doc, l)
			if err != nil {
				continue
			}
			total++
			if assertQuickParse(t, what+" re-encoded", emitted, l) {
				read++
			}
		}
	}
	t.Logf("quickParse read %d of %d re-encoded documents", read, total)
	if read < total/2 {
		t.Errorf("quickParse read only %d of %d re-encoded documents", read, total)
	}
}

// TestQuickParseGenerated compares quickParse with yaml.v3 on generated
// documents as the emitter writes them.
func TestQuickParseGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	read := 0
	const n = 3000
	for i := range n {
		doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{randomMapping(rng, 0)}}
		if rng.IntN(4) == 0 {
			doc.HeadComment = randomComment(rng)
		}
		l := layouts[rng.IntN(len(layouts))]
		text, err := emit(doc, l)
		if err != nil {
			continue
		}
		if assertQuickParse(t, fmt.Sprintf("generated document %d", i), text, l) {
			read++
		}
		// And a few texts that are not quite canonical.
		for _, change := range []func(string) string{
			func(s string) string { return strings.Replace(s, ": ", ":  ", 1) },
			func(s string) string { return strings.Replace(s, "\n", "\n\n", 1) },
			func(s string) string { return strings.Replace(s, "- ", "-  ", 1) },
			func(s string) string { return strings.Replace(s, "\n  ", "\n   ", 1) },
			func(s string) string { return strings.Replace(s, "'", "\"", 2) },
			func(s string) string { return s + "# trailing\n" },
		} {
			assertQuickParse(t, fmt.Sprintf("generated document %d, changed", i), change(text), l)
		}
	}
	t.Logf("quickParse read %d of %d generated documents", read, n)
	if read < n/8 {
		t.Errorf("quickParse read only %d of %d generated documents", read, n)
	}
}

// FuzzQuickParse compares quickParse with yaml.v3 on arbitrary text.
func FuzzQuickParse(f *testing.F) {
	for _, s := range []string{
		"a: 1\nb:\n  - x\n  - y: 2\n    z: '3'\n",
		"# head\nkind: A\nspec:\n  list:\n  - {}\n  - []\n  - \"q\"\n",
		"# doc\n\na: b\n",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, text string, pick uint8) {
		assertQuickParse(t, "fuzzed text", text, layouts[int(pick)%len(layouts)])
	})
}
