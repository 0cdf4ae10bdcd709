package manifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	sigsyaml "sigs.k8s.io/yaml"
)

const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"

func configMap(name string) string { return strings.ReplaceAll(cm, "%s", name) }

func TestSpans(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		texts []string // each document's text, in order
		lines []int    // each document's Line
	}{
		{
			name:  "file without separator is document 0",
			in:    "a: 1\nb: 2\n",
			texts: []string{"a: 1\nb: 2\n"},
			lines: []int{1},
		},
		{
			name:  "leading separator opens document 0",
			in:    "---\na: 1\n",
			texts: []string{"a: 1\n"},
			lines: []int{2},
		},
		{
			name:  "licence header above the first separator does not shift the index",
			in:    "# Copyright\n\n---\na: 1\n---\nb: 2\n",
			texts: []string{"a: 1\n", "b: 2\n"},
			lines: []int{4, 6},
		},
		{
			name:  "empty and comment-only documents keep their index",
			in:    "a: 1\n---\n---\n# only a comment\n---\n\n---\nb: 2\n",
			texts: []string{"a: 1\n", "", "# only a comment\n", "\n", "b: 2\n"},
			lines: []int{1, 3, 4, 6, 8},
		},
		{
			name:  "trailing separator leaves an empty last document",
			in:    "a: 1\n---\n",
			texts: []string{"a: 1\n", ""},
			lines: []int{1, 3},
		},
		{
			name:  "separator with a comment and blanks",
			in:    "a: 1\n---   # next\nb: 2\n",
			texts: []string{"a: 1\n", "b: 2\n"},
			lines: []int{1, 3},
		},
		{
			name:  "document end marker closes the document",
			in:    "a: 1\n...\n---\nb: 2\n...\n",
			texts: []string{"a: 1\n", "b: 2\n"},
			lines: []int{1, 4},
		},
		{
			name:  "CRLF separator",
			in:    "a: 1\r\n---\r\nb: 2\r\n",
			texts: []string{"a: 1\r\n", "b: 2\r\n"},
			lines: []int{1, 3},
		},
		{
			name:  "dashes inside a block scalar or a longer token are not separators",
			in:    "a: |\n  ---\n---foo: 1\n",
			texts: []string{"a: |\n  ---\n---foo: 1\n"},
			lines: []int{1},
		},
		{
			name:  "byte order mark stays outside document 0",
			in:    "\xef\xbb\xbf---\na: 1\n",
			texts: []string{"a: 1\n"},
			lines: []int{2},
		},
		{
			name:  "a separator after a NEL line break splits, as YAML 1.1 reads it",
			in:    "a: 1\u0085---\nb: 2\n",
			texts: []string{"a: 1\u0085", "b: 2\n"},
			lines: []int{1, 3},
		},
		{
			name:  "a separator after a lone CR splits",
			in:    "a: 1\r---\rb: 2\n",
			texts: []string{"a: 1\r", "b: 2\n"},
			lines: []int{1, 3},
		},
		{
			name:  "content on the separator line",
			in:    "a: 1\n--- {b: 2}\n",
			texts: []string{"a: 1\n", ""},
			lines: []int{1, 2},
		},
		{
			name:  "empty file has no documents",
			in:    "",
			texts: nil,
		},
		{
			name:  "JSON stream: each value is a document",
			in:    "{\"a\": 1}\n\n  {\"b\":\n 2}\n",
			texts: []string{`{"a": 1}`, "{\"b\":\n 2}"},
			lines: []int{1, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans, err := Spans([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(spans) != len(tt.texts) {
				t.Fatalf("got %d documents, want %d: %+v", len(spans), len(tt.texts), spans)
			}
			for i, s := range spans {
				if s.Index != i {
					t.Errorf("document %d: Index %d", i, s.Index)
				}
				if got := tt.in[s.Start:s.End]; got != tt.texts[i] {
					t.Errorf("document %d: text %q, want %q", i, got, tt.texts[i])
				}
				if s.Line != tt.lines[i] {
					t.Errorf("document %d: line %d, want %d", i, s.Line, tt.lines[i])
				}
			}
		})
	}
}

// TestSpansNumberAsRead checks the contract with package rewrite: every
// object Read finds has the Source.Index and Source.Line of the document
// Spans finds it in, on the corpus, the demo and the separator corner
// cases.
func TestSpansNumberAsRead(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testinputs.CorpusDir(t, "workloads"), "*.y*ml"))
	demo, _ := filepath.Glob(filepath.Join("..", "testdata", "demo", "*.yaml"))
	files = append(files, demo...)
	dir := t.TempDir()
	for i, in := range []string{
		"# Copyright\n# licence\n\n---\n" + configMap("a"),
		configMap("a") + "---\n---\n# only a comment\n---\n\n---\n" + configMap("b"),
		"null\n---\n" + configMap("a"),
		configMap("a") + "--- # next\n" + configMap("b") + "---  \t\n" + configMap("c"),
		configMap("a") + "...\n---\n" + configMap("b") + "...\n",
		"%YAML 1.1\n---\n" + configMap("a"),
		"\xef\xbb\xbf" + configMap("a") + "---\n" + configMap("b"),
		strings.ReplaceAll(configMap("a")+"---\n"+configMap("b"), "\n", "\r\n"),
		"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}\n" +
			"{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n" +
			"  {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"b\"}}]}\n",
		configMap("a") + "\u0085---\n" + configMap("b"),
		configMap("a") + "\u2028---\u2029" + configMap("b"),
		configMap("a") + "\r---\r" + configMap("b"),
		"apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(configMap("a"), "\n", "\n  ") + "\n---\n" + configMap("b"),
	} {
		path := filepath.Join(dir, "case"+string(rune('a'+i))+".yaml")
		if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			docs, errs := Read([]string{file}, nil)
			if len(errs) > 0 {
				t.Fatalf("manifest.Read: %v", errs)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			spans, err := Spans(data)
			if err != nil {
				t.Fatal(err)
			}
			// Objects by (index, line); a List by (index, 0), since its
			// items carry their own lines.
			want := map[[2]int]bool{}
			for _, d := range docs {
				if d.Source.Item == nil {
					want[[2]int{d.Source.Index, d.Source.Line}] = true
				} else {
					want[[2]int{d.Source.Index, 0}] = true
				}
			}
			got := map[[2]int]bool{}
			for _, s := range spans {
				var obj map[string]any
				if err := sigsyaml.Unmarshal(data[s.Start:s.End], &obj); err != nil {
					t.Fatalf("document %d: %v", s.Index, err)
				}
				switch {
				case obj == nil:
				case obj["items"] != nil:
					got[[2]int{s.Index, 0}] = true
				default:
					got[[2]int{s.Index, s.Line}] = true
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("documents (index, line) %v, manifest read %v", got, want)
			}
		})
	}
}

// TestSortedIdentity reads the identity of objects as json.Marshal writes
// maps, and refuses what it does not read so.
func TestSortedIdentity(t *testing.T) {
	for _, obj := range []map[string]any{
		{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "a\"b", "labels": map[string]any{"x": "}{]["}}, "spec": map[string]any{"a": []any{1, "2", nil, true}}},
		{"kind": "Pod", "spec": map[string]any{}},
		{"apiVersion": 5, "kind": []any{"x"}, "metadata": nil},
		{"metadata": map[string]any{"name": "\\\\"}, "aaa": 1.5, "zzz": "kind"},
		{},
	} {
		js, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			APIVersion json.RawMessage `json:"apiVersion"`
			Kind       json.RawMessage `json:"kind"`
			Metadata   json.RawMessage `json:"metadata"`
		}
		if err := json.Unmarshal(js, &want); err != nil {
			t.Fatal(err)
		}
		a, k, m, ok := sortedIdentity(js)
		if !ok || string(a) != string(want.APIVersion) || string(k) != string(want.Kind) || string(m) != string(want.Metadata) {
			t.Errorf("%s: got %s %s %s %v, want %s %s %s", js, a, k, m, ok, want.APIVersion, want.Kind, want.Metadata)
		}
	}
	for _, js := range []string{`{"kind":"A","apiVersion":"v1"}`, `{"k\"ind":"A"}`, `[1]`, `{"kind":"A"`} {
		if _, _, _, ok := sortedIdentity([]byte(js)); ok {
			t.Errorf("%s: read, want refused", js)
		}
	}
}
