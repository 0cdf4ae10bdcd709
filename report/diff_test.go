package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sergi/go-diff/diffmatchpatch"
)

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

var diffCases = []struct {
	name     string
	old, new string
	want     string // without the --- and +++ lines
}{
	{
		name: "insertion at the start",
		old:  "a\nb\nc\nd\ne\n",
		new:  "new\na\nb\nc\nd\ne\n",
		want: "@@ -1,3 +1,4 @@\n+new\n a\n b\n c\n",
	},
	{
		name: "insertion at the end",
		old:  "a\nb\nc\nd\ne\n",
		new:  "a\nb\nc\nd\ne\nnew\n",
		want: "@@ -3,3 +3,4 @@\n c\n d\n e\n+new\n",
	},
	{
		name: "change in the middle with full context",
		old:  numbered(1, 9),
		new:  strings.Replace(numbered(1, 9), "line 5\n", "line five\n", 1),
		want: "@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n line 8\n",
	},
	{
		name: "old file without final newline",
		old:  "a\nb",
		new:  "a\nb\n",
		want: "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
	},
	{
		name: "both without final newline, last line changed",
		old:  "a\nb",
		new:  "a\nc",
		want: "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n",
	},
	{
		name: "new file from empty",
		old:  "",
		new:  "a\nb\n",
		want: "@@ -0,0 +1,2 @@\n+a\n+b\n",
	},
	{
		name: "everything deleted",
		old:  "a\nb\n",
		new:  "",
		want: "@@ -1,2 +0,0 @@\n-a\n-b\n",
	},
	{
		name: "changes seven lines apart make two hunks",
		old:  numbered(1, 20),
		new:  strings.NewReplacer("line 5\n", "five\n", "line 13\n", "thirteen\n").Replace(numbered(1, 20)),
		want: "@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+five\n line 6\n line 7\n line 8\n" +
			"@@ -10,7 +10,7 @@\n line 10\n line 11\n line 12\n-line 13\n+thirteen\n line 14\n line 15\n line 16\n",
	},
	{
		name: "changes six lines apart share a hunk, contexts merged",
		old:  numbered(1, 20),
		new:  strings.NewReplacer("line 5\n", "five\n", "line 12\n", "twelve\n").Replace(numbered(1, 20)),
		want: "@@ -2,14 +2,14 @@\n line 2\n line 3\n line 4\n-line 5\n+five\n line 6\n line 7\n line 8\n line 9\n line 10\n line 11\n-line 12\n+twelve\n line 13\n line 14\n line 15\n",
	},
	{
		name: "insertion and deletion near the start clip the context",
		old:  "a\nb\nc\nd\ne\nf\n",
		new:  "a\nB\nc\nd\ne\nf\n",
		want: "@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n",
	},
}

func TestUnifiedDiff(t *testing.T) {
	for _, tt := range diffCases {
		t.Run(tt.name, func(t *testing.T) {
			got := UnifiedDiff("a/x.yaml", "b/x.yaml", []byte(tt.old), []byte(tt.new))
			want := "--- a/x.yaml\n+++ b/x.yaml\n" + tt.want
			if got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestUnifiedDiffMatchesGNUDiff checks the hand-written expectations
// against diff -u itself, where it is installed.
func TestUnifiedDiffMatchesGNUDiff(t *testing.T) {
	if _, err := exec.LookPath("diff"); err != nil {
		t.Skip("diff is not installed")
	}
	dir := t.TempDir()
	for _, tt := range diffCases {
		t.Run(tt.name, func(t *testing.T) {
			oldPath, newPath := filepath.Join(dir, "old"), filepath.Join(dir, "new")
			writeFile(t, oldPath, tt.old)
			writeFile(t, newPath, tt.new)
			out, err := exec.Command("diff", "-u", "--label", "a/x.yaml", "--label", "b/x.yaml", oldPath, newPath).Output()
			if code := exitCode(err); code != 1 {
				t.Fatalf("diff exited %d: %v", code, err)
			}
			if got := UnifiedDiff("a/x.yaml", "b/x.yaml", []byte(tt.old), []byte(tt.new)); got != string(out) {
				t.Errorf("UnifiedDiff:\n%s\ndiff -u:\n%s", got, out)
			}
		})
	}
}

func TestUnifiedDiffEqualIsEmpty(t *testing.T) {
	if got := UnifiedDiff("a", "b", []byte("x\ny\n"), []byte("x\ny\n")); got != "" {
		t.Errorf("got %q", got)
	}
}

// TestUnifiedDiffAppliesWithPatch diffs the rewrite golden files against
// their real inputs and checks that patch turns each input into its
// output.
func TestUnifiedDiffAppliesWithPatch(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("patch is not installed")
	}
	corpus := filepath.Join("..", "..", "shared", "corpus", "workloads")
	demo := filepath.Join("..", "testdata", "demo")
	golden := filepath.Join("..", "testdata", "rewrite")
	pairs := map[string]string{
		"demo-shop-restricted.yaml":          filepath.Join(demo, "shop.yaml"),
		"demo-legacy-nonroot.yaml":           filepath.Join(demo, "legacy.yaml"),
		"ceph-rbdplugin-unprivileged.yaml":   filepath.Join(corpus, "ceph__ceph-csi__deploy_rbd_kubernetes_csi-rbdplugin.yaml"),
		"flannel-init-containers.yaml":       filepath.Join(corpus, "flannel-io__flannel__documentation_kustomization_kube-flannel_kube-flannel.yml"),
		"descheduler-cronjob-seccomp.yaml":   filepath.Join(corpus, "kubernetes-sigs__descheduler__kubernetes_cronjob_cronjob.yaml"),
		"gatekeeper-seccomp-annotation.yaml": filepath.Join(corpus, "open-policy-agent__gatekeeper-library__library_pod-security-policy_seccomp_samples_psp-seccomp_example_disallowed.yaml"),
	}
	if _, err := os.Stat(corpus); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus not found at %s: %v", corpus, err)
		}
		t.Skipf("corpus not found at %s", corpus)
	}
	dir := t.TempDir()
	for out, in := range pairs {
		t.Run(out, func(t *testing.T) {
			old := readFile(t, in)
			new := readFile(t, filepath.Join(golden, out))
			diff := UnifiedDiff("a/x.yaml", "b/x.yaml", old, new)
			if diff == "" {
				t.Fatal("no diff between input and golden output")
			}
			target := filepath.Join(dir, "x.yaml")
			writeFile(t, target, string(old))
			cmd := exec.Command("patch", "--quiet", "--forward", "-p1", "-d", dir)
			cmd.Stdin = strings.NewReader(diff)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("patch: %v: %s\n%s", err, msg, diff)
			}
			if patched := readFile(t, target); !bytes.Equal(patched, new) {
				t.Errorf("patched file differs from the golden output:\n%s", patched)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// referenceLineOps is lineOps as diffmatchpatch's own line mode makes it.
func referenceLineOps(old, new string) []lineOp {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0
	a, b, lines := dmp.DiffLinesToRunes(old, new)
	var ops []lineOp
	for _, d := range dmp.DiffCharsToLines(dmp.DiffMainRunes(a, b, false), lines) {
		kind := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			kind = '-'
		case diffmatchpatch.DiffInsert:
			kind = '+'
		}
		for _, line := range strings.SplitAfter(d.Text, "\n") {
			if line != "" {
				ops = append(ops, lineOp{kind: kind, text: line})
			}
		}
	}
	return ops
}

// TestLineOpsIsDiffMatchPatchLineMode compares lineOps with
// diffmatchpatch's line mode on texts made of few distinct lines (so that
// many alignments are equally short) and on texts with more lines than
// runes below the surrogates.
func TestLineOpsIsDiffMatchPatchLineMode(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	text := func(n, distinct int) string {
		var b strings.Builder
		for range n {
			fmt.Fprintf(&b, "line %d\n", rng.IntN(distinct))
		}
		if rng.IntN(3) == 0 {
			b.WriteString("no newline")
		}
		return b.String()
	}
	for i := range 500 {
		old, new := text(rng.IntN(60), 1+rng.IntN(8)), text(rng.IntN(60), 1+rng.IntN(8))
		if got, want := lineOps(old, new), referenceLineOps(old, new); !slices.Equal(got, want) {
			t.Fatalf("case %d: lineOps differs from diffmatchpatch:\n%q\n%q\n got %v\nwant %v", i, old, new, got, want)
		}
	}
	var big strings.Builder
	for i := range 70000 {
		fmt.Fprintf(&big, "distinct line %d\n", i)
	}
	old := big.String()
	new := strings.Replace(old, "distinct line 60000\n", "changed\n", 1)
	if got, want := lineOps(old, new), referenceLineOps(old, new); !slices.Equal(got, want) {
		t.Fatal("lineOps differs from diffmatchpatch past the surrogates")
	}
}
