package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/review"
)

// TestReviewDemoThenInPlace is the review's promise: the demo cluster is
// NOT READY (exit 3) until the plan is applied, and READY (exit 0) after
// plan --in-place, with only warnings left.
func TestReviewDemoThenInPlace(t *testing.T) {
	r := runCLI(t, "", "review", demo)
	if r.code != exitNotReady {
		t.Fatalf("review of the demo: exit %d, want %d\n%s%s", r.code, exitNotReady, r.stdout, r.stderr)
	}
	first := strings.SplitN(r.stdout, "\n", 2)[0]
	if !strings.HasPrefix(first, "NOT READY: 4 namespaces to label, 6 workloads to patch") {
		t.Errorf("the verdict is not the first line: %q", first)
	}
	dir := copyDir(t, demo)
	if r := runCLI(t, "", "plan", "--in-place", dir); r.code != exitOK {
		t.Fatalf("plan --in-place: exit %d: %s", r.code, r.stderr)
	}
	r = runCLI(t, "", "review", "-o", "json", dir)
	if r.code != exitOK {
		t.Fatalf("review after plan --in-place: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var got review.Review
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.SchemaVersion != review.SchemaVersion || !got.Verdict.Ready || got.Verdict.Errors != 0 || got.Verdict.Warnings == 0 {
		t.Errorf("verdict after plan --in-place: %+v (schema %q)", got.Verdict, got.SchemaVersion)
	}
	// Warnings count with --fail-on warning.
	if r := runCLI(t, "", "review", "--fail-on", "warning", dir); r.code != exitNotReady || !strings.HasPrefix(r.stdout, "NOT READY: 1 workload no PSP admits") {
		t.Errorf("--fail-on warning: exit %d, %q", r.code, strings.SplitN(r.stdout, "\n", 2)[0])
	}
}

func TestReviewExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"bad input", []string{"review", bad}, exitInput},
		{"unknown severity", []string{"review", "--fail-on", "info", demo}, exitInput},
		{"missing path", []string{"review", filepath.Join(t.TempDir(), "none.yaml")}, exitInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := runCLI(t, "", tc.args...); r.code != tc.want {
				t.Errorf("exit %d, want %d\n%s", r.code, tc.want, r.stderr)
			}
		})
	}
}

// The CI formats are review's; --write-dir writes the full report in
// every format.
func TestReviewFormatsAndWriteDir(t *testing.T) {
	if r := runCLI(t, "", "plan", "-o", "sarif", demo); r.code != exitInput || !strings.Contains(r.stderr, "only review writes sarif") {
		t.Errorf("plan -o sarif: exit %d: %s", r.code, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "report")
	r := runCLI(t, "", "review", "-o", "junit", "--write-dir", out, demo)
	if r.code != exitNotReady || !strings.HasPrefix(r.stdout, "<?xml") {
		t.Fatalf("review -o junit: exit %d\n%s", r.code, r.stderr)
	}
	for _, name := range []string{"review.md", "review.json", "review.sarif", "review.junit.xml"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if r := runCLI(t, "", "review", "--write-dir", filepath.Join(demo, "out"), demo); r.code != exitInput {
		t.Errorf("--write-dir inside the input: exit %d", r.code)
	}
}

// plan --write-dir offers the namespace label guard for targets that
// serve ValidatingAdmissionPolicies (1.30+), never for older ones.
func TestLabelGuardFile(t *testing.T) {
	out := t.TempDir()
	if r := runCLI(t, "", "plan", "--write-dir", out, "--label-admin-group", "platform", demo); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "namespace-label-guard.yaml"))
	if err != nil || !strings.Contains(string(data), "g in [''platform'', ''system:masters'']") {
		t.Errorf("namespace-label-guard.yaml: %v\n%s", err, data)
	}
	old := t.TempDir()
	if r := runCLI(t, "", "plan", "--write-dir", old, "--server-version", "v1.29", demo); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(old, "namespace-label-guard.yaml")); err == nil {
		t.Error("a guard for a 1.29 target, which serves no ValidatingAdmissionPolicy")
	}
}

// TestReviewCountsThePoliciesWrittenForGaps: the policies plan --write-dir
// writes, given back to review beside the manifests, keep what they keep:
// in shop only the profile lists stay lost. (The CLI reads input keeping
// only what plans need; the policies must survive that.)
func TestReviewCountsThePoliciesWrittenForGaps(t *testing.T) {
	out := t.TempDir()
	if r := runCLI(t, "", "plan", "--write-dir", out, demo); r.code != exitOK {
		t.Fatalf("plan --write-dir: exit %d: %s", r.code, r.stderr)
	}
	if before := lostIn(t, "shop", demo); !strings.Contains(before, "fsGroup") {
		t.Fatalf("without the policies, shop loses %q", before)
	}
	after := lostIn(t, "shop", demo, filepath.Join(out, "validating-admission-policies.yaml"))
	if strings.Contains(after, "fsGroup") || !strings.Contains(after, "seccomp allowedProfileNames") {
		t.Errorf("with the policies, shop loses %q; want only the profile lists", after)
	}
}

// lostIn runs review -o json with the arguments and returns the message
// of its restriction-lost finding for the namespace, "" when there is none.
func lostIn(t *testing.T, namespace string, args ...string) string {
	t.Helper()
	r := runCLI(t, "", append([]string{"review", "-o", "json"}, args...)...)
	var got struct {
		Findings []struct{ Rule, Namespace, Message string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("review -o json: exit %d, %v: %s", r.code, err, r.stderr)
	}
	for _, f := range got.Findings {
		if f.Rule == "restriction-lost" && f.Namespace == namespace {
			return f.Message
		}
	}
	return ""
}
