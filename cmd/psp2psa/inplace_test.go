package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nel is U+0085 NEXT LINE, a line break to YAML 1.1 (which kubectl reads)
// and to nothing else most editors show.
const nel = "\u0085"

// TestInPlaceEditsTheDocumentThatWasRead is the NEL trap: a "---" after a
// NEL starts a document for the reader, so the rewrite must number the
// documents the same way or a patch lands on the neighbouring Deployment.
// The file with the NEL must come out exactly as the file with a plain
// newline there does.
func TestInPlaceEditsTheDocumentThatWasRead(t *testing.T) {
	const boundary = "            - containerPort: 8080\n---\n"
	withNEL := copyDir(t, demo)
	withLF := copyDir(t, demo)
	shop := string(mustRead(t, filepath.Join(demo, "shop.yaml")))
	if !strings.Contains(shop, boundary) {
		t.Fatalf("the demo's shop.yaml no longer has the boundary this test edits")
	}
	write(t, filepath.Join(withNEL, "shop.yaml"), strings.Replace(shop, boundary, "            - containerPort: 8080\n# the api"+nel+"---\n", 1))
	write(t, filepath.Join(withLF, "shop.yaml"), strings.Replace(shop, boundary, "            - containerPort: 8080\n# the api\n---\n", 1))
	for _, dir := range []string{withNEL, withLF} {
		if r := runCLI(t, "", "plan", "--in-place", dir); r.code != exitOK {
			t.Fatalf("plan --in-place %s: exit %d: %s", dir, r.code, r.stderr)
		}
	}
	got := strings.ReplaceAll(string(mustRead(t, filepath.Join(withNEL, "shop.yaml"))), nel, "\n")
	want := string(mustRead(t, filepath.Join(withLF, "shop.yaml")))
	if got != want {
		t.Errorf("with a NEL before ---, --in-place wrote\n%s\nwant (as with a newline there)\n%s", got, want)
	}
	if r := runCLI(t, "", "plan", "--diff-only", withNEL); r.code != exitOK || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("a second run still changes the file (exit %d):\n%s", r.code, r.stdout)
	}
}

// TestInPlaceRefusesStandardInput: there is no file to rewrite, and the
// refusal comes before any work, as a usage error.
func TestInPlaceRefusesStandardInput(t *testing.T) {
	data := string(mustRead(t, filepath.Join(demo, "shop.yaml")))
	r := runCLI(t, data, "plan", "--in-place", "-")
	if r.code != exitInput || r.stdout != "" || !strings.Contains(r.stderr, "standard input") {
		t.Errorf("plan --in-place -: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout", r.code, r.stdout, r.stderr)
	}
}

// TestPatchRefusesAnOutputDirInsideAnInput: the copies would be read as
// duplicates by the next run over the same input.
func TestPatchRefusesAnOutputDirInsideAnInput(t *testing.T) {
	inputs := copyDir(t, demo)
	for _, out := range []string{filepath.Join(inputs, "patched"), inputs} {
		r := runCLI(t, "", "patch", "--output-dir", out, inputs)
		if r.code != exitInput || !strings.Contains(r.stderr, "--output-dir") {
			t.Errorf("patch --output-dir %s %s: exit %d, stderr %q; want exit 2 naming --output-dir", out, inputs, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(inputs, "patched")); err == nil {
			t.Errorf("patch wrote %s although it refused", out)
		}
	}
}
