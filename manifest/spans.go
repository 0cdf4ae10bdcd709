package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Span is where one document of a file lies, numbered exactly as Read
// numbers documents (Source.Index): the same splitter cuts both, so an
// edit addressed by a Source lands on the document that was read there.
type Span struct {
	Index int
	// Start and End are the byte offsets of the document's text: for YAML
	// the lines below its opening "---" line (the whole chunk when it has
	// none) up to the marker line that closes it; marker lines and a
	// header above the first "---" are not part of it. For JSON, the
	// value itself.
	Start, End int
	// Line is Source.Line: the line where the document's content starts;
	// for an empty document, where its text starts.
	Line int
	// MarkerContent is set when content follows the opening "---" on its
	// line ("--- {a: 1}").
	MarkerContent bool
	// Empty is set for a document with no content (blank, comments only).
	Empty bool
	// JSON is set for the values of a JSON stream.
	JSON bool
}

var utf8BOM = []byte("\xef\xbb\xbf")

// Spans cuts a manifest file into documents as Read does: a file whose
// first non-blank character is '{' is a JSON stream, each value a
// document; anything else is YAML, cut at "---" and "..." lines after any
// YAML line break (LF, CRLF, lone CR, NEL, LS, PS).
func Spans(data []byte) ([]Span, error) {
	bom := 0
	if bytes.HasPrefix(data, utf8BOM) {
		bom = len(utf8BOM)
	}
	br := bufio.NewReaderSize(bytes.NewReader(data[bom:]), bufferFor(int64(len(data)-bom)))
	if startsWithJSONObject(br) {
		return jsonSpans(data, bom)
	}
	return yamlSpans(br, bom)
}

func yamlSpans(br *bufio.Reader, offset int) ([]Span, error) {
	split := newYAMLSplitter(br)
	split.offsetsOnly = true
	var spans []Span
	for {
		c, err := split.next()
		if errors.Is(err, io.EOF) {
			return spans, nil
		}
		if err != nil {
			return nil, err
		}
		line := c.contentLine
		if line == 0 {
			line = c.bodyLine
		}
		spans = append(spans, Span{
			Index: c.index, Start: offset + int(c.body), End: offset + int(c.end),
			Line: line, MarkerContent: c.markerContent, Empty: c.contentLine == 0,
		})
	}
}

// jsonSpans finds the span of each concatenated JSON value.
func jsonSpans(data []byte, offset int) ([]Span, error) {
	dec := json.NewDecoder(bytes.NewReader(data[offset:]))
	var spans []Span
	for {
		_ = dec.More() // skips the blanks before the next value
		start := offset + int(dec.InputOffset())
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return spans, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d (line %d): invalid JSON: %w", len(spans), lineAt(data, start), err)
		}
		end := offset + int(dec.InputOffset())
		spans = append(spans, Span{Index: len(spans), Start: start, End: end, Line: lineAt(data, start), Empty: string(raw) == "null", JSON: true})
	}
}

func lineAt(data []byte, offset int) int {
	return bytes.Count(data[:offset], []byte("\n")) + 1
}
