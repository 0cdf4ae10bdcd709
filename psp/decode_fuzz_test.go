package psp

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
)

// FuzzFromDocuments feeds arbitrary manifests to Read and FromDocuments,
// and arbitrary JSON straight to the PSP decoder. Nothing may panic; every
// policy returned must pass Validate, and every problem must be a
// *manifest.Error.
func FuzzFromDocuments(f *testing.F) {
	f.Add([]byte(restrictedYAML))
	f.Add([]byte(`{"apiVersion":"policy/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"p","annotations":{"a":1},"creationTimestamp":"x"},"spec":{"runAsUser":{"ranges":[{"min":"1"}]},"runAsGroup":[],"hostPorts":[{"max":1e40}],"volumes":"x","runtimeClass":{"defaultRuntimeClassName":""}}}`))
	f.Add([]byte("apiVersion: extensions/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: a, namespace: b}\nspec:\n  allowedProcMountTypes: [Unmasked]\n  seLinux: {rule: MustRunAs}\n"))
	f.Add([]byte("apiVersion: policy/v1beta1\nkind: PodSecurityPolicyList\nitems:\n- apiVersion: policy/v1beta1\n  kind: PodSecurityPolicy\n  metadata: {name: a}\n  spec: null\n"))
	for _, dir := range []string{"psp", "workloads"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", dir, "*"))
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil && filepath.Base(file) != "INDEX.tsv" {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _ := manifest.Read([]string{manifest.Stdin}, bytes.NewReader(data))
		if json.Valid(data) {
			docs = append(docs, manifest.Document{APIVersion: APIVersionPolicy, Kind: Kind, Raw: data})
		}
		load := FromDocuments(docs)
		for _, p := range load.Policies {
			if errs := Validate(p.PSP); len(errs) != 0 {
				t.Errorf("returned an invalid policy: %v", errs)
			}
		}
		for _, err := range append(load.Errors, load.Warnings...) {
			var e *manifest.Error
			if !errors.As(err, &e) {
				t.Errorf("problem is not a *manifest.Error: %v", err)
			}
		}
	})
}
