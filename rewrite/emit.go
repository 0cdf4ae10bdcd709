package rewrite

import (
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Re-encoding a document through yaml.v3's emitter costs more than parsing
// it (the emitter queues every event of the document), and an edit needs
// two encodings. Most manifests are made of block mappings and lists of
// one-line scalars, for which quickEncode writes the very bytes the
// emitter writes, following its rules (yaml.v3 emitterc.go and encode.go:
// indentation, list styles, scalar styles and implicit tags, head
// comments); for anything else (flow collections that are not empty,
// multi-line or non-ASCII scalars, anchors, explicit tags, line and foot
// comments) it declines, and encode uses the emitter. Tests compare the two
// on every manifest at hand and on generated documents.

// quickEncode writes a document as encode does with the layout, or
// reports false when the document holds what it does not handle.
func quickEncode(doc *yaml.Node, l layout) (string, bool) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.LineComment != "" || doc.FootComment != "" {
		return "", false
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode || root.Style&(yaml.FlowStyle|yaml.TaggedStyle) != 0 || (root.Tag != "" && root.Tag != yaml.NodeTagMap) ||
		root.Anchor != "" || root.HeadComment != "" || root.LineComment != "" || root.FootComment != "" || len(root.Content) == 0 {
		return "", false
	}
	e := quickEmitter{
		buf:        make([]byte, 0, 4096),
		indent:     -1,
		whitespace: true,
		indention:  true,
		bestIndent: l.indent,
		compact:    !l.wide,
		ok:         true,
	}
	if e.bestIndent < 2 || e.bestIndent > 9 {
		e.bestIndent = 2
	}
	if doc.HeadComment != "" {
		// The document's head comment, then an empty line
		// (yaml_emitter_emit_document_start).
		if !e.headComment(doc.HeadComment) {
			return "", false
		}
		e.putBreak()
	}
	e.blockMapping(root, parentRoot)
	if !e.ok {
		return "", false
	}
	e.writeIndent() // yaml_emitter_emit_document_end
	return string(e.buf), e.ok
}

// parent is the emitter state a node is written from: what
// yaml_emitter_increase_indent finds on top of the state stack.
type parent int

const (
	parentRoot parent = iota
	parentMappingValue
	parentSequenceItem
)

// quickEmitter is the part of yaml_emitter_t that block output uses.
type quickEmitter struct {
	buf        []byte
	indent     int
	column     int
	whitespace bool
	indention  bool
	bestIndent int
	compact    bool
	ok         bool
}

func (e *quickEmitter) put(c byte) {
	e.buf = append(e.buf, c)
	e.column++
}

func (e *quickEmitter) putBreak() {
	e.buf = append(e.buf, '\n')
	e.column = 0
	e.indention = true
}

func (e *quickEmitter) writeString(s string) {
	e.buf = append(e.buf, s...)
	e.column += len(s) // ASCII only
}

// writeIndent is yaml_emitter_write_indent (no foot comments here).
func (e *quickEmitter) writeIndent() {
	indent := max(e.indent, 0)
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.putBreak()
	}
	for e.column < indent {
		e.put(' ')
	}
	e.whitespace = true
}

// writeIndicator is yaml_emitter_write_indicator.
func (e *quickEmitter) writeIndicator(indicator string, needWhitespace, isWhitespace, isIndention bool) {
	if needWhitespace && !e.whitespace {
		e.put(' ')
	}
	e.writeString(indicator)
	e.whitespace = isWhitespace
	e.indention = e.indention && isIndention
}

// increaseIndent is yaml_emitter_increase_indent_compact for block
// collections; it returns the indentation to restore.
func (e *quickEmitter) increaseIndent(from parent, compactSeq bool) int {
	saved := e.indent
	switch {
	case e.indent < 0:
		e.indent = 0
	case from == parentSequenceItem:
		e.indent += 2 // the first indent inside a sequence skips the "- "
	default:
		e.indent = e.bestIndent * ((e.indent + e.bestIndent) / e.bestIndent)
		if compactSeq {
			e.indent -= 2
		}
	}
	return saved
}

// headComment is yaml_emitter_process_head_comment followed by
// yaml_emitter_write_comment, for comments of printable ASCII lines.
func (e *quickEmitter) headComment(comment string) bool {
	if !printableASCII(comment, true) {
		return false
	}
	e.writeIndent()
	breaks, pound := false, false
	for i := 0; i < len(comment); i++ {
		c := comment[i]
		if c == '\n' {
			e.putBreak()
			breaks, pound = true, false
			continue
		}
		if breaks {
			e.writeIndent()
		}
		if !pound {
			if c != '#' {
				e.put('#')
				e.put(' ')
			}
			pound = true
		}
		e.put(c)
		e.indention = false
		breaks = false
	}
	if !breaks {
		e.putBreak()
	}
	e.whitespace = true
	return true
}

// node writes a mapping value or sequence item.
func (e *quickEmitter) node(n *yaml.Node, from parent, mappingContext bool) {
	if n.Anchor != "" || n.HeadComment != "" || n.LineComment != "" || n.FootComment != "" || n.Style&yaml.TaggedStyle != 0 {
		e.ok = false
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		e.scalar(n, false)
	case yaml.MappingNode:
		if n.Tag != "" && n.Tag != yaml.NodeTagMap {
			e.ok = false
			return
		}
		if len(n.Content) == 0 {
			e.writeIndicator("{", true, true, false)
			e.writeIndicator("}", false, false, false)
			return
		}
		if n.Style&yaml.FlowStyle != 0 {
			e.ok = false
			return
		}
		e.blockMapping(n, from)
	case yaml.SequenceNode:
		if n.Tag != "" && n.Tag != yaml.NodeTagSeq {
			e.ok = false
			return
		}
		if len(n.Content) == 0 {
			e.writeIndicator("[", true, true, false)
			e.writeIndicator("]", false, false, false)
			return
		}
		if n.Style&yaml.FlowStyle != 0 || from == parentSequenceItem {
			e.ok = false // flow lists, and lists of lists, are left to the emitter
			return
		}
		e.blockSequence(n, from, mappingContext)
	default:
		e.ok = false
	}
}

// blockMapping is yaml_emitter_emit_block_mapping_key and _value with
// simple keys.
func (e *quickEmitter) blockMapping(m *yaml.Node, from parent) {
	saved := e.increaseIndent(from, false)
	for i := 0; e.ok && i+1 < len(m.Content); i += 2 {
		key, value := m.Content[i], m.Content[i+1]
		if key.Kind != yaml.ScalarNode || key.Anchor != "" || key.LineComment != "" || key.FootComment != "" ||
			key.Style&yaml.TaggedStyle != 0 || len(key.Value) > 128 || key.Value == "" {
			e.ok = false
			return
		}
		if key.HeadComment != "" && !e.headComment(key.HeadComment) {
			e.ok = false
			return
		}
		e.writeIndent()
		e.scalar(key, true)
		e.writeIndicator(":", false, false, false)
		e.node(value, parentMappingValue, true)
	}
	e.indent = saved
}

// blockSequence is yaml_emitter_emit_block_sequence_item.
func (e *quickEmitter) blockSequence(s *yaml.Node, from parent, mappingContext bool) {
	compactSeq := mappingContext && (e.column == 0 || !e.indention) && e.compact
	saved := e.increaseIndent(from, compactSeq)
	for _, item := range s.Content {
		if !e.ok {
			return
		}
		e.writeIndent()
		e.writeIndicator("-", true, false, true)
		e.node(item, parentSequenceItem, false)
	}
	e.indent = saved
}

// scalar writes a one-line ASCII scalar in the style the emitter picks:
// the node's quotes, else plain where the value reads back with the
// node's tag and plain is allowed, else quoted.
func (e *quickEmitter) scalar(n *yaml.Node, simpleKey bool) {
	value := n.Value
	if n.Anchor != "" || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 || !printableASCII(value, false) {
		e.ok = false
		return
	}
	quoted := n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0
	forceQuoting := false
	if tag := shortTag(n.Tag); tag != "" && !(tag == yaml.NodeTagString && quoted) {
		resolved, known := resolvedTag(value)
		switch {
		case !known:
			e.ok = false
			return
		case resolved == tag:
		case tag == yaml.NodeTagString:
			forceQuoting = true
		default:
			e.ok = false // the tag would be written out
			return
		}
	}
	style := yaml.Style(0)
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0, !quoted && forceQuoting:
		style = yaml.DoubleQuotedStyle
	case n.Style&yaml.SingleQuotedStyle != 0:
		style = yaml.SingleQuotedStyle
	}
	// yaml_emitter_select_scalar_style, block context, one line.
	plainAllowed, singleAllowed := analyzeScalar(value)
	if style == 0 && (!plainAllowed || (value == "" && simpleKey)) {
		style = yaml.SingleQuotedStyle
	}
	if style == yaml.SingleQuotedStyle && !singleAllowed {
		style = yaml.DoubleQuotedStyle
	}
	switch style {
	case 0:
		if value != "" && !e.whitespace {
			e.put(' ')
		}
		e.writeString(value)
		if value != "" {
			e.whitespace = false
		}
		e.indention = false
	case yaml.SingleQuotedStyle:
		e.writeIndicator("'", true, false, false)
		for i := 0; i < len(value); i++ {
			if value[i] == '\'' {
				e.put('\'')
			}
			e.put(value[i])
		}
		e.writeIndicator("'", false, false, false)
		e.whitespace, e.indention = false, false
	default:
		e.writeIndicator(`"`, true, false, false)
		for i := 0; i < len(value); i++ {
			if value[i] == '"' || value[i] == '\\' {
				e.put('\\')
			}
			e.put(value[i])
		}
		e.writeIndicator(`"`, false, false, false)
	}
}

// printableASCII reports whether s holds printable ASCII only, and line
// feeds where breaks is set.
func printableASCII(s string, breaks bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 || c > 0x7e) && !(breaks && c == '\n') {
			return false
		}
	}
	return true
}

// analyzeScalar is yaml_emitter_analyze_scalar for one line of printable
// ASCII, in block context: whether the value may be written plain, and
// single-quoted.
func analyzeScalar(value string) (plain, single bool) {
	if value == "" {
		return true, true
	}
	if strings.HasPrefix(value, "---") || strings.HasPrefix(value, "...") {
		return false, true
	}
	blockIndicators, leadingSpace, trailingSpace := false, false, false
	precededByWhitespace := true
	for i := 0; i < len(value); i++ {
		c := value[i]
		followedByWhitespace := i+1 >= len(value) || value[i+1] == ' '
		if i == 0 {
			switch c {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators = true
			case '?', ':', '-':
				if followedByWhitespace {
					blockIndicators = true
				}
			}
		} else {
			switch c {
			case ':':
				if followedByWhitespace {
					blockIndicators = true
				}
			case '#':
				if precededByWhitespace {
					blockIndicators = true
				}
			}
		}
		if c == ' ' {
			if i == 0 {
				leadingSpace = true
			}
			if i == len(value)-1 {
				trailingSpace = true
			}
		}
		precededByWhitespace = c == ' '
	}
	return !(leadingSpace || trailingSpace || blockIndicators), true
}

func shortTag(tag string) string {
	const long = "tag:yaml.org,2002:"
	if rest, ok := strings.CutPrefix(tag, long); ok {
		return "!!" + rest
	}
	return tag
}

// yamlFloat is yaml.v3's yamlStyleFloat.
var yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolvedTag is the tag yaml.v3 reads a plain scalar as (resolve.go),
// known false where that needs its timestamp parser. ("<<" is in its
// table, but no first character leads there: it reads as a string.)
func resolvedTag(in string) (tag string, known bool) {
	switch in {
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return yaml.NodeTagBool, true
	case "", "~", "null", "Null", "NULL":
		return yaml.NodeTagNull, true
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return yaml.NodeTagFloat, true
	}
	switch c := in[0]; {
	case c == '.':
		if _, err := strconv.ParseFloat(in, 64); err == nil {
			return yaml.NodeTagFloat, true
		}
		return yaml.NodeTagString, true
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		return resolveNumber(in)
	}
	return yaml.NodeTagString, true
}

// resolveNumber follows resolve's branch for a scalar that starts with a
// sign or a digit.
func resolveNumber(in string) (string, bool) {
	if len(in) > 4 && in[4] == '-' && strings.Trim(in[:4], "0123456789") == "" {
		return "", false // possibly a timestamp
	}
	plain := strings.ReplaceAll(in, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return yaml.NodeTagInt, true
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return yaml.NodeTagInt, true
	}
	if yamlFloat.MatchString(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return yaml.NodeTagFloat, true
		}
	}
	for _, prefix := range []struct {
		prefix string
		base   int
		sign   string
	}{{"0b", 2, ""}, {"-0b", 2, "-"}, {"0o", 8, ""}, {"-0o", 8, "-"}} {
		if digits, ok := strings.CutPrefix(plain, prefix.prefix); ok {
			if _, err := strconv.ParseInt(prefix.sign+digits, prefix.base, 64); err == nil {
				return yaml.NodeTagInt, true
			}
			if prefix.sign == "" {
				if _, err := strconv.ParseUint(digits, prefix.base, 64); err == nil {
					return yaml.NodeTagInt, true
				}
			}
			break
		}
	}
	return yaml.NodeTagString, true
}
