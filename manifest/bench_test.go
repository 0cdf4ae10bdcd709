package manifest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchPSP is a PodSecurityPolicy of typical size (about 40 lines).
const benchPSP = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: psp-%d
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: 'docker/default,runtime/default'
    apparmor.security.beta.kubernetes.io/allowedProfileNames: 'runtime/default'
spec:
  privileged: false
  allowPrivilegeEscalation: false
  requiredDropCapabilities:
    - ALL
  volumes:
    - 'configMap'
    - 'emptyDir'
    - 'projected'
    - 'secret'
    - 'downwardAPI'
    - 'persistentVolumeClaim'
  hostNetwork: false
  hostIPC: false
  hostPID: false
  runAsUser:
    rule: 'MustRunAsNonRoot'
  seLinux:
    rule: 'RunAsAny'
  supplementalGroups:
    rule: 'MustRunAs'
    ranges:
      - min: 1
        max: 65535
  fsGroup:
    rule: 'MustRunAs'
    ranges:
      - min: 1
        max: 65535
  readOnlyRootFilesystem: false
`

// writeBenchStream writes n PSPs as one multi-document YAML stream.
func writeBenchStream(b *testing.B, n int) string {
	b.Helper()
	var sb strings.Builder
	for i := range n {
		sb.WriteString("---\n")
		fmt.Fprintf(&sb, benchPSP, i)
	}
	path := filepath.Join(b.TempDir(), "stream.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkRead reads a 10,000-document YAML stream, as a cluster dump
// split into files would give.
func BenchmarkRead(b *testing.B) {
	const n = 10000
	path := writeBenchStream(b, n)
	b.ResetTimer()
	for range b.N {
		docs, errs := Read([]string{path}, nil)
		if len(docs) != n || len(errs) != 0 {
			b.Fatalf("read %d documents, %d errors", len(docs), len(errs))
		}
	}
}

// BenchmarkReadYAMLList reads a 10,000-item List as kubectl get -o yaml
// prints it: one YAML document.
func BenchmarkReadYAMLList(b *testing.B) {
	const n = 10000
	var sb strings.Builder
	sb.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	for i := range n {
		for j, line := range strings.Split(strings.TrimSuffix(fmt.Sprintf(benchPSP, i), "\n"), "\n") {
			if j == 0 {
				sb.WriteString("- ")
			} else {
				sb.WriteString("  ")
			}
			sb.WriteString(line + "\n")
		}
	}
	path := filepath.Join(b.TempDir(), "list.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		docs, errs := Read([]string{path}, nil)
		if len(docs) != n || len(errs) != 0 {
			b.Fatalf("read %d documents, %d errors", len(docs), len(errs))
		}
	}
}

// BenchmarkReadJSONList reads a 10,000-item List as kubectl get -o json
// prints it.
func BenchmarkReadJSONList(b *testing.B) {
	const n = 10000
	stream, errs := Read([]string{writeBenchStream(b, n)}, nil)
	if len(errs) != 0 {
		b.Fatal(errs)
	}
	items := make([]json.RawMessage, len(stream))
	for i, d := range stream {
		items[i] = d.Raw
	}
	list, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "    ")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "list.json")
	if err := os.WriteFile(path, list, 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		docs, errs := Read([]string{path}, nil)
		if len(docs) != n || len(errs) != 0 {
			b.Fatalf("read %d documents, %d errors", len(docs), len(errs))
		}
	}
}
