package convert

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
)

const corpusGolden = "../testdata/convert/corpus.golden.json"

var update = flag.Bool("update", false, "rewrite the golden files")

// corpusPolicies reads every PSP the 1.24 apiserver would accept from
// ../shared/corpus/psp, each file named explicitly so that odd extensions
// (.golden, .template) are read too.
func corpusPolicies(t testing.TB) []psp.Policy {
	t.Helper()
	dir := filepath.Join(sharedDir(t), "corpus", "psp")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range entries {
		if !e.IsDir() && e.Name() != "INDEX.tsv" {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	docs, errs := manifest.Read(paths, nil)
	for _, err := range errs {
		t.Errorf("reading the corpus: %v", err)
	}
	load := psp.FromDocuments(docs)
	// The corpus holds about 44 PSPs, a quarter of them invalid; far fewer
	// valid ones means the reader or validation broke, not the corpus.
	if len(load.Policies) < 25 {
		t.Fatalf("only %d valid PSPs in the corpus (%d rejected)", len(load.Policies), len(load.Errors))
	}
	return load.Policies
}

// TestCorpusGolden converts every valid PSP of the corpus at the newest
// PSS version; go test ./convert/ -update rewrites the golden file.
func TestCorpusGolden(t *testing.T) {
	v := version(t, "latest")
	result := Result{PSSVersion: v.String()}
	for _, p := range corpusPolicies(t) {
		r := Convert(p.PSP, v)
		r.Source = manifest.Source{File: filepath.Base(p.Source.File), Index: p.Source.Index, Item: p.Source.Item}
		r.APIVersion = p.APIVersion
		result.Policies = append(result.Policies, r)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(result); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(corpusGolden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(corpusGolden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(corpusGolden)
	if err != nil {
		t.Fatalf("%v (run go test ./convert/ -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("conversion of the corpus differs from %s (go test ./convert/ -update rewrites it; review the diff):\n%s",
			corpusGolden, firstDifference(string(want), buf.String()))
	}
}

func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, w[i], g[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d lines", len(w), len(g))
}

// TestCorpusAgainstAdmission checks every corpus PSP's witnesses and
// restrictions with psp.Admit, at the oldest and newest PSS versions.
func TestCorpusAgainstAdmission(t *testing.T) {
	for _, p := range corpusPolicies(t) {
		for _, v := range []string{"v1.0", "latest"} {
			checkAgainstAdmission(t, p.PSP, version(t, v))
		}
	}
}

func BenchmarkConvertCorpus(b *testing.B) {
	policies := corpusPolicies(b)
	v := version(b, "latest")
	b.ResetTimer()
	for b.Loop() {
		for _, p := range policies {
			Convert(p.PSP, v)
		}
	}
}
