package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
)

// FuzzBuild: whatever the input holds, reading and planning it never
// panics; bad objects are errors of the reader or the inventory.
func FuzzBuild(f *testing.F) {
	files, _ := filepath.Glob("../testdata/demo/*.yaml")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {}\n"))
	f.Add([]byte("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x, namespace: y}\nspec: {jobTemplate: {}}\n"))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}, {name: a}], ephemeralContainers: [{name: a}]}\n"))
	opts := defaultOptions(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _ := manifest.Read([]string{manifest.Stdin}, bytes.NewReader(data))
		inv, _ := inventory.FromDocuments(docs, "")
		p := Build(Input{Policies: psp.FromDocuments(docs).Policies, Inventory: inv}, opts)
		if len(p.Workloads) != len(inv.Workloads) {
			t.Fatalf("%d workloads planned of %d", len(p.Workloads), len(inv.Workloads))
		}
	})
}
