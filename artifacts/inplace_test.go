package artifacts

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/rewrite"
)

// TestRewritesRefuseAFileThatChanged: the demo's shop.yaml is planned,
// then its two Deployments swap places before the rewrite. Every edit
// names the object it was planned for, so nothing lands on the wrong one.
func TestRewritesRefuseAFileThatChanged(t *testing.T) {
	p, docs := demoPlan(t)
	shop := filepath.Join(demo, "shop.yaml")
	data, err := os.ReadFile(shop)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(data), "\n---\n")
	if len(parts) < 3 {
		t.Fatalf("shop.yaml has %d documents", len(parts))
	}
	parts[1], parts[2] = parts[2], parts[1]
	swapped := []byte(strings.Join(parts, "\n---\n"))
	read := func(path string) ([]byte, error) {
		if path == shop {
			return swapped, nil
		}
		return os.ReadFile(path)
	}
	files, err := Rewrites(p, docs, true, read)
	var wrong *rewrite.WrongObjectError
	if !errors.As(err, &wrong) || files != nil {
		t.Fatalf("Rewrites after the file changed: %v, %d files; want a WrongObjectError and nothing to write", err, len(files))
	}
	for _, want := range []string{shop, "document 1", "Deployment/shop/frontend", "Deployment/shop/api"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
	if _, err := Rewrites(p, docs, true, os.ReadFile); err != nil {
		t.Errorf("Rewrites of the files as read: %v", err)
	}
}
