package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGapPolicies: which file --write-dir writes for the restrictions no
// PSS level expresses, by target version and --gap-policies, and the
// note when none does.
func TestGapPolicies(t *testing.T) {
	files := []string{"validating-admission-policies.yaml", "kyverno-policies.yaml", "gatekeeper-constraints.yaml", "mutating-admission-policies.yaml"}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		want     string // the one gap file written, "" for none
		defaults bool   // mutating-admission-policies.yaml written
		stdout   string // in the report
		stderr   string
	}{
		{"default on 1.37: vap", nil, exitOK, "validating-admission-policies.yaml", false, "", ""},
		{"default on 1.30: vap", []string{"--server-version", "v1.30"}, exitOK, "validating-admission-policies.yaml", false, "", ""},
		{"default on 1.29: none, with a note", []string{"--server-version", "v1.29"}, exitOK, "", false,
			"--gap-policies kyverno) or Gatekeeper (--gap-policies gatekeeper)", ""},
		{"kyverno on 1.25", []string{"--server-version", "v1.25", "--gap-policies", "kyverno"}, exitOK, "kyverno-policies.yaml", false, "", ""},
		{"gatekeeper on 1.28", []string{"--server-version", "v1.28", "--gap-policies", "gatekeeper"}, exitOK, "gatekeeper-constraints.yaml", false, "", ""},
		{"none on 1.37", []string{"--gap-policies", "none"}, exitOK, "", false, "NOTE: no policy keeps", ""},
		{"vap on 1.29 is refused", []string{"--server-version", "v1.29", "--gap-policies", "vap"}, exitInput, "", false, "", "needs Kubernetes 1.30"},
		{"defaults on 1.37", []string{"--defaults-as-policy"}, exitOK, "validating-admission-policies.yaml", true,
			"get their PSP's defaults from mutating-admission-policies.yaml", ""},
		{"defaults on 1.35 are refused", []string{"--server-version", "v1.35", "--defaults-as-policy"}, exitInput, "", false, "", "needs Kubernetes 1.36"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			r := runCLI(t, "", append(append([]string{"plan", "--write-dir", out}, tc.args...), demo)...)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.stdout) || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q; stdout has no %q:\n%s", r.code, tc.code, r.stderr, tc.stderr, tc.stdout, r.stdout)
			}
			for _, f := range files {
				_, err := os.Stat(filepath.Join(out, f))
				want := f == tc.want || (f == "mutating-admission-policies.yaml" && tc.defaults)
				if (err == nil) != want {
					t.Errorf("%s written: %v, want %v", f, err == nil, want)
				}
			}
		})
	}
	if r := runCLI(t, "", "plan", "--gap-policies", "kyverno", demo); r.code != exitInput {
		t.Errorf("--gap-policies without --write-dir: exit %d, want %d", r.code, exitInput)
	}
}
