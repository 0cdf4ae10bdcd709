package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestReadWithHandsOutEachDocumentOnce reads files, a directory, a List
// and standard input, and counts the calls of Each per document.
func TestReadWithHandsOutEachDocumentOnce(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var list strings.Builder
	list.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	for i := range 2500 { // more than a batch
		list.WriteString("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c" + strings.Repeat("x", i%7) + "\n")
	}
	write("sub/a.yaml", "kind: A\n---\nkind: B\n")
	write("sub/b.json", `{"kind": "C"} {"kind": "D"}`)
	list1 := write("list.yaml", list.String())
	single := write("single.yaml", "kind: E\n")
	var mu sync.Mutex
	seen := 0
	docs, errs := ReadWith([]string{filepath.Join(dir, "sub"), list1, Stdin, single}, strings.NewReader("kind: F\n---\nkind: G\n"),
		ReadOptions{Each: func(d *Document) {
			mu.Lock()
			defer mu.Unlock()
			seen++
			d.Decoded = seen
		}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for i := range docs {
		if docs[i].Decoded == nil {
			t.Errorf("document %d (%s) was not handed out", i, docs[i].Object())
		}
	}
	if want := 4 + 2500 + 2 + 1; len(docs) != want || seen != want {
		t.Errorf("read %d documents, Each called %d times, want %d", len(docs), seen, want)
	}
}
