package cluster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/psp2psa/psp2psa/internal/parallel"
	"github.com/psp2psa/psp2psa/inventory"
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

// Annotations of the snapshot's List besides the inventory's
// (inventory.IncompleteAnnotation and WarningsAnnotation, which plans read):
// where and when it was taken, for the reader of the file.
const (
	clusterAnnotation       = "psp2psa.io/cluster"
	serverVersionAnnotation = inventory.ServerVersionAnnotation
	namespaceAnnotation     = "psp2psa.io/namespace"
	takenAnnotation         = "psp2psa.io/taken"
)

// Write writes the snapshot as one YAML List (apiVersion v1, kind List,
// items), which every psp2psa command reads like any manifest file. The
// List's annotations record where and when it was taken and what the read
// could not see and warned about: data that every item carries once read
// (manifest.Document.ListAnnotations), so a plan from the snapshot says
// what the read missed as the plan from the cluster did, wherever the
// snapshot is read from. A header comment says the same to a person.
func (s *Snapshot) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	s.writeHeader(bw)
	envelope, err := s.envelope()
	if err != nil {
		return err
	}
	bw.Write(envelope)
	if len(s.Documents) == 0 {
		bw.WriteString("items: []\n")
		return bw.Flush()
	}
	bw.WriteString("items:\n")
	// Items are converted on all processors a batch at a time, and
	// written in order as each batch is done.
	const batch = 256
	converted := make([][]byte, batch)
	errs := make([]error, batch)
	for start := 0; start < len(s.Documents); start += batch {
		docs := s.Documents[start:min(start+batch, len(s.Documents))]
		parallel.For(len(docs), func(i int) { converted[i], errs[i] = yaml.JSONToYAML(docs[i].Raw) })
		for i := range docs {
			if errs[i] != nil {
				return fmt.Errorf("converting %s to YAML: %w", docs[i].Object(), errs[i])
			}
			writeItem(bw, converted[i])
		}
	}
	return bw.Flush()
}

// envelope is the List without its items: apiVersion, kind and the
// metadata with the snapshot's annotations.
func (s *Snapshot) envelope() ([]byte, error) {
	annotations := map[string]string{
		clusterAnnotation:       s.Cluster,
		serverVersionAnnotation: s.ServerVersion,
		takenAnnotation:         s.Taken.UTC().Format(time.RFC3339),
	}
	if s.Namespace != "" {
		annotations[namespaceAnnotation] = s.Namespace
	}
	for key, messages := range map[string][]string{inventory.IncompleteAnnotation: s.Incomplete, inventory.WarningsAnnotation: s.Warnings} {
		if len(messages) == 0 {
			continue
		}
		value, err := json.Marshal(messages)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", key, err)
		}
		annotations[key] = string(value)
	}
	list := map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"annotations": annotations}}
	out, err := yaml.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("writing the snapshot's List: %w", err)
	}
	return out, nil
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
