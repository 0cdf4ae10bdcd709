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
// header comment records where and when it was taken and what the read
// could not see, one "# incomplete: " or "# warning: " line each, which
// ReadHeader gives back.
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
	comment(bw, fmt.Sprintf(strings.TrimPrefix(snapshotMark, "# ")+"%s (Kubernetes %s), %s, taken %s",
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

// snapshotMark starts the first line of every snapshot.
const snapshotMark = "# psp2psa snapshot of "

// Header is what a snapshot's comments record besides the objects.
type Header struct {
	Incomplete []string
	Warnings   []string
}

// ReadHeader reads the leading comments of a file and, when they are a
// snapshot's, returns what they record, so that a plan made from the
// snapshot says what the read missed exactly as a plan from the cluster
// would. ok is false for any other file.
func ReadHeader(r io.Reader) (h Header, ok bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20) // a server's message may be long
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if !ok && !strings.HasPrefix(line, snapshotMark) {
			break
		}
		ok = true
		if !strings.HasPrefix(line, "#") {
			break
		}
		if m, found := strings.CutPrefix(line, "# incomplete: "); found {
			h.Incomplete = append(h.Incomplete, m)
		}
		if m, found := strings.CutPrefix(line, "# warning: "); found {
			h.Warnings = append(h.Warnings, m)
		}
	}
	if err := sc.Err(); err != nil {
		return Header{}, false, fmt.Errorf("reading the snapshot header: %w", err)
	}
	return h, ok, nil
}
