package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// yamlChunk is the text of one YAML document of a stream.
type yamlChunk struct {
	index     int
	startLine int // file line of the chunk's first line
	// contentLine is the first line that is not blank, a comment, a
	// directive or a bare "---": where the user sees the document begin.
	// 0 means the document is empty.
	contentLine int
	data        []byte
	// size is the length of the chunk's text, data or not.
	size int
	// start, body and end are byte offsets in the stream: where the
	// chunk starts (a header above its "---" included), where its text
	// starts below its opening "---" line (start when it has none), and
	// where it ends, before the marker line that closes it.
	start, body, end int64
	// bodyLine is the file line at body.
	bodyLine int
	// markerContent is set when content follows the opening "---" on
	// its line ("--- {a: 1}").
	markerContent bool
}

// yamlSplitter cuts a YAML stream into documents line by line, so that a
// large stream is never held in memory as a whole and every document
// knows its lines in the file.
//
// A document starts at a "---" line and ends at the next "---" or at a
// "..." line, as in YAML itself: a "---" preceded only by comments opens
// the first document rather than closing an empty one, so a licence
// header does not shift the document indexes.
type yamlSplitter struct {
	in          *bufio.Reader
	line        int   // lines read so far
	offset      int64 // bytes of those lines
	lineStart   int64 // offset of the line being added
	nextIndex   int
	cur         yamlChunk
	hasMarker   bool // cur began with its own "---"
	lineBuf     []byte
	pending     [][]byte // YAML lines read, added up to nextPending
	nextPending int
	done        bool // the input is exhausted
	// offsetsOnly leaves the chunks' data empty: where the documents lie
	// is all Spans needs.
	offsetsOnly bool
}

func newYAMLSplitter(in *bufio.Reader) *yamlSplitter {
	return &yamlSplitter{in: in, cur: yamlChunk{startLine: 1, bodyLine: 1}}
}

// next returns the next document, or io.EOF after the last one. Each
// chunk owns its data.
func (s *yamlSplitter) next() (yamlChunk, error) {
	for {
		if s.nextPending == len(s.pending) {
			if s.done {
				if s.cur.size > 0 {
					s.lineStart = s.offset
					return s.emit(s.line+1, false), nil
				}
				return yamlChunk{}, io.EOF
			}
			if err := s.readLines(); err != nil {
				return yamlChunk{}, err
			}
			continue
		}
		line := s.pending[s.nextPending]
		s.nextPending++
		s.line++
		s.lineStart = s.offset
		s.offset += int64(len(line))
		if c, ok := s.addLine(line); ok {
			return c, nil
		}
	}
}

// readLines reads the next line of text and queues the YAML lines in it:
// besides LF and CRLF, YAML 1.1 (the parser kubectl uses) also breaks
// lines at a lone CR, NEL, LS and PS, and a "---" after any of them
// starts a document.
func (s *yamlSplitter) readLines() error {
	line, err := s.readLine()
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	s.done = err != nil
	// Every queued line was added: the queue starts over, in its array.
	s.pending, s.nextPending = s.pending[:0], 0
	for len(line) > 0 {
		n := lineLength(line)
		s.pending = append(s.pending, line[:n])
		line = line[n:]
	}
	return nil
}

// lineLength is the length of the first YAML line of b with its break.
func lineLength(b []byte) int {
	for i, c := range b {
		// Every break starts with LF, CR or the first byte of NEL
		// (0xC2) or of LS and PS (0xE2).
		if c != '\n' && c != '\r' && c != 0xc2 && c != 0xe2 {
			continue
		}
		if n := breakLength(b[i:]); n > 0 {
			return i + n
		}
	}
	return len(b)
}

// breakLength is the length of the YAML line break at the start of b, or 0.
func breakLength(b []byte) int {
	switch {
	case len(b) == 0:
		return 0
	case b[0] == '\n':
		return 1
	case b[0] == '\r':
		if len(b) > 1 && b[1] == '\n' {
			return 2
		}
		return 1
	case bytes.HasPrefix(b, []byte("\u0085")):
		return 2
	case bytes.HasPrefix(b, []byte("\u2028")), bytes.HasPrefix(b, []byte("\u2029")):
		return 3
	}
	return 0
}

// readLine returns the next line with its newline, however long. A line
// that fits the read buffer is returned in it, valid until the next read:
// the lines queued from it are added before that.
func (s *yamlSplitter) readLine() ([]byte, error) {
	part, err := s.in.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return part, err
	}
	s.lineBuf = append(s.lineBuf[:0], part...)
	for {
		part, err := s.in.ReadSlice('\n')
		s.lineBuf = append(s.lineBuf, part...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return s.lineBuf, err
		}
	}
}

// addLine adds one line to the current document and returns the finished
// document when the line closes it.
func (s *yamlSplitter) addLine(line []byte) (yamlChunk, bool) {
	switch {
	case isMarker(line, "---"):
		if s.cur.contentLine == 0 && !s.hasMarker {
			// Only comments so far: this marker opens the current document.
			s.hasMarker = true
			s.openWith(line)
			return yamlChunk{}, false
		}
		done := s.emit(s.line, true)
		s.openWith(line)
		return done, true
	case isMarker(line, "..."):
		s.appendLine(line, false)
		if s.cur.contentLine == 0 && !s.hasMarker {
			s.cur.data, s.cur.size = s.cur.data[:0], 0
			s.cur.startLine = s.line + 1
			s.cur.start, s.cur.body, s.cur.bodyLine = s.offset, s.offset, s.line+1
			return yamlChunk{}, false
		}
		done := s.emit(s.line+1, false)
		s.cur.start, s.cur.body, s.cur.bodyLine = s.offset, s.offset, s.line+1
		return done, true
	default:
		s.appendLine(line, false)
		return yamlChunk{}, false
	}
}

// openWith adds the "---" line that opens the current document: its text
// starts below it, unless content follows the marker on the same line.
func (s *yamlSplitter) openWith(line []byte) {
	s.appendLine(line, true)
	s.cur.body, s.cur.bodyLine = s.offset, s.line+1
	if s.cur.contentLine == s.line {
		s.cur.markerContent = true
	}
}

func (s *yamlSplitter) appendLine(line []byte, marker bool) {
	if !s.offsetsOnly {
		s.cur.data = append(s.cur.data, line...)
	}
	s.cur.size += len(line)
	if s.cur.contentLine != 0 {
		return
	}
	text := line
	if marker {
		text = line[3:]
	}
	if hasContent(text, s.hasMarker || marker) {
		s.cur.contentLine = s.line
	}
}

// emit finishes the current document and starts the next one at
// nextStart, which opens with a "---" when marker is set.
func (s *yamlSplitter) emit(nextStart int, marker bool) yamlChunk {
	done := s.cur
	done.index = s.nextIndex
	done.end = s.lineStart
	s.nextIndex++
	// The finished chunk keeps its bytes; the next one starts a new
	// buffer so that callers may keep done.data while reading on.
	s.cur = yamlChunk{startLine: nextStart, start: s.lineStart, body: s.lineStart, bodyLine: nextStart}
	s.hasMarker = marker
	return done
}

// isMarker reports whether line is the document marker m ("---" or "...")
// at column 0, alone or followed by blanks, a comment or content.
func isMarker(line []byte, m string) bool {
	if !bytes.HasPrefix(line, []byte(m)) {
		return false
	}
	rest := line[len(m):]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || breakLength(rest) > 0
}

// hasContent reports whether a line holds YAML content: not blank, not a
// comment, and (before the document's "---") not a directive.
func hasContent(line []byte, afterMarker bool) bool {
	text := bytes.TrimLeft(line, " \t")
	if len(text) == 0 || breakLength(text) == len(text) || text[0] == '#' {
		return false
	}
	if !afterMarker && line[0] == '%' {
		return false
	}
	return true
}

// yamlBatch is how many documents are converted in parallel at a time:
// enough to keep every core busy, few enough to bound memory.
const yamlBatch = 256

// readYAMLStream reads the documents of a YAML stream. Splitting is
// sequential; converting (most of the time goes to the YAML parser) runs
// in parallel over batches of documents, and results are added in stream
// order, so the output does not depend on scheduling.
func (r *reader) readYAMLStream(file string, in *bufio.Reader) {
	split := newYAMLSplitter(in)
	// Most files hold a few documents: the batch grows to yamlBatch only
	// in a long stream.
	var batch []yamlChunk
	for {
		c, err := split.next()
		if err != nil {
			r.convertYAMLBatch(file, batch)
			if !errors.Is(err, io.EOF) {
				r.fail(Source{File: file, Index: split.nextIndex, Line: split.line}, "", "", fmt.Errorf("reading: %w", err))
			}
			return
		}
		if c.contentLine == 0 { // empty or comment-only: skipped, index kept
			continue
		}
		batch = append(batch, c)
		if len(batch) == yamlBatch {
			r.convertYAMLBatch(file, batch)
			batch = batch[:0]
		}
	}
}

func (r *reader) convertYAMLBatch(file string, batch []yamlChunk) {
	results := make([]reader, len(batch))
	r.forEach(len(batch), func(i int) {
		results[i].serial, results[i].each = r.serial, r.each
		results[i].addYAMLChunk(file, batch[i])
		results[i].handOut()
	})
	for _, res := range results {
		r.docs = append(r.docs, res.docs...)
		r.errs = append(r.errs, res.errs...)
	}
	// Every document of a YAML stream comes through here, handed out.
	r.handed = len(r.docs)
}

// addYAMLChunk converts one non-empty document.
func (r *reader) addYAMLChunk(file string, c yamlChunk) {
	src := Source{File: file, Index: c.index, Line: c.contentLine}
	if splitListItems && r.readYAMLList(src, c) {
		return
	}
	js, err := yamlToJSON(c.data)
	if err != nil {
		r.fail(src, "", "", yamlError(err, c.startLine))
		return
	}
	if r.addPlainObject(src, js) {
		return
	}
	obj, err := readTopLevel(newJSONDecoder(bytes.NewReader(js)), nil)
	if err != nil {
		r.failField(src, err)
		return
	}
	if obj == nil { // a null document is empty
		return
	}
	var itemLines []int
	if obj.isList() {
		itemLines = yamlItemLines(c.data, c.startLine, len(obj.items))
	}
	r.addObject(src, obj, js, itemLines)
}

// yamlToJSON converts like kubectl does (sigs.k8s.io/yaml), refusing
// duplicate keys as the apiserver's strict field validation does, and
// turns a parser panic into an error: malformed input must never crash
// the tool. An ordinary document takes the short way to the same JSON.
func yamlToJSON(data []byte) (js []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("YAML parser failed: %v", p)
		}
	}()
	if js, ok := ordinaryYAMLToJSON(data); ok {
		return js, nil
	}
	return yaml.YAMLToJSONStrict(data)
}

var yamlErrorLine = regexp.MustCompile(`line (\d+)`)

// yamlSyntaxError rewrites the parser's line numbers, which count from the
// start of the document, into lines of the file.
func yamlSyntaxError(err error, startLine int) *SyntaxError {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	se := &SyntaxError{Format: "YAML"}
	msg = yamlErrorLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, convErr := strconv.Atoi(strings.TrimPrefix(m, "line "))
		if convErr != nil {
			return m
		}
		fileLine := startLine + n - 1
		if se.Line == 0 {
			se.Line = fileLine
		}
		return "line " + strconv.Itoa(fileLine)
	})
	// The first line number moves into Line; the message keeps the rest.
	if se.Line > 0 {
		msg = strings.TrimPrefix(msg, "line "+strconv.Itoa(se.Line)+": ")
	}
	se.Msg = msg
	return se
}

// yamlItemLines finds the file lines where the n items of a List start,
// as kubectl prints them: a top-level "items:" key followed by a block
// sequence. It returns nil when the layout is anything else, and callers
// then use the document's line.
func yamlItemLines(data []byte, startLine, n int) []int {
	if !plainYAMLText(data) { // lines here would not be the parser's lines
		return nil
	}
	var starts []int
	inItems := false
	indent := -1
	for lineNo := startLine; len(data) > 0; lineNo++ {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i+1], data[i+1:]
		} else {
			l, data = data, nil
		}
		if !inItems {
			inItems = isItemsKey(l)
			continue
		}
		trimmed := bytes.TrimLeft(l, " ")
		if text := trimYAMLSpace(trimmed); len(text) == 0 || text[0] == '#' {
			continue
		}
		col := len(l) - len(trimmed)
		if indent < 0 {
			indent = col
		}
		if col < indent || (col == indent && !isSequenceEntry(trimmed)) {
			break
		}
		if col == indent {
			starts = append(starts, lineNo)
		}
	}
	if len(starts) != n {
		return nil
	}
	return starts
}

// isItemsKey reports whether line is "items:" at column 0 with nothing
// after it but blanks or a comment (which needs a blank before its "#").
func isItemsKey(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("items:"))
	if !ok {
		return false
	}
	if len(rest) > 0 && !bytes.ContainsRune([]byte(" \t\r\n"), rune(rest[0])) {
		return false
	}
	rest = trimYAMLSpace(rest)
	return len(rest) == 0 || rest[0] == '#'
}

func isSequenceEntry(trimmed []byte) bool {
	return len(trimmed) > 0 && trimmed[0] == '-' &&
		(len(trimmed) == 1 || trimmed[1] == ' ' || trimmed[1] == '\n' || trimmed[1] == '\r' || trimmed[1] == '\t')
}
