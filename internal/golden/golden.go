// Package golden compares test output with a file kept in the repository,
// and with a package's -update flag rewrites the file instead.
package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// Check fails the test when got differs from the file at path; with update
// it first writes got there (making its directory).
func Check(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s; run the package's tests with -update and review the diff", path)
	}
}
