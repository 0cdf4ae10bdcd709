package inventory

import (
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
)

// readDocuments reads fixture files with the project's reader.
func readDocuments(t testing.TB, paths ...string) []manifest.Document {
	t.Helper()
	docs, errs := manifest.Read(paths, nil)
	for _, err := range errs {
		t.Fatalf("reading %v: %v", paths, err)
	}
	return docs
}
