package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Snapshot is a Read written down, so that a plan can be made from it
// after the cluster stopped serving PodSecurityPolicy.
type Snapshot struct {
	*Result
	// Cluster names the cluster for the reader of the file: a context
	// name or the server URL.
	Cluster string
	// Namespace is the namespace the read was restricted to; "" for all.
	Namespace string
	Taken     time.Time
}

// Write writes the snapshot as one YAML List (apiVersion v1, kind List,
// items), which every psp2psa command reads like any manifest file. A
// header comment records where and when it was taken and, for a later
// review, what the read could not see.
func (s *Snapshot) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	s.writeHeader(bw)
	if len(s.Documents) == 0 {
		bw.WriteString("apiVersion: v1\nkind: List\nitems: []\n")
		return bw.Flush()
	}
	bw.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	for _, d := range s.Documents {
		y, err := yaml.JSONToYAML(d.Raw)
		if err != nil {
			return fmt.Errorf("converting %s to YAML: %w", d.Object(), err)
		}
		writeItem(bw, y)
	}
	return bw.Flush()
}

func (s *Snapshot) writeHeader(bw *bufio.Writer) {
	scope := "all namespaces"
	if s.Namespace != "" {
		scope = "namespace " + s.Namespace
	}
	comment(bw, fmt.Sprintf("psp2psa snapshot of %s (Kubernetes %s), %s, taken %s",
		s.Cluster, s.ServerVersion, scope, s.Taken.UTC().Format(time.RFC3339)))
	comment(bw, fmt.Sprintf("%d objects. Plan from it with: psp2psa plan --from-snapshot FILE", len(s.Documents)))
	for _, m := range s.Incomplete {
		comment(bw, "incomplete: "+m)
	}
	for _, m := range s.Warnings {
		comment(bw, "warning: "+m)
	}
}

// comment writes text as one comment line; a line break in a server's
// message must not end the comment and turn its rest into YAML.
func comment(bw *bufio.Writer, text string) {
	text = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(text)
	bw.WriteString("# " + text + "\n")
}

// writeItem writes one object's YAML as an item of the list: "- " before
// the first line and two spaces before every other non-empty line. The
// shift keeps every line's indentation relative to the others, which is
// all YAML's meaning depends on, including inside block scalars; empty
// lines stay empty so that no trailing spaces are added to them.
func writeItem(bw *bufio.Writer, y []byte) {
	first := true
	for line := range bytes.Lines(y) {
		switch {
		case first:
			bw.WriteString("- ")
			first = false
		case len(bytes.TrimRight(line, "\r\n")) > 0:
			bw.WriteString("  ")
		}
		bw.Write(line)
	}
	if len(y) > 0 && y[len(y)-1] != '\n' {
		bw.WriteByte('\n')
	}
}
