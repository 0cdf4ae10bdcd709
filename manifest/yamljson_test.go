package manifest

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"sigs.k8s.io/yaml"
)

// sameAsSigsYAML checks the short way against sigs.k8s.io/yaml: where it
// converts, the JSON is the same, byte for byte; it reports whether it
// converted.
func sameAsSigsYAML(t *testing.T, doc []byte) bool {
	t.Helper()
	got, ok := ordinaryYAMLToJSON(doc)
	if !ok {
		return false
	}
	want, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		t.Errorf("converted what sigs.k8s.io/yaml refuses (%v):\n%s", err, doc)
	} else if string(got) != string(want) {
		t.Errorf("JSON differs for\n%s\n got %s\nwant %s", doc, got, want)
	}
	return true
}

func TestOrdinaryYAMLToJSON(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		short bool // converted the short way
	}{
		{"workload", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 0\n  template:\n    spec:\n      containers:\n      - name: a\n        securityContext:\n          runAsUser: 1000\n          privileged: false\n", true},
		{"keys out of order", "kind: A\napiVersion: v1\nb: 1\na: [z, y]\n", true},
		{"YAML 1.1 scalars", "a: yes\nb: off\nc: ~\nd: 0x1F\ne: 0o17\nf: 017\ng: 1_000\nh: '1'\n", true},
		{"floats", "a: 0.5\nb: 1e21\nc: 1.0e-7\nd: -0.0\ne: 6.02e+23\nf: 3.\n", true},
		{"large integers", "a: 9223372036854775807\nb: 18446744073709551615\nc: -9223372036854775808\n", true},
		{"strings JSON escapes", "a: \"<b> & 'c'\"\nb: \"tab\\there\"\nc: é\nd: \"\\u2028\"\ne: '\\'\nf: \"\\x7f\"\n", true},
		{"timestamps and binary", "a: 2001-12-14t21:59:43.10-05:00\nb: !!binary aGVsbG8=\nc: 2002-12-14\n", true},
		{"anchors", "a: &x {b: [1, 2]}\nc: *x\n", true},
		{"block scalars", "a: |\n  line\n  more\nb: >-\n  folded\n  text\n", true},
		{"empty values", "a:\nb: []\nc: {}\nd: ''\n", true},
		{"merge key", "a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n", false},
		{"repeated key", "a: 1\nb: 2\na: 3\n", false},
		{"repeated nested key", "a:\n  b: 1\n  b: 1\n", false},
		{"int key", "1: a\n", false},
		{"bool key", "on: push\n", false},
		{"null key", "~: a\n", false},
		{"mapping key", "? {a: 1}\n: b\n", false},
		{"infinity", "a: .inf\n", false},
		{"not a number", "a: .NaN\n", false},
		{"sequence document", "- a\n- b\n", false},
		{"list of key/value mappings", "# c\n---\n  - key: a\n    value: b\n  - key: c\n", false},
		{"tagged document", "--- !!map\na: 1\n", false},
		{"flow mapping", "{a: 1, b: [x]}\n", true},
		{"CRLF after its marker", "---\r\n# c\r\napiVersion: v1\r\nkind: ConfigMap\r\ndata:\r\n  a: \"1\"\r\n", true},
		{"CRLF list after its marker", "---\r\n- key: a\r\n", false},
		{"scalar document", "just text\n", false},
		{"null document", "null\n", false},
		{"empty mapping", "{}\n", false},
		{"empty", "", false},
		{"syntax error", "a: [1\n", false},
		{"tab indentation", "a:\n\tb: 1\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if short := sameAsSigsYAML(t, []byte(tt.doc)); short != tt.short {
				t.Errorf("converted the short way: %v, want %v", short, tt.short)
			}
			// Either way, yamlToJSON gives what sigs.k8s.io/yaml gives.
			got, gotErr := yamlToJSON([]byte(tt.doc))
			want, wantErr := yaml.YAMLToJSONStrict([]byte(tt.doc))
			if string(got) != string(want) || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("yamlToJSON = %s, %v; want %s, %v", got, gotErr, want, wantErr)
			}
		})
	}
}

// TestOrdinaryYAMLToJSONCorpus converts every YAML document of the shared
// corpus, of the repository and of the PSA module's pod fixtures both
// ways.
func TestOrdinaryYAMLToJSONCorpus(t *testing.T) {
	roots := []string{testinputs.CorpusDir(t), testinputs.RepoRoot(t), filepath.Join(testinputs.PSAModuleDir(t), "test", "testdata")}
	short, all := 0, 0
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if d.IsDir() || !hasManifestExtension(path) || filepath.Ext(path) == ".json" {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			spans, err := Spans(data)
			if err != nil {
				return nil // not for this test
			}
			for _, s := range spans {
				all++
				if sameAsSigsYAML(t, data[s.Start:s.End]) {
					short++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d of %d documents converted the short way", short, all)
	if short < all/2 {
		t.Errorf("only %d of %d documents converted the short way", short, all)
	}
}

// FuzzOrdinaryYAMLToJSON: whatever it converts, it converts as
// sigs.k8s.io/yaml does.
func FuzzOrdinaryYAMLToJSON(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("a: \"<\\u00e9>\"\nb: [1.5, -2, 0x10, yes, ~]\nc: {d: 'e', f: &g 1, h: *g}\n"))
	addCorpusSeeds(f, filepath.Join("..", "..", "shared", "corpus", "workloads"))
	f.Fuzz(func(t *testing.T, data []byte) {
		defer func() {
			// The YAML parser panics on some input; yamlToJSON recovers.
			_ = recover()
		}()
		sameAsSigsYAML(t, data)
	})
}
