package rewrite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// jsonIndent returns the indentation unit of a JSON text: the leading
// blanks of its first indented line, or "" when it is on one line.
func jsonIndent(data []byte) string {
	for _, line := range strings.Split(string(data), "\n")[1:] {
		if trimmed := strings.TrimLeft(line, " \t"); trimmed != "" && len(trimmed) < len(line) {
			return line[:len(line)-len(trimmed)]
		}
	}
	return ""
}

// encodeJSON writes a node as JSON in the original's key order and
// indentation, ending in a newline when the original did.
func encodeJSON(node *yaml.Node, original []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := writeJSON(&compact, node); err != nil {
		return nil, err
	}
	out := compact.Bytes()
	if indent := jsonIndent(original); indent != "" {
		var buf bytes.Buffer
		if err := json.Indent(&buf, out, "", indent); err != nil {
			return nil, fmt.Errorf("indenting JSON: %w", err)
		}
		out = buf.Bytes()
	}
	if bytes.HasSuffix(original, []byte("\n")) {
		out = append(out, '\n')
	}
	return out, nil
}

func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("encoding JSON: empty document")
		}
		return writeJSON(buf, n.Content[0])
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, n.Content[i].Value)
			buf.WriteByte(':')
			if err := writeJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		return writeJSONScalar(buf, n)
	default:
		return fmt.Errorf("encoding JSON: unexpected %s", kindName(n))
	}
	return nil
}

// writeJSONScalar writes numbers, booleans and null as their text, which
// for a file read as JSON or a value built by valueNode is valid JSON.
func writeJSONScalar(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Tag {
	case yaml.NodeTagInt, yaml.NodeTagFloat, yaml.NodeTagBool:
		if !json.Valid([]byte(n.Value)) {
			return fmt.Errorf("encoding JSON: %s %q is not a JSON value", n.Tag, n.Value)
		}
		buf.WriteString(n.Value)
	case yaml.NodeTagNull:
		buf.WriteString("null")
	default:
		writeJSONString(buf, n.Value)
	}
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode adds a newline
}
