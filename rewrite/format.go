package rewrite

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// layout is how a document indents: spaces per mapping level and whether
// list items are indented under their key ("wide") or not ("compact").
type layout struct {
	indent int
	wide   bool
}

// deriveLayout reads a document's indentation so that re-encoding it
// changes as few lines as possible.
// A document without block lists takes the list style of the whole file,
// so a list the edit adds looks like the lists of the other documents.
func deriveLayout(text string, fileWide func() bool) layout {
	lines := contentLines(text)
	wide, found := linesIndented(lines)
	if !found {
		wide = fileWide()
	}
	return layout{indent: mappingIndent(lines), wide: wide}
}

// listsIndented tells whether the first block list indents its items
// under its key ("wide") rather than at the key's column ("compact").
// kyaml's DeriveSeqIndentStyle knows only a two-space offset; yaml.v3
// indents items by the mapping indent when wide, so any offset is wide.
func listsIndented(text string) (wide, found bool) {
	return linesIndented(contentLines(text))
}

// linesIndented is listsIndented of a document's content lines.
func linesIndented(lines []string) (wide, found bool) {
	for i := 1; i < len(lines); i++ {
		body := strings.TrimLeft(lines[i], " ")
		if !strings.HasPrefix(body, "- ") && body != "-" {
			continue
		}
		key := lines[i-1]
		if !strings.HasSuffix(strings.TrimRight(key, " \t"), ":") || strings.HasPrefix(strings.TrimLeft(key, " "), "- ") {
			continue // a later item, or an item of a list of lists
		}
		return indentOf(lines[i]) > indentOf(key), true
	}
	return false, false
}

// mappingIndent finds, among a document's content lines, the first key
// that opens a nested mapping and returns how much deeper its first field
// sits; 2 when there is none.
func mappingIndent(lines []string) int {
	for i := 0; i+1 < len(lines); i++ {
		key, next := lines[i], lines[i+1]
		if !strings.HasSuffix(strings.TrimRight(key, " \t"), ":") {
			continue
		}
		body := strings.TrimLeft(next, " ")
		if strings.HasPrefix(body, "- ") || body == "-" {
			continue
		}
		if d := indentOf(next) - indentOf(key); d > 0 && d <= 8 {
			return d
		}
	}
	return 2
}

// contentLines drops blank and comment-only lines.
func contentLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
			out = append(out, line)
		}
	}
	return out
}

func indentOf(line string) int {
	return len(line) - len(strings.TrimLeft(line, " "))
}

// encode writes a node as YAML in the given layout: as yaml.v3's emitter
// writes it, by quickEncode where it can.
func encode(node *yaml.Node, l layout) (string, error) {
	if text, ok := quickEncode(node, l); ok {
		return text, nil
	}
	return emit(node, l)
}

// emit writes a node as YAML in the given layout with yaml.v3's emitter.
func emit(node *yaml.Node, l layout) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(l.indent)
	if l.wide {
		enc.DefaultSeqIndent()
	} else {
		enc.CompactSeqIndent()
	}
	if err := enc.Encode(node); err != nil {
		return "", fmt.Errorf("encoding YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("encoding YAML: %w", err)
	}
	return buf.String(), nil
}
