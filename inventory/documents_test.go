package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
	"sigs.k8s.io/yaml"
)

// readDocuments reads YAML files into Documents, one per "---"-separated
// document, as manifest.Read would (without its List handling): enough for
// fixtures.
func readDocuments(t testing.TB, paths ...string) []manifest.Document {
	t.Helper()
	var docs []manifest.Document
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, chunk := range splitYAML(data) {
			d, ok, err := documentOf(chunk)
			if err != nil {
				t.Fatalf("%s: document %d: %v", path, i, err)
			}
			if ok {
				d.Source = manifest.Source{File: path, Index: i}
				docs = append(docs, d)
			}
		}
	}
	return docs
}

func splitYAML(data []byte) [][]byte {
	var chunks [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "---") {
			chunks = append(chunks, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	return append(chunks, cur.Bytes())
}

func documentOf(chunk []byte) (manifest.Document, bool, error) {
	raw, err := yaml.YAMLToJSON(chunk)
	if err != nil {
		return manifest.Document{}, false, err
	}
	if string(raw) == "null" {
		return manifest.Document{}, false, nil
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return manifest.Document{}, false, err
	}
	return manifest.Document{
		APIVersion: head.APIVersion, Kind: head.Kind,
		Name: head.Metadata.Name, Namespace: head.Metadata.Namespace, Raw: raw,
	}, true, nil
}
