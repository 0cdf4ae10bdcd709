package manifest

import (
	"bytes"
	"path/filepath"
	"testing"
)

// FuzzSpansNumberAsRead: whatever the bytes, every object Read finds lies
// in the span of its Source.Index, and a document Read finds at a line
// starts there in Spans too, so an edit addressed by a Source can only
// land on the document that was read there.
func FuzzSpansNumberAsRead(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("kind: A\n# c\u0085---\nkind: B\n"))
	f.Add([]byte("kind: A\r---\rkind: B\u2028---\u2029kind: C\n"))
	addCorpusSeeds(f, filepath.Join("..", "..", "shared", "corpus", "workloads"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _ := Read([]string{Stdin}, bytes.NewReader(data))
		spans, err := Spans(data)
		if err != nil {
			// Only a JSON stream can fail to split; Read then reports it.
			return
		}
		for i, s := range spans {
			if s.Index != i || s.Start < 0 || s.Start > s.End || s.End > len(data) || (i > 0 && s.Start < spans[i-1].End) {
				t.Fatalf("span %d is out of order or bounds: %+v (file of %d bytes)", i, s, len(data))
			}
		}
		for _, d := range docs {
			if d.Source.Index >= len(spans) {
				t.Fatalf("%v: Read found a document Spans does not have (%d spans)", d.Source, len(spans))
			}
			s := spans[d.Source.Index]
			if s.Empty {
				t.Errorf("%v: Read found an object in a document Spans calls empty", d.Source)
			}
			if d.Source.Item == nil && d.Source.Line != s.Line {
				t.Errorf("%v: Read says line %d, Spans says %d", d.Source, d.Source.Line, s.Line)
			}
		}
	})
}
