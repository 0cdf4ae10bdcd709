// Package testinputs locates the inputs tests share with other projects:
// ../shared beside the repository (the corpus of real PSPs and workloads)
// and the test fixtures of the linked k8s.io/pod-security-admission module.
//
// Where ../shared is absent (a clone outside this project) a test skips
// with a message; with CI set it fails, so CI never passes on less.
package testinputs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// RepoRoot is the directory that holds the main module's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// SharedDir is ../shared beside the repository, relative to the test's
// directory when it can be (sources in goldens then read as a user would
// give them).
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(RepoRoot(t)), "shared")
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, dir); err == nil {
			dir = rel
		}
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared inputs missing at %s: %v", dir, err)
		}
		t.Skipf("shared inputs missing at %s: %v", dir, err)
	}
	return dir
}

// CorpusDir is ../shared/corpus, joined with sub when given.
func CorpusDir(t testing.TB, sub ...string) string {
	t.Helper()
	return filepath.Join(append([]string{SharedDir(t), "corpus"}, sub...)...)
}

var psaDir = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	return strings.TrimSpace(string(out)), err
})

// PSAModuleDir is the directory of the linked k8s.io/pod-security-admission,
// whose test/testdata holds a pod fixture per check, level, version and
// verdict.
func PSAModuleDir(t testing.TB) string {
	t.Helper()
	dir, err := psaDir()
	if err != nil {
		t.Fatalf("locating k8s.io/pod-security-admission: %v", err)
	}
	return dir
}
