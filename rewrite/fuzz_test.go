package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
)

// FuzzFileEditsOnlyItsDocument edits one object of arbitrary input as
// --in-place does (by the Source Read gave it, naming the object): the
// edit either is refused, or changes that document alone, reads back with
// the edit applied, and applying it again changes nothing.
func FuzzFileEditsOnlyItsDocument(f *testing.F) {
	for _, s := range []string{
		"kind: A\nmetadata:\n  name: a\n---\nkind: B\nmetadata:\n  name: b\n",
		"kind: A\nmetadata: {name: a}\n# c\u0085---\nkind: B\nmetadata: {name: b}\n",
		"kind: A\r---\rkind: B\n",
		"apiVersion: v1\nkind: List\nitems:\n- kind: A\n  metadata: {name: a}\n- kind: B\n",
		"{\"kind\": \"A\"}\n{\"kind\": \"B\", \"metadata\": {\"labels\": {\"x\": \"y\"}}}\n",
	} {
		f.Add([]byte(s), uint8(1))
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "workloads", "*.yaml"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data, uint8(0))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, pick uint8) {
		docs, _ := manifest.Read([]string{manifest.Stdin}, bytes.NewReader(data))
		if len(docs) == 0 {
			return
		}
		d := docs[int(pick)%len(docs)]
		edit := Edit{
			Document: d.Source.Index, Item: d.Source.Item,
			Object: Object{Kind: d.Kind, Namespace: d.Namespace, Name: d.Name},
			Sets:   []Set{{Path: []string{"metadata", "labels", "fuzz.example/edited"}, Value: "yes"}},
		}
		out, err := File(data, []Edit{edit})
		if err != nil {
			return // refused, with nothing written
		}
		assertOnlyDocumentChanged(t, data, out, d.Source.Index)
		again, err := File(out, []Edit{edit})
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("a second run changes the file (err %v):\n%q\n->\n%q", err, out, again)
		}
		assertEditRead(t, out, d)
	})
}

// assertOnlyDocumentChanged checks that outside the edited document's text
// the file is byte for byte what it was.
func assertOnlyDocumentChanged(t *testing.T, in, out []byte, index int) {
	t.Helper()
	before, err1 := manifest.Spans(in)
	after, err2 := manifest.Spans(out)
	if err1 != nil || err2 != nil || len(before) != len(after) {
		t.Fatalf("the edit changed the documents: %d -> %d (%v, %v)\n%q\n->\n%q", len(before), len(after), err1, err2, in, out)
	}
	b, a := before[index], after[index]
	if !bytes.Equal(in[:b.Start], out[:a.Start]) || !bytes.Equal(in[b.End:], out[a.End:]) {
		t.Fatalf("the edit of document %d changed text outside it:\n%q\n->\n%q", index, in, out)
	}
}

// assertEditRead checks that the edited object reads back, as the same
// object at the same place, with the label set.
func assertEditRead(t *testing.T, out []byte, want manifest.Document) {
	t.Helper()
	docs, errs := manifest.Read([]string{manifest.Stdin}, bytes.NewReader(out))
	for _, d := range docs {
		if d.Source.Index != want.Source.Index || !sameItem(d.Source.Item, want.Source.Item) {
			continue
		}
		if d.Kind != want.Kind || d.Name != want.Name || d.Namespace != want.Namespace {
			t.Fatalf("document %d now holds %s, not %s", want.Source.Index, d.Object(), want.Object())
		}
		if !bytes.Contains(d.Raw, []byte(`"fuzz.example/edited":"yes"`)) {
			t.Fatalf("%s reads back without the edit: %s", d.Object(), d.Raw)
		}
		return
	}
	t.Fatalf("%v: the edited object does not read back (%v)\n%q", want.Source, errs, out)
}

func sameItem(a, b *int) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
