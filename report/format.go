// Package report renders results as text, markdown, JSON and YAML, and
// changes as unified diffs. Results are plain data built elsewhere; a new
// output format touches this package only.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// Format is an output format.
type Format string

// Output formats.
const (
	Text     Format = "text"
	JSON     Format = "json"
	YAML     Format = "yaml"
	Markdown Format = "markdown"
)

// Formats lists the formats in the order help text shows them.
var Formats = []Format{Text, JSON, YAML, Markdown}

// ParseFormat parses an -o value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("output format %q: want one of %s", s, strings.Join(formatNames(), ", "))
}

func formatNames() []string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return names
}

// writeData renders v as JSON or YAML: the machine formats share one
// schema, the JSON tags of the result types.
func writeData(w io.Writer, f Format, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	if f == YAML {
		if data, err = yaml.JSONToYAML(data); err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
	} else {
		data = append(data, '\n')
	}
	_, err = w.Write(data)
	return err
}
