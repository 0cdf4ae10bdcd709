package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// The text reports of the demo keep to 100 columns (the diffs, which are
// the files' own lines, aside), put one label per line, never print "1
// files", and name PSPs so that none reads as a level.
func TestTextIsReadable(t *testing.T) {
	r := demoReview(t)
	var plan, rev bytes.Buffer
	if err := Plan(&plan, Text, r.Plan, []FileChange{{Path: "shop.yaml", Old: []byte("a\n"), New: []byte("b\n")}}); err != nil {
		t.Fatal(err)
	}
	if err := Review(&rev, Text, r, ReviewOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"plan": plan.String(), "review": rev.String()} {
		text, _, _ := strings.Cut(out, "\nChanges (")
		for i, line := range strings.Split(text, "\n") {
			if n := utf8.RuneCountInString(line); n > Width {
				t.Errorf("%s line %d is %d columns: %q", name, i+1, n, line)
			}
		}
	}
	p := plan.String()
	for _, want := range []string{"Changes (1 file)", "\n        pod-security.kubernetes.io/enforce=baseline\n", "  psp/restricted\n", "psp/baseline    1 "} {
		if !strings.Contains(p, want) {
			t.Errorf("plan text lacks %q", want)
		}
	}
	if strings.Contains(p, "1 files") || strings.Contains(p, " restricted  baseline  privileged") {
		t.Error("plan text says 1 files, or lists PSP names bare")
	}
}

// plan -o markdown says what the text says: gaps, rollout labels, notes,
// rejections and every patch change.
func TestPlanMarkdownIsComplete(t *testing.T) {
	r := demoReview(t)
	var md bytes.Buffer
	if err := Plan(&md, Markdown, r.Plan, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"not in PSS, `fsGroup`", "Step 2: enforce baseline", "pod-security.kubernetes.io/enforce-version=v1.37",
		"Stricter than PSP", "Looser than PSP", "> Note: system namespace",
		"rejected by psp/restricted: spec.containers[0].securityContext.runAsUser",
		"set containers[web].securityContext.runAsNonRoot: true (injected by PSP restricted",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("plan markdown lacks %q", want)
		}
	}
}
