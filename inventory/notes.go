package inventory

import (
	"encoding/json"
	"fmt"

	"github.com/psp2psa/psp2psa/manifest"
)

// Annotations a psp2psa snapshot puts on its List: what the read of the
// cluster could not see, and its warnings, each a JSON array of strings.
// The manifest reader gives every item of the List its annotations
// (manifest.Document.ListAnnotations), so the record travels with the
// objects whether the snapshot is read from a path, a directory or
// standard input.
const (
	IncompleteAnnotation = "psp2psa.io/incomplete"
	WarningsAnnotation   = "psp2psa.io/warnings"
	// ServerVersionAnnotation is the version of the cluster the snapshot
	// was read from: plans from it are for that server by default.
	ServerVersionAnnotation = "psp2psa.io/server-version"
)

// listKey names one List of the input: the file and document it was read
// from.
type listKey struct {
	file  string
	index int
}

// addListNotes records, once per List, what its annotations say the read
// missed and warned about.
func (b *builder) addListNotes(d *manifest.Document) {
	key := listKey{d.Source.File, d.Source.Index}
	if b.lists[key] {
		return
	}
	b.lists[key] = true
	if v := d.ListAnnotations[ServerVersionAnnotation]; v != "" && b.inv.ServerVersion == "" {
		b.inv.ServerVersion = v
	}
	list := manifest.Source{File: d.Source.File, Index: d.Source.Index}
	for _, a := range []struct {
		key  string
		into *[]string
	}{{IncompleteAnnotation, &b.inv.Incomplete}, {WarningsAnnotation, &b.inv.Warnings}} {
		value, ok := d.ListAnnotations[a.key]
		if !ok {
			continue
		}
		var messages []string
		if err := json.Unmarshal([]byte(value), &messages); err != nil {
			b.errs = append(b.errs, &manifest.Error{
				Source: list, Object: "List", Field: "metadata.annotations[" + a.key + "]",
				Err: fmt.Errorf("want a JSON array of strings: %w", err),
			})
			continue
		}
		*a.into = appendNew(*a.into, messages)
	}
}

// appendNew appends the messages not yet in list: a snapshot named twice
// records its read once.
func appendNew(list, messages []string) []string {
	for _, m := range messages {
		if !containsString(list, m) {
			list = append(list, m)
		}
	}
	return list
}
