package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fuzzSeeds are inputs that reach the reader's corners: separators,
// markers, Lists, JSON streams, broken documents.
var fuzzSeeds = []string{
	"",
	"---\n",
	"# only a comment\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n--- {kind: Secret}\n...\nkind: X\n",
	"%YAML 1.1\n---\nkind: A\n",
	"apiVersion: v1\nkind: List\nitems:\n- kind: A\n  metadata: {name: a}\n- 3\n- {}\n",
	"kind: FooList\nitems: {a: 1}\n",
	"apiVersion: v1\nitems:\n  - kind: A\n    metadata:\n      name: a\n# between\n  -\n    kind: B\n  - null\n  - kind: C\n    x: |\n      text\n\n      more\nkind: List\nmetadata: {}\n",
	"kind: List\nitems:\n- &a {kind: A}\n- *a\n",
	"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  data:\n    s: |\n      - x\n      ---\n# c\n\n- apiVersion: v1\n  kind: Secret\n  list:\n  - a\n  flow: {a: 1,\n    b: 2}\nmetadata:\n  resourceVersion: \"\"\n",
	"items:\n  - kind: A\n    a: &x 1\n    b: *x\n  - kind: B\nkind: PodSecurityPolicyList\n",
	"kind: List\nitems:\n- kind: A\n   x: 1\n",
	"{\"kind\": \"List\", \"items\": [{\"kind\": \"A\"}, null, []]}\n{\"kind\": \"B\"} [1] \"x\" null",
	"{\"kind\": \"A\", \"metadata\": {\"name\": 5}}",
	"{\"kind\": \"A\",\n \"items\": [",
	"kind: A\nmetadata:\n\tname: a\n",
	"a: &x [*x]\n",
	"\xef\xbb\xbfkind: A\r\n---\r\nkind: B\r\n",
	"- a\n- b\n",
	"kind: [A]\n",
	"? [1, 2]\n: 3\n",
}

// addCorpusSeeds adds the files of the shared corpus as seeds when it is
// there; the fuzzer works without them.
func addCorpusSeeds(f *testing.F, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil && filepath.Base(file) != "INDEX.tsv" {
			f.Add(data)
		}
	}
}

// FuzzRead feeds arbitrary bytes to Read as standard input. It must never
// panic, and what it returns must keep Read's promises.
func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	addCorpusSeeds(f, filepath.Join("..", "..", "shared", "corpus", "psp"))
	addCorpusSeeds(f, filepath.Join("..", "..", "shared", "corpus", "workloads"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, errs := Read([]string{Stdin}, bytes.NewReader(data))
		// The List fast path must give what converting whole documents
		// gives, whenever it applies.
		splitListItems = false
		wholeDocs, wholeErrs := Read([]string{Stdin}, bytes.NewReader(data))
		splitListItems = true
		if !reflect.DeepEqual(docs, wholeDocs) || !reflect.DeepEqual(errorStrings(errs), errorStrings(wholeErrs)) {
			t.Errorf("List fast path differs:\n docs %q\nwhole %q\n errs %q\nwhole %q",
				summaries(docs), summaries(wholeDocs), errorStrings(errs), errorStrings(wholeErrs))
		}
		lines := yamlLineCount(data)
		for _, d := range docs {
			if d.Kind == "" {
				t.Errorf("document without kind: %+v", d.Source)
			}
			if !json.Valid(d.Raw) {
				t.Errorf("%v: Raw is not JSON: %q", d.Source, d.Raw)
			}
			if d.Source.File != StdinFile || d.Source.Index < 0 || d.Source.Line < 1 || d.Source.Line > lines {
				t.Errorf("bad source %+v for %d lines", d.Source, lines)
			}
		}
		for _, err := range errs {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error is not a *manifest.Error: %v", err)
				continue
			}
			if e.Source.Line > lines+1 {
				t.Errorf("error line %d beyond the input's %d lines: %v", e.Source.Line, lines, err)
			}
		}
	})
}

// yamlLineCount counts lines as YAML 1.1 does (see breakLength), which is
// at least as many as JSON's.
func yamlLineCount(data []byte) int {
	n := 1
	for i := 0; i < len(data); {
		if b := breakLength(data[i:]); b > 0 {
			n++
			i += b
		} else {
			i++
		}
	}
	return n
}
