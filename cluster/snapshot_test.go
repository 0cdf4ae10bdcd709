package cluster

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
)

// snapshotObjects are objects whose YAML is easy to get wrong once it is
// shifted into a list item: multi-line strings (block scalars), blank and
// whitespace-only lines, strings that look like other YAML, and numbers.
var snapshotObjects = []string{
	`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"plain"}}`,
	`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"blocks","namespace":"ns"},"data":{
		"script":"#!/bin/sh\nset -e\n\n  indented\n\techo done\n",
		"trailing":"line with trailing spaces   \n   \nnext\n",
		"noEOL":"a\nb",
		"crlf":"a\r\nb\r\n",
		"dash":"- not a list item",
		"colon":"key: value",
		"hash":"# not a comment",
		"yes":"yes", "octal":"0777", "null":"null", "empty":"",
		"long":"` + strings.Repeat("word ", 60) + `"}}`,
	`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns","annotations":{"kubernetes.io/psp":"restricted","multi":"x\ny"}},
		"spec":{"securityContext":{"runAsUser":9223372036854775807,"fsGroup":0},"containers":[{"name":"c","image":"i","args":["-c","a\n\nb"]}],
		"terminationGracePeriodSeconds":30}}`,
}

func TestSnapshotRoundTripsThroughManifestRead(t *testing.T) {
	res := &Result{ServerVersion: "v1.24.17"}
	for i, raw := range snapshotObjects {
		res.Documents = append(res.Documents, docFromJSON(t, i, raw))
	}
	var buf bytes.Buffer
	s := &Snapshot{Result: res, Cluster: "kind-test", Taken: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	docs, errs := manifest.Read([]string{manifest.Stdin}, &buf)
	if len(errs) > 0 {
		t.Fatalf("reading the snapshot back: %v\n%s", errs, buf.String())
	}
	if len(docs) != len(res.Documents) {
		t.Fatalf("read back %d documents, wrote %d", len(docs), len(res.Documents))
	}
	for i, got := range docs {
		want := res.Documents[i]
		if got.APIVersion != want.APIVersion || got.Kind != want.Kind || got.Name != want.Name || got.Namespace != want.Namespace {
			t.Errorf("document %d: identity %s %s, want %s %s", i, got.APIVersion, got.Object(), want.APIVersion, want.Object())
		}
		if !sameJSON(t, got.Raw, want.Raw) {
			t.Errorf("document %d (%s) changed:\n got %s\nwant %s", i, want.Object(), got.Raw, want.Raw)
		}
	}
}

func TestSnapshotHeaderRecordsWhatTheReadMissed(t *testing.T) {
	res := &Result{
		ServerVersion: "v1.24.17",
		Incomplete:    []string{"rbac.authorization.k8s.io/v1 rolebindings: forbidden"},
		Warnings:      []string{"cannot read x: forbidden\nsecond line: kind: Pod"},
	}
	var buf bytes.Buffer
	s := &Snapshot{Result: res, Cluster: "prod", Namespace: "team-a", Taken: time.Date(2026, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 7200))}
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := "# psp2psa snapshot of prod (Kubernetes v1.24.17), namespace team-a, taken 2026-05-01T10:00:00Z\n" +
		"# 0 objects. Plan from it with: psp2psa plan --from-snapshot FILE\n" +
		"# incomplete: rbac.authorization.k8s.io/v1 rolebindings: forbidden\n" +
		"# warning: cannot read x: forbidden second line: kind: Pod\n" +
		"apiVersion: v1\nkind: List\nmetadata:\n  annotations:\n" +
		"    psp2psa.io/cluster: prod\n" +
		"    psp2psa.io/incomplete: '[\"rbac.authorization.k8s.io/v1 rolebindings: forbidden\"]'\n" +
		"    psp2psa.io/namespace: team-a\n" +
		"    psp2psa.io/server-version: v1.24.17\n" +
		"    psp2psa.io/taken: \"2026-05-01T10:00:00Z\"\n" +
		"    psp2psa.io/warnings: '[\"cannot read x: forbidden\\nsecond line: kind: Pod\"]'\n" +
		"items: []\n"
	if buf.String() != want {
		t.Errorf("snapshot:\n%s\nwant:\n%s", buf.String(), want)
	}
	docs, errs := manifest.Read([]string{manifest.Stdin}, &buf)
	if len(docs) != 0 || len(errs) != 0 {
		t.Errorf("an empty snapshot reads as %d documents, errors %v", len(docs), errs)
	}
}

func docFromJSON(t *testing.T, i int, raw string) manifest.Document {
	t.Helper()
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct{ Name, Namespace string }
	}
	if err := json.Unmarshal([]byte(raw), &meta); err != nil {
		t.Fatalf("object %d: %v", i, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(raw)); err != nil {
		t.Fatalf("object %d: %v", i, err)
	}
	return manifest.Document{
		Source:     manifest.Source{File: "cluster test", Index: i},
		APIVersion: meta.APIVersion, Kind: meta.Kind, Name: meta.Metadata.Name, Namespace: meta.Metadata.Namespace,
		Raw: compact.Bytes(),
	}
}

// sameJSON compares two JSON values, keeping integers exact.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	decode := func(raw []byte) any {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("decoding %s: %v", raw, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}

// TestSnapshotRecordsWhatTheReadMissedAsData: what the read missed and
// warned about is on the List, so every object read back carries it,
// however its messages look (line breaks, text that looks like a comment),
// and the inventory gives it back exactly.
func TestSnapshotRecordsWhatTheReadMissedAsData(t *testing.T) {
	res := &Result{
		ServerVersion: "v1.24.17",
		Documents:     []manifest.Document{docFromJSON(t, 0, snapshotObjects[0]), docFromJSON(t, 1, snapshotObjects[2])},
		Incomplete:    []string{"rbac.authorization.k8s.io/v1 roles: forbidden", "v1 pods in namespace a: forbidden"},
		Warnings:      []string{"cannot read v1 pods in namespace a: pods is forbidden", "the server warns: # incomplete: not really\nkind: Pod", strings.Repeat("long ", 40)},
	}
	var buf bytes.Buffer
	if err := (&Snapshot{Result: res, Cluster: "c", Taken: time.Now()}).Write(&buf); err != nil {
		t.Fatal(err)
	}
	docs, errs := manifest.Read([]string{manifest.Stdin}, &buf)
	if len(errs) > 0 || len(docs) != 2 {
		t.Fatalf("read back %d documents, errors %v", len(docs), errs)
	}
	inv, errs := inventory.FromDocuments(docs, "")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if !reflect.DeepEqual(inv.Incomplete, res.Incomplete) || !reflect.DeepEqual(inv.Warnings, res.Warnings) {
		t.Errorf("read back incomplete %q and warnings %q, want %q and %q", inv.Incomplete, inv.Warnings, res.Incomplete, res.Warnings)
	}
}
