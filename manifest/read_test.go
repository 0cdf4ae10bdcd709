package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// summary renders a document as "index[.item] Lline apiVersion/kind ns/name"
// so that stream tests can state what they expect in one line each.
func summary(d Document) string {
	at := fmt.Sprint(d.Source.Index)
	if d.Source.Item != nil {
		at += fmt.Sprintf(".%d", *d.Source.Item)
	}
	name := d.Name
	if d.Namespace != "" {
		name = d.Namespace + "/" + name
	}
	return fmt.Sprintf("%s L%d %s/%s %s", at, d.Source.Line, d.APIVersion, d.Kind, name)
}

func summaries(docs []Document) []string {
	out := []string{}
	for _, d := range docs {
		out = append(out, summary(d))
	}
	return out
}

func errorStrings(errs []error) []string {
	out := []string{}
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}

func readStdin(input string) ([]Document, []error) {
	return Read([]string{Stdin}, strings.NewReader(input))
}

func TestReadStream(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"
	tests := []struct {
		name     string
		input    string
		wantDocs []string
		wantErrs []string
	}{
		{
			name:     "single document starts at line 1",
			input:    fmt.Sprintf(cm, "a"),
			wantDocs: []string{"0 L1 v1/ConfigMap a"},
		},
		{
			name:     "documents separated by --- count from 0 and know their first line",
			input:    fmt.Sprintf(cm, "a") + "---\n" + fmt.Sprintf(cm, "b"),
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L6 v1/ConfigMap b"},
		},
		{
			name:     "licence header before the first --- does not shift the index",
			input:    "# Copyright\n# licence\n\n---\n" + fmt.Sprintf(cm, "a"),
			wantDocs: []string{"0 L5 v1/ConfigMap a"},
		},
		{
			name:     "leading --- opens document 0",
			input:    "---\n" + fmt.Sprintf(cm, "a") + "---\n" + fmt.Sprintf(cm, "b"),
			wantDocs: []string{"0 L2 v1/ConfigMap a", "1 L7 v1/ConfigMap b"},
		},
		{
			name:     "empty and comment-only documents are skipped but keep their index",
			input:    fmt.Sprintf(cm, "a") + "---\n---\n# only a comment\n---\n\n---\n" + fmt.Sprintf(cm, "b"),
			wantDocs: []string{"0 L1 v1/ConfigMap a", "4 L11 v1/ConfigMap b"},
		},
		{
			name:     "null document is empty",
			input:    "null\n---\n" + fmt.Sprintf(cm, "a"),
			wantDocs: []string{"1 L3 v1/ConfigMap a"},
		},
		{
			name:     "trailing separator adds nothing",
			input:    fmt.Sprintf(cm, "a") + "---\n",
			wantDocs: []string{"0 L1 v1/ConfigMap a"},
		},
		{
			name:     "separator with a comment and trailing blanks",
			input:    fmt.Sprintf(cm, "a") + "--- # next\n" + fmt.Sprintf(cm, "b") + "---  \t\n" + fmt.Sprintf(cm, "c"),
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L6 v1/ConfigMap b", "2 L11 v1/ConfigMap c"},
		},
		{
			name:     "content on the --- line belongs to the new document",
			input:    fmt.Sprintf(cm, "a") + "--- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n",
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L5 v1/Secret s"},
		},
		{
			name:     "content on a last --- line without a newline",
			input:    fmt.Sprintf(cm, "a") + "--- {apiVersion: v1, kind: Secret, metadata: {name: s}}",
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L5 v1/Secret s"},
		},
		{
			name:     "old Mac line endings: a lone CR ends a line",
			input:    strings.ReplaceAll(fmt.Sprintf(cm, "a")+"---\n"+fmt.Sprintf(cm, "b"), "\n", "\r"),
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L6 v1/ConfigMap b"},
		},
		{
			name:     "NEL and LS end lines for YAML 1.1, so --- after them separates documents",
			input:    "apiVersion: v1\u0085kind: ConfigMap\u0085metadata: {name: a}\u2028---\u2028apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L5 v1/Secret s"},
		},
		{
			name:     "--- inside a longer token is not a separator",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: |\n    ---not-a-marker\n",
			wantDocs: []string{"0 L1 v1/ConfigMap a"},
		},
		{
			name:     "document end marker ... closes the document",
			input:    fmt.Sprintf(cm, "a") + "...\n---\n" + fmt.Sprintf(cm, "b") + "...\n",
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L7 v1/ConfigMap b"},
		},
		{
			name:     "namespace is read",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: ns\n",
			wantDocs: []string{"0 L1 v1/ConfigMap ns/a"},
		},
		{
			name:     "CRLF line endings",
			input:    strings.ReplaceAll(fmt.Sprintf(cm, "a")+"---\n"+fmt.Sprintf(cm, "b"), "\n", "\r\n"),
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L6 v1/ConfigMap b"},
		},
		{
			name:     "UTF-8 byte order mark",
			input:    "\xef\xbb\xbf" + fmt.Sprintf(cm, "a"),
			wantDocs: []string{"0 L1 v1/ConfigMap a"},
		},
		{
			name:     "no trailing newline",
			input:    strings.TrimSuffix(fmt.Sprintf(cm, "a"), "\n"),
			wantDocs: []string{"0 L1 v1/ConfigMap a"},
		},
		{
			name:     "line longer than the read buffer",
			input:    fmt.Sprintf(cm, "a") + "data:\n  big: " + strings.Repeat("x", 3*readBufferSize) + "\n---\n" + fmt.Sprintf(cm, "b"),
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L8 v1/ConfigMap b"},
		},
		{
			name:     "kind List expands into its items with their lines",
			input:    "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\nkind: List\nmetadata:\n  resourceVersion: \"\"\n",
			wantDocs: []string{"0.0 L3 v1/ConfigMap a", "0.1 L7 v1/Secret s"},
		},
		{
			name:     "typed list as kubectl get psp -o yaml prints it",
			input:    "apiVersion: policy/v1beta1\nkind: PodSecurityPolicyList\nitems:\n  - apiVersion: policy/v1beta1\n    kind: PodSecurityPolicy\n    metadata: {name: p}\n",
			wantDocs: []string{"0.0 L4 policy/v1beta1/PodSecurityPolicy p"},
		},
		{
			name:     "list items in flow style fall back to the list's line",
			input:    "---\napiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}]\n",
			wantDocs: []string{"0.0 L2 v1/ConfigMap a"},
		},
		{
			name:     "list item without kind is an error naming the item",
			input:    "apiVersion: policy/v1beta1\nkind: PodSecurityPolicyList\nitems:\n- metadata: {name: p}\n- apiVersion: policy/v1beta1\n  kind: PodSecurityPolicy\n  metadata: {name: q}\n",
			wantDocs: []string{"0.1 L5 policy/v1beta1/PodSecurityPolicy q"},
			wantErrs: []string{"<stdin>: document 0, item 0 (line 4): kind: the list item has no kind (raw API list responses omit it; kubectl get -o yaml/json sets it)"},
		},
		{
			name:     "empty List yields nothing",
			input:    "apiVersion: v1\nkind: List\nitems: []\n",
			wantDocs: []string{},
		},
		{
			name:     "List whose items is not a list",
			input:    "apiVersion: v1\nkind: List\nitems: {a: 1}\n",
			wantErrs: []string{"<stdin>: document 0 (line 1): List/<unnamed>: items: expected a list, got an object"},
		},
		{
			name:     "list item that is not an object",
			input:    "apiVersion: v1\nkind: List\nitems:\n- just a string\n",
			wantErrs: []string{"<stdin>: document 0, item 0 (line 4): the list item is not an object but a string"},
		},
		{
			name:     "a kind ending in List without items is an ordinary object",
			input:    "apiVersion: example.com/v1\nkind: AllowList\nmetadata:\n  name: a\n",
			wantDocs: []string{"0 L1 example.com/v1/AllowList a"},
		},
		{
			name:     "object without kind is an error",
			input:    "apiVersion: v1\nmetadata:\n  name: a\n---\n" + fmt.Sprintf(cm, "b"),
			wantDocs: []string{"1 L5 v1/ConfigMap b"},
			wantErrs: []string{"<stdin>: document 0 (line 1): kind: the object has no kind"},
		},
		{
			name:     "keys are case-sensitive as in the apiserver",
			input:    "apiVersion: v1\nKind: ConfigMap\nmetadata:\n  name: a\n",
			wantErrs: []string{"<stdin>: document 0 (line 1): kind: the object has no kind"},
		},
		{
			name:     "document that is not an object",
			input:    "- a\n- b\n",
			wantErrs: []string{"<stdin>: document 0 (line 1): the document is not an object but a list"},
		},
		{
			name:     "metadata.name that is not a string",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 5\n",
			wantErrs: []string{"<stdin>: document 0 (line 1): metadata.name: expected a string, got a number (5)"},
		},
		{
			name:     "kind that is not a string",
			input:    "apiVersion: v1\nkind: [ConfigMap]\n",
			wantErrs: []string{"<stdin>: document 0 (line 1): kind: expected a string, got a list"},
		},
		{
			name:     "YAML error line is a line of the file, and later documents are still read",
			input:    fmt.Sprintf(cm, "a") + "---\n# comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b: c\n---\n" + fmt.Sprintf(cm, "c"),
			wantDocs: []string{"0 L1 v1/ConfigMap a", "2 L12 v1/ConfigMap c"},
			wantErrs: []string{"<stdin>: document 1 (line 7): invalid YAML at line 10: mapping values are not allowed in this context"},
		},
		{
			name:     "YAML tab indentation",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n",
			wantErrs: []string{"<stdin>: document 0 (line 1): invalid YAML at line 4: found character that cannot start any token"},
		},
		{
			name:     "JSON object",
			input:    "\n{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}\n",
			wantDocs: []string{"0 L2 v1/ConfigMap a"},
		},
		{
			name:     "concatenated JSON values are documents",
			input:    "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}\n\n{\"apiVersion\": \"v1\",\n \"kind\": \"Secret\", \"metadata\": {\"name\": \"s\"}}",
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L3 v1/Secret s"},
		},
		{
			name:     "JSON List as kubectl get -o json prints it, items with their lines",
			input:    "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\n      \"apiVersion\": \"v1\",\n      \"kind\": \"ConfigMap\",\n      \"metadata\": {\"name\": \"a\"}\n    },\n    {\n      \"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"s\"}\n    }\n  ],\n  \"kind\": \"List\"\n}\n",
			wantDocs: []string{"0.0 L4 v1/ConfigMap a", "0.1 L9 v1/Secret s"},
		},
		{
			name:     "JSON syntax error names the line in the file",
			input:    "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}\n{\n  \"kind\": \"Secret\",\n  \"metadata\": x\n}\n",
			wantDocs: []string{"0 L1 v1/ConfigMap a"},
			wantErrs: []string{"<stdin>: document 1: invalid JSON at line 4: invalid character 'x' looking for beginning of value"},
		},
		{
			name:     "JSON syntax error deep inside a List item",
			input:    "{\"kind\": \"List\", \"items\": [\n  {\"kind\": \"ConfigMap\"},\n  {\"kind\": \"Secret\",\n   \"data\": {\"a\": 1,\n            x}}]}\n",
			wantErrs: []string{"<stdin>: document 0: invalid JSON at line 5: invalid character 'x' looking for beginning of object key string"},
		},
		{
			name:     "JSON syntax error between key and value",
			input:    "{\"apiVersion\": \"v1\",\n \"kind\" \"Secret\"}\n",
			wantErrs: []string{"<stdin>: document 0: invalid JSON at line 2: expected colon after object key"},
		},
		{
			name:     "truncated JSON",
			input:    "{\"apiVersion\": \"v1\",\n \"kind\": \"ConfigMap\"",
			wantErrs: []string{"<stdin>: document 0: invalid JSON at line 2: unexpected end of input"},
		},
		{
			name:     "JSON document between YAML separators",
			input:    fmt.Sprintf(cm, "a") + "---\n{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"s\"}}\n",
			wantDocs: []string{"0 L1 v1/ConfigMap a", "1 L6 v1/Secret s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, errs := readStdin(tt.input)
			if tt.wantDocs == nil {
				tt.wantDocs = []string{}
			}
			if tt.wantErrs == nil {
				tt.wantErrs = []string{}
			}
			if got := summaries(docs); !reflect.DeepEqual(got, tt.wantDocs) {
				t.Errorf("documents:\n got %q\nwant %q", got, tt.wantDocs)
			}
			if got := errorStrings(errs); !reflect.DeepEqual(got, tt.wantErrs) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.wantErrs)
			}
		})
	}
}

func TestReadRawIsTheObjectAsJSON(t *testing.T) {
	docs, errs := readStdin("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: \"1\"\n")
	if len(errs) != 0 || len(docs) != 1 {
		t.Fatalf("got %d docs, errors %v", len(docs), errs)
	}
	want := `{"apiVersion":"v1","data":{"k":"1"},"kind":"ConfigMap","metadata":{"name":"a"}}`
	if string(docs[0].Raw) != want {
		t.Errorf("Raw = %s, want %s", docs[0].Raw, want)
	}
}

// TestReadJSONRawKeepsEveryMember: an object read from a JSON stream is
// put back together from its members; nothing may get lost, not even an
// "items" member that is not a list, and numbers keep their text.
func TestReadJSONRawKeepsEveryMember(t *testing.T) {
	for _, input := range []string{
		`{"kind":"Thing","items":{"a":1.50,"b":[true,null,"x",{"c":{}}]},"z":1e3}`,
		`{"kind":"Thing","items":"text","metadata":{"name":"a"}}`,
		`{"kind":"Thing","items":[{"kind":"A"},2],"spec":{}}`,
		`{"kind":"Thing","items":null}`,
	} {
		docs, errs := readStdin(input)
		if len(errs) != 0 || len(docs) != 1 {
			t.Fatalf("%s: %d docs, errors %v", input, len(docs), errs)
		}
		if string(docs[0].Raw) != input {
			t.Errorf("Raw = %s\nwant  %s", docs[0].Raw, input)
		}
	}
}

func TestReadListItemsInheritNothing(t *testing.T) {
	docs, errs := readStdin("apiVersion: v1\nkind: List\nmetadata:\n  namespace: ns\nitems:\n- kind: ConfigMap\n  metadata: {name: a}\n")
	if len(errs) != 0 || len(docs) != 1 {
		t.Fatalf("got %d docs, errors %v", len(docs), errs)
	}
	if d := docs[0]; d.APIVersion != "" || d.Namespace != "" {
		t.Errorf("item took apiVersion %q / namespace %q from its list", d.APIVersion, d.Namespace)
	}
	if string(docs[0].Raw) != `{"kind":"ConfigMap","metadata":{"name":"a"}}` {
		t.Errorf("item Raw = %s", docs[0].Raw)
	}
}

// writeFiles creates files (path -> content) under a new directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadPaths(t *testing.T) {
	obj := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
	}
	dir := writeFiles(t, map[string]string{
		"b.yaml":             obj("b"),
		"a.yml":              obj("a"),
		"sub/c.json":         `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`,
		"sub/d.YAML":         obj("d"),
		"notes.txt":          obj("txt"),
		"policy.yaml.tmpl":   obj("tmpl"),
		".hidden/e.yaml":     obj("hidden-dir"),
		".f.yaml":            obj("hidden-file"),
		"broken.yaml":        "a: b: c\n",
		"z/last.golden":      obj("golden"),
		"z/last.golden.yaml": obj("z"),
	})
	if err := os.Symlink(filepath.Join(dir, "a.yml"), filepath.Join(dir, "sub", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "sub", "loop.yaml")); err != nil {
		t.Fatal(err)
	}

	t.Run("directory walk is recursive, sorted and filtered by extension", func(t *testing.T) {
		docs, errs := Read([]string{dir}, nil)
		var names []string
		for _, d := range docs {
			names = append(names, d.Name)
		}
		want := []string{"a", "b", "c", "d", "a", "z"} // sub/link.yaml -> a.yml
		if !reflect.DeepEqual(names, want) {
			t.Errorf("names = %q, want %q", names, want)
		}
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "broken.yaml: document 0 (line 1): invalid YAML") {
			t.Errorf("errors = %v, want one for broken.yaml", errs)
		}
	})
	t.Run("a file named explicitly is read whatever its extension", func(t *testing.T) {
		docs, errs := Read([]string{filepath.Join(dir, "z", "last.golden"), filepath.Join(dir, "notes.txt")}, nil)
		if len(errs) != 0 || len(docs) != 2 || docs[0].Name != "golden" || docs[1].Name != "txt" {
			t.Errorf("docs %q, errors %v", summaries(docs), errs)
		}
	})
	t.Run("a missing path is an error and the other paths are still read", func(t *testing.T) {
		missing := filepath.Join(dir, "missing.yaml")
		docs, errs := Read([]string{missing, filepath.Join(dir, "a.yml")}, nil)
		if len(docs) != 1 || docs[0].Name != "a" {
			t.Errorf("docs = %q", summaries(docs))
		}
		if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), missing+": ") || !os.IsNotExist(unwrapAll(errs[0])) {
			t.Errorf("errors = %v, want one not-exist error naming %s", errs, missing)
		}
		if e := errs[0].(*Error); e.Source.Index != FileIndex {
			t.Errorf("file error has document index %d", e.Source.Index)
		}
	})
	t.Run("stdin named twice is an error", func(t *testing.T) {
		docs, errs := Read([]string{Stdin, Stdin}, strings.NewReader(obj("in")))
		if len(docs) != 1 || docs[0].Source.File != StdinFile {
			t.Errorf("docs = %+v", docs)
		}
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "more than once") {
			t.Errorf("errors = %v", errs)
		}
	})
	t.Run("stdin without a reader is an error", func(t *testing.T) {
		_, errs := Read([]string{Stdin}, nil)
		if len(errs) != 1 {
			t.Errorf("errors = %v", errs)
		}
	})
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestReadCorpusDirectory reads the shared corpus as a directory: the
// result must be the files with manifest extensions read one by one in
// lexical order, and the .template and .golden files must be left out of
// the walk (they are read only when named).
func TestReadCorpusDirectory(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus not found at %s: %v", dir, err)
		}
		t.Skipf("corpus not found at %s; it lives beside the repository", dir)
	}
	whole, errs := Read([]string{dir}, nil)
	if len(errs) != 0 {
		t.Fatalf("reading the corpus: %v", errs)
	}
	var oneByOne []Document
	skipped := 0
	for _, sub := range []string{"gatekeeper-library", "psp", "workloads"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			path := filepath.Join(dir, sub, e.Name())
			if !hasManifestExtension(path) {
				skipped++
				continue
			}
			docs, errs := Read([]string{path}, nil)
			if len(errs) != 0 {
				t.Fatalf("reading %s: %v", path, errs)
			}
			oneByOne = append(oneByOne, docs...)
		}
	}
	if !reflect.DeepEqual(whole, oneByOne) {
		t.Errorf("directory read differs from the files read one by one (%d vs %d documents)", len(whole), len(oneByOne))
	}
	// INDEX.tsv three times, the library's LICENSE, the kops
	// .yaml.template and the linkerd .golden.
	if skipped != 6 {
		t.Errorf("the walk skipped %d files, want 6", skipped)
	}
}
