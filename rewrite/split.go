package rewrite

import (
	"bytes"
	"fmt"
)

// Span is one document of a YAML file: the bytes between two separator
// lines.
//
// The numbering rule: document 0 is everything before the first `---`
// line, and every `---` line starts the next document. Empty and
// comment-only documents keep their index, so a file that begins with `---`
// has an empty document 0 and its first object in document 1, and `---`
// followed directly by another `---` makes an empty document between them.
// A separator line is `---` at the start of a line, alone or followed by
// blanks and an optional `#` comment; the separator line belongs to neither
// document and is never rewritten.
type Span struct {
	Index int
	// Start and End are byte offsets of the document's text in the file,
	// the separator lines excluded.
	Start, End int
	// Line is the 1-based line of the document's first line.
	Line int
}

// Split cuts a YAML file into documents by the numbering rule of Span.
// It fails on a separator line followed by content (`--- foo`), which
// Kubernetes' own reader rejects too.
func Split(data []byte) ([]Span, error) {
	var spans []Span
	start, startLine, line := 0, 1, 1
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		isSep, err := separatorLine(data[off:next])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if isSep {
			spans = append(spans, Span{Index: len(spans), Start: start, End: off, Line: startLine})
			start, startLine = next, line+1
		}
		off = next
	}
	return append(spans, Span{Index: len(spans), Start: start, End: len(data), Line: startLine}), nil
}

// separatorLine tells whether line (with its line ending) is a document
// separator.
func separatorLine(line []byte) (bool, error) {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false, nil
	}
	rest = bytes.TrimRight(rest, "\r\n")
	if len(rest) == 0 {
		return true, nil
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return false, nil // a plain scalar such as "---foo", not a marker
	}
	if trimmed := bytes.TrimLeft(rest, " \t"); len(trimmed) > 0 && trimmed[0] != '#' {
		return false, fmt.Errorf("content after document separator %q is not supported", bytes.TrimRight(line, "\r\n"))
	}
	return true, nil
}
