package manifest

import (
	"bytes"
	"regexp"
	"slices"
	"unicode/utf8"
)

// splitListItems turns on the List fast path; tests switch it off to
// compare both paths.
var splitListItems = true

// yamlListItem is the YAML text of one item of a List, dedented to stand
// alone as a document, and the file line where the item starts.
type yamlListItem struct {
	line int
	data []byte
}

// readYAMLList converts a List document item by item: a kubectl get -o
// yaml dump of 100,000 objects is one YAML document, and parsing it whole
// holds the parser's tree of all of it at once (gigabytes) on one core.
// Each item of a top-level block sequence "items:" is cut out, dedented
// and converted on its own, in parallel; the rest of the document (the
// envelope, with "items: []") is converted separately.
//
// It reports false when the text is laid out otherwise, or when anything
// fails to convert: the caller then converts the document whole, which
// gives the same result as far as this path goes and the parser's own
// errors and line numbers when something is wrong.
func (r *reader) readYAMLList(src Source, c yamlChunk) bool {
	envelope, items, ok := splitYAMLList(c.data, c.startLine)
	if !ok {
		return false
	}
	js, err := yamlToJSON(envelope)
	if err != nil {
		return false
	}
	obj, err := readTopLevel(newJSONDecoder(bytes.NewReader(js)), nil)
	if err != nil || obj == nil || !obj.isList() || obj.itemsType != "" || len(obj.items) != 0 {
		return false
	}
	// Items are converted and handed out a batch at a time, so that the
	// JSON of a large List is never all held at once; should one not
	// convert after all, what the List gave is taken back.
	first, firstErr, handed := len(r.docs), len(r.errs), r.handed
	for start := 0; start < len(items); start += listBatch {
		end := min(start+listBatch, len(items))
		converted := make([][]byte, end-start)
		failed := make([]bool, end-start)
		r.forEach(end-start, func(i int) {
			var convErr error
			converted[i], convErr = yamlToJSON(items[start+i].data)
			failed[i] = convErr != nil
		})
		if slices.Contains(failed, true) {
			r.docs, r.errs, r.handed = r.docs[:first], r.errs[:firstErr], handed
			return false
		}
		from := len(r.docs)
		for i, item := range converted {
			itemSrc := src
			index := start + i
			itemSrc.Item, itemSrc.Line = &index, items[index].line
			r.addItem(itemSrc, item)
			items[index].data = nil
		}
		obj.annotateItems(r.docs[from:])
		r.handOut()
	}
	return true
}

// listBatch is how many items of a List are converted at a time.
const listBatch = 1024

// splitYAMLList cuts a document whose top-level key "items:" (once, at
// column 0) is followed by a block sequence into the envelope, where the
// sequence is replaced by "[]" (and blank lines keep the rest in place),
// and the items. Every line of an item must be indented past the dash,
// or be blank or a comment, so that removing that indentation leaves the
// item's own YAML. Comments further left move to column 0.
func splitYAMLList(data []byte, startLine int) (envelope []byte, items []yamlListItem, ok bool) {
	if !bytes.HasPrefix(data, []byte("items:")) && !bytes.Contains(data, []byte("\nitems:")) {
		return nil, nil, false
	}
	if !plainYAMLText(data) {
		return nil, nil, false
	}
	lines := splitLines(data)
	at := -1
	for i, l := range lines {
		if isItemsKey(l) {
			if at >= 0 {
				return nil, nil, false // a repeated key: leave it to the parser
			}
			at = i
		}
	}
	if at < 0 {
		return nil, nil, false
	}
	end, indent := at+1, -1
	for ; end < len(lines); end++ {
		l := lines[end]
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
	}
	items = listItems(lines[at+1:end], startLine+at+1, indent)
	if items == nil {
		return nil, nil, false
	}
	var env bytes.Buffer
	for _, l := range lines[:at] {
		env.Write(l)
	}
	env.WriteString("items: []\n")
	for i := at + 1; i < end; i++ {
		env.WriteString("\n") // keep the envelope's later lines where they were
	}
	for _, l := range lines[end:] {
		env.Write(l)
	}
	return env.Bytes(), items, true
}

// listItems splits the sequence's lines into items, each with every one
// of its lines (blank and comment lines blanked, to keep line numbers)
// dedented by indent+2. It returns nil when a line is not indented enough.
func listItems(region [][]byte, firstLine, indent int) []yamlListItem {
	var items []yamlListItem
	cut := indent + 2
	for i, l := range region {
		// A tab in the indentation, even of a blank line, is an error or
		// not depending on what follows: leave those to the whole parse.
		if bytes.IndexByte(l[:len(l)-len(bytes.TrimLeft(l, " \t"))], '\t') >= 0 {
			return nil
		}
		trimmed := bytes.TrimLeft(l, " ")
		text := trimYAMLSpace(trimmed)
		col := len(l) - len(trimmed)
		switch {
		case len(text) > 0 && text[0] != '#' && col == indent:
			// Only items that open with a plain mapping key, as kubectl
			// prints them: a tag, anchor or scalar on the item itself
			// could mean something else out of the sequence.
			if !plainKeyItem.Match(trimmed) {
				return nil
			}
			// "- x" becomes "  x": the item's content keeps its column.
			items = append(items, yamlListItem{line: firstLine + i})
			l = append(bytes.Repeat([]byte(" "), indent+1), trimmed[1:]...)
		case len(text) > 0 && text[0] == '#' && col < cut:
			// A comment left of the item's content moves to column 0,
			// which is just as far left of everything in the item.
			l = trimmed
		}
		if len(items) == 0 {
			continue // blank or comment lines before the first item
		}
		d, ok := dedentStrict(l, cut)
		if !ok {
			return nil
		}
		cur := &items[len(items)-1]
		cur.data = append(cur.data, d...)
	}
	return items
}

// plainKeyItem is a sequence entry whose content starts with a plain
// mapping key: "- apiVersion: v1".
var plainKeyItem = regexp.MustCompile(`^- [A-Za-z0-9_][-A-Za-z0-9_./]*:(\s|$)`)

// dedentStrict removes cut leading spaces, and fails when the line has
// fewer (a blank line passes as it is) or when what is left would mean
// something else at column 0 of a document: a marker or a directive.
func dedentStrict(l []byte, cut int) ([]byte, bool) {
	if len(l) > 0 && l[0] == '#' { // a comment already moved to column 0
		return l, true
	}
	indented := len(l) >= cut && len(bytes.TrimLeft(l[:cut], " ")) == 0
	if len(trimYAMLSpace(l)) == 0 {
		// Blank lines keep their blanks beyond the item's column: in a
		// block scalar they are content when indented past its text.
		if indented {
			return l[cut:], true
		}
		return bytes.TrimLeft(l, " "), true
	}
	if !indented {
		return nil, false
	}
	d := l[cut:]
	if isMarker(d, "---") || isMarker(d, "...") || d[0] == '%' {
		return nil, false
	}
	return d, true
}

// plainYAMLText reports whether data is valid UTF-8 without the
// characters that make YAML lines differ from text lines (a lone CR, NEL,
// LS and PS are line breaks to the parser), control characters the parser rejects
// anywhere, or a byte order mark: for anything else, cutting the text
// into lines here sees the lines the parser sees.
func plainYAMLText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for i, b := range data {
		if b == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			return false // a lone CR breaks a YAML line
		}
	}
	for _, r := range string(data) {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff:
			return false
		case r >= 0x80 && r < 0xa0:
			return false
		}
	}
	return true
}

// trimYAMLSpace trims YAML's white space only: unicode spaces such as
// U+00A0 are content to the parser.
func trimYAMLSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// splitLines splits after each newline, keeping it.
func splitLines(data []byte) [][]byte {
	return bytes.SplitAfter(data, []byte("\n"))
}
