package rewrite

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// quickParse reads a document that is written exactly as quickEncode
// writes it in the layout (block mappings and lists of one-line ASCII
// scalars, comments only above the first key) into the node tree
// yaml.v3's parser builds of it, positions included; for any other text it
// reports false and the caller parses with yaml.v3. A document it reads
// is one that re-encodes as it is written: its base encoding is its text.
func quickParse(text string, l layout) (*yaml.Node, bool) {
	if !printableASCII(text, true) || !strings.HasSuffix(text, "\n") {
		return nil, false
	}
	p := quickParser{lines: strings.Split(strings.TrimSuffix(text, "\n"), "\n"), ok: true}
	doc := &yaml.Node{Kind: yaml.DocumentNode}
	var keyComment string
	comments := 0
	for comments < len(p.lines) && strings.HasPrefix(p.lines[comments], "#") {
		comments++
	}
	if comments > 0 {
		comment := strings.Join(p.lines[:comments], "\n")
		p.at = comments
		if p.at < len(p.lines) && p.lines[p.at] == "" {
			doc.HeadComment = comment // set off by an empty line
			p.at++
		} else {
			keyComment = comment
		}
	}
	if p.at >= len(p.lines) || indentOf(p.lines[p.at]) != 0 {
		return nil, false
	}
	root := p.mapping(p.at, 0, keyComment)
	if !p.ok || p.at != len(p.lines) {
		return nil, false
	}
	doc.Content = []*yaml.Node{root}
	doc.Line, doc.Column = root.Line, root.Column
	if encoded, ok := quickEncode(doc, l); !ok || encoded != text {
		return nil, false
	}
	return doc, true
}

// quickParser reads lines from at on; ok turns false at the first thing
// it does not read.
type quickParser struct {
	lines []string
	at    int
	ok    bool
}

// mapping reads a block mapping whose first key starts at column col of
// line first (after a list item's "- " or at its indentation); the keys
// after it start the lines that follow at that column.
func (p *quickParser) mapping(first, col int, headComment string) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Line: first + 1, Column: col + 1}
	line := first
	for p.ok {
		key, value := p.entry(line, col)
		if !p.ok {
			return nil
		}
		if len(m.Content) == 0 {
			key.HeadComment = headComment
		}
		m.Content = append(m.Content, key, value)
		if p.at >= len(p.lines) {
			break
		}
		next := p.lines[p.at]
		if indentOf(next) != col || strings.HasPrefix(next[col:], "-") {
			break
		}
		line = p.at
	}
	return m
}

// entry reads "key: value" or "key:" and the block below it.
func (p *quickParser) entry(line, col int) (*yaml.Node, *yaml.Node) {
	text := p.lines[line][col:]
	key, rest := p.scalar(text, true)
	if key == nil || !strings.HasPrefix(rest, ":") {
		p.ok = false
		return nil, nil
	}
	key.Line, key.Column = line+1, col+1
	rest = rest[1:]
	p.at = line + 1
	if rest == "" {
		return key, p.block(line, col)
	}
	if !strings.HasPrefix(rest, " ") {
		p.ok = false
		return nil, nil
	}
	valueCol := col + len(text) - len(rest) + 1
	return key, p.inline(rest[1:], line, valueCol)
}

// inline reads the value that ends a line: a scalar, {} or [].
func (p *quickParser) inline(text string, line, col int) *yaml.Node {
	var n *yaml.Node
	switch text {
	case "{}":
		n = &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Style: yaml.FlowStyle}
	case "[]":
		n = &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq, Style: yaml.FlowStyle}
	default:
		var rest string
		if n, rest = p.scalar(text, false); n == nil || rest != "" {
			p.ok = false
			return nil
		}
	}
	n.Line, n.Column = line+1, col+1
	return n
}

// block reads the value of "key:" at column col of line: a mapping
// indented below it, or a list below it at its column or indented.
func (p *quickParser) block(line, col int) *yaml.Node {
	if p.at >= len(p.lines) {
		p.ok = false
		return nil
	}
	next := p.lines[p.at]
	indent := indentOf(next)
	switch {
	case strings.HasPrefix(next[indent:], "- ") && indent >= col:
		return p.sequence(p.at, indent)
	case indent > col:
		return p.mapping(p.at, indent, "")
	}
	p.ok = false // "key:" with nothing: a null the quick path leaves alone
	return nil
}

// sequence reads the "- " items at column col from line first on.
func (p *quickParser) sequence(first, col int) *yaml.Node {
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq, Line: first + 1, Column: col + 1}
	for line := first; p.ok && line < len(p.lines); line = p.at {
		text := p.lines[line]
		if indentOf(text) != col || !strings.HasPrefix(text[col:], "- ") {
			break
		}
		item := text[col+2:]
		p.at = line + 1
		var n *yaml.Node
		switch {
		case item == "" || item[0] == ' ' || item[0] == '#' || strings.HasPrefix(item, "- "):
			p.ok = false
		case isEntry(item):
			n = p.mapping(line, col+2, "")
		default:
			n = p.inline(item, line, col+2)
		}
		s.Content = append(s.Content, n)
	}
	if !p.ok {
		return nil
	}
	return s
}

// isEntry tells a list item that is a mapping ("key: value", "key:") from
// one that is a scalar.
func isEntry(text string) bool {
	if text == "{}" || text == "[]" {
		return false
	}
	var probe quickParser
	probe.ok = true
	key, rest := probe.scalar(text, true)
	return key != nil && strings.HasPrefix(rest, ":") && (len(rest) == 1 || rest[1] == ' ')
}

// scalar reads a scalar at the start of text: quoted up to its closing
// quote, plain to the end of the line or, for a key, to ": " (or a final
// ":"). It returns the text after it; nil when it reads none.
func (p *quickParser) scalar(text string, key bool) (*yaml.Node, string) {
	if text == "" {
		return nil, ""
	}
	switch text[0] {
	case '"':
		var b strings.Builder
		for i := 1; i < len(text); i++ {
			switch c := text[i]; c {
			case '"':
				return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: b.String(), Style: yaml.DoubleQuotedStyle}, text[i+1:]
			case '\\':
				if i+1 < len(text) && (text[i+1] == '"' || text[i+1] == '\\') {
					i++
					b.WriteByte(text[i])
					continue
				}
				return nil, "" // other escapes are left to the parser
			default:
				b.WriteByte(c)
			}
		}
		return nil, ""
	case '\'':
		var b strings.Builder
		for i := 1; i < len(text); i++ {
			if text[i] != '\'' {
				b.WriteByte(text[i])
				continue
			}
			if i+1 < len(text) && text[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: b.String(), Style: yaml.SingleQuotedStyle}, text[i+1:]
		}
		return nil, ""
	}
	value, rest := text, ""
	if key {
		if i := strings.Index(text, ": "); i >= 0 {
			value, rest = text[:i], text[i:]
		} else if strings.HasSuffix(text, ":") {
			value, rest = text[:len(text)-1], ":"
		}
	}
	if value == "" || value == "<<" || strings.Contains(value, " #") || strings.Contains(value, ": ") {
		return nil, "" // the parser reads a plain "<<" as a merge key
	}
	if plain, _ := analyzeScalar(value); !plain {
		return nil, ""
	}
	tag, known := resolvedTag(value)
	if !known {
		return nil, ""
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}, rest
}
