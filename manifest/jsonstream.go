package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// readJSONStream reads one or more concatenated JSON values, each a
// document. A syntax error ends the file: after it there is no reliable
// place to resume.
func (r *reader) readJSONStream(file string, in io.Reader) {
	lines := &lineCounter{in: in}
	dec := newJSONDecoder(lines)
	for index := 0; ; index++ {
		// More skips the blanks before the next value, so that the input
		// offset is where the value starts.
		_ = dec.More()
		start := dec.InputOffset()
		lines.forgetBefore(start)
		src := Source{File: file, Index: index, Line: lines.lineAt(start)}
		var itemLines []int
		obj, err := readTopLevel(dec, func(offset int64) {
			itemLines = append(itemLines, lines.lineAt(offset))
			lines.forgetBefore(offset)
		})
		switch {
		case errors.Is(err, io.EOF):
			return
		case err == nil && obj == nil: // null
		case err == nil:
			if dup := obj.duplicateKeys(); dup != nil {
				r.fail(src, obj.document(src, nil).Object(), "", dup)
				continue
			}
			r.addObject(src, obj, nil, itemLines)
		case isSyntaxError(err):
			r.fail(Source{File: file, Index: index}, "", "", jsonSyntaxError(err, lines, dec.InputOffset()))
			return
		default:
			r.failField(src, err)
		}
	}
}

func isSyntaxError(err error) bool {
	var syn *json.SyntaxError
	return errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF)
}

// jsonSyntaxError places a decoder error on its line of the file.
func jsonSyntaxError(err error, lines *lineCounter, offset int64) *SyntaxError {
	var syn *json.SyntaxError
	var positioned *offsetError
	switch {
	case errors.As(err, &positioned):
		offset = positioned.offset
	case errors.As(err, &syn):
		offset = syn.Offset
	}
	msg := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		msg, offset = "unexpected end of input", lines.read
	}
	return &SyntaxError{Format: "JSON", Line: lines.lineAt(offset), Msg: msg}
}

// lineCounter passes a stream through and remembers where its newlines
// are, so that byte offsets reported by the JSON decoder can be turned
// into line numbers. Offsets before the last forgetBefore are no longer
// needed, which keeps the memory to the decoder's read-ahead.
type lineCounter struct {
	in       io.Reader
	read     int64   // bytes read so far
	newlines []int64 // offsets of newlines not yet forgotten, ascending
	before   int     // newlines forgotten
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.in.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			break
		}
		c.newlines = append(c.newlines, c.read+int64(i+j))
		i += j + 1
	}
	c.read += int64(n)
	return n, err
}

// lineAt is the 1-based line of the byte at offset.
func (c *lineCounter) lineAt(offset int64) int {
	k := sort.Search(len(c.newlines), func(i int) bool { return c.newlines[i] >= offset })
	return c.before + k + 1
}

func (c *lineCounter) forgetBefore(offset int64) {
	k := sort.Search(len(c.newlines), func(i int) bool { return c.newlines[i] >= offset })
	c.before += k
	c.newlines = c.newlines[k:]
}

// describeJSON names the type of a JSON value for messages.
func describeJSON(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return fmt.Sprintf("a number (%s)", raw)
	}
}
