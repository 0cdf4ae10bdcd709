package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Span is one document of a manifest file.
//
// Documents are numbered as package manifest numbers them (Source.Index),
// so that an index read there addresses the same text here:
//
//   - A file whose first non-blank character is '{' is a JSON stream: each
//     concatenated JSON value is a document, from 0.
//   - Otherwise it is YAML. A document starts at a "---" line and ends at
//     the next "---" line or at a "..." line. A "---" preceded only by
//     blank lines, comments and directives opens the current document
//     instead of closing an empty one, so a licence header above the first
//     "---" does not shift the indexes. Empty and comment-only documents
//     between separators keep their index. A marker is "---" or "..." at
//     column 0, alone or followed by a blank.
type Span struct {
	Index int
	// Start and End are the byte offsets of the document's text: for YAML
	// the lines after its opening "---" line (the whole chunk when it has
	// none) up to its closing marker line; the marker lines and any
	// header above the opening "---" are not part of it and are never
	// rewritten. For JSON, the value itself.
	Start, End int
	// Line is the 1-based line where the document's content starts (the
	// first line that is not blank, a comment or a marker), as
	// manifest.Source.Line; for an empty document, where its text starts.
	Line int
	// markerContent is set when content follows the opening "---" on its
	// line ("--- {a: 1}"); such a document is read but not rewritten.
	markerContent bool
}

// Documents cuts a manifest file into documents by the rule of Span.
func Documents(data []byte) ([]Span, error) {
	if isJSONStream(data) {
		return jsonDocuments(data)
	}
	return yamlDocuments(data), nil
}

var bom = []byte("\xef\xbb\xbf")

// isJSONStream decides the format as manifest and kubectl do.
func isJSONStream(data []byte) bool {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, bom), " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// jsonDocuments finds the span of each concatenated JSON value.
func jsonDocuments(data []byte) ([]Span, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var spans []Span
	for {
		_ = dec.More() // skips the blanks before the next value
		start := int(dec.InputOffset())
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return spans, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d (line %d): invalid JSON: %w", len(spans), lineAt(data, start), err)
		}
		spans = append(spans, Span{Index: len(spans), Start: start, End: int(dec.InputOffset()), Line: lineAt(data, start)})
	}
}

func lineAt(data []byte, offset int) int {
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// yamlSplitter holds the document being cut while yamlDocuments walks
// the lines.
type yamlSplitter struct {
	spans      []Span
	cur        Span
	chunkStart int  // first byte of the current chunk, header included
	hasMarker  bool // the current document opened with its own "---"
	hasContent bool
}

func yamlDocuments(data []byte) []Span {
	s := &yamlSplitter{cur: Span{Line: 1}}
	if bytes.HasPrefix(data, bom) {
		s.cur.Start, s.chunkStart = len(bom), len(bom)
	}
	line := 1
	for off := s.cur.Start; off < len(data); line++ {
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		s.addLine(data[off:next], off, next, line)
		off = next
	}
	if len(data) > s.chunkStart {
		s.emit(len(data))
	}
	return s.spans
}

func (s *yamlSplitter) addLine(text []byte, off, next, line int) {
	switch {
	case isMarker(text, "---"):
		if s.hasContent || s.hasMarker {
			s.emit(off)
			s.chunkStart = off
		}
		// This marker opens the current document: its text starts below.
		s.hasMarker = true
		s.cur.Start, s.cur.Line = next, line+1
		if hasContent(text[3:], true) {
			s.cur.markerContent, s.hasContent, s.cur.Line = true, true, line
		}
	case isMarker(text, "..."):
		if s.hasContent || s.hasMarker {
			s.emit(off)
		}
		// Without content or marker the text so far was nothing: dropped.
		s.chunkStart, s.hasMarker = next, false
		s.cur = Span{Start: next, Line: line + 1}
	default:
		if !s.hasContent && hasContent(text, s.hasMarker) {
			s.hasContent, s.cur.Line = true, line
		}
	}
}

// emit ends the current document at end and starts the next one empty.
func (s *yamlSplitter) emit(end int) {
	s.cur.Index, s.cur.End = len(s.spans), end
	s.spans = append(s.spans, s.cur)
	s.cur = Span{Start: end}
	s.hasMarker, s.hasContent = false, false
}

// isMarker reports whether line is the marker m ("---" or "...") at
// column 0, alone or followed by a blank, a comment or content.
func isMarker(line []byte, m string) bool {
	if !bytes.HasPrefix(line, []byte(m)) {
		return false
	}
	if len(line) == len(m) {
		return true
	}
	switch line[len(m)] {
	case ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// hasContent reports whether a line holds YAML content: not blank, not a
// comment, and before the document's "---" not a directive.
func hasContent(line []byte, afterMarker bool) bool {
	text := bytes.TrimLeft(line, " \t\r\n")
	if len(text) == 0 || text[0] == '#' {
		return false
	}
	return afterMarker || line[0] != '%'
}
