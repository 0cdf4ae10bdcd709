// Package nslabels puts planned Pod Security labels on the namespaces of a
// live cluster, safely: it touches only pod-security.kubernetes.io/ labels,
// keeps values already set unless told to overwrite them, sends nothing
// when nothing would change, and dry-runs every patch on the server first
// so the PodSecurity admission plugin can say which existing pods the new
// enforce level would reject.
package nslabels

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/psp2psa/psp2psa/pss"
)

// Prefix is the prefix of every label this package may set.
const Prefix = pss.LabelPrefix

// Action is what happens to one planned label.
type Action string

// Actions, one per planned label.
const (
	// Add sets a label the namespace does not carry.
	Add Action = "add"
	// Change replaces a different live value (only with overwrite).
	Change Action = "change"
	// Keep leaves a different live value in place (without overwrite).
	Keep Action = "keep"
	// Equal is a label that already has the planned value.
	Equal Action = "equal"
)

// LabelChange is one planned label compared with the live namespace.
type LabelChange struct {
	Key     string `json:"key"`
	Action  Action `json:"action"`
	Planned string `json:"planned"`
	// Live is the value on the cluster; empty for Add.
	Live string `json:"live,omitempty"`
}

// Diff compares the planned labels with the namespace's live labels, one
// entry per planned pod-security.kubernetes.io/ key, sorted by key. Planned
// keys without that prefix are ignored: this package never sets them. A live
// value that differs is kept unless overwrite is set.
func Diff(live, planned map[string]string, overwrite bool) []LabelChange {
	keys := make([]string, 0, len(planned))
	for k := range planned {
		if strings.HasPrefix(k, Prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]LabelChange, 0, len(keys))
	for _, k := range keys {
		c := LabelChange{Key: k, Planned: planned[k]}
		current, ok := live[k]
		switch {
		case !ok:
			c.Action = Add
		case current == c.Planned:
			c.Action, c.Live = Equal, current
		case overwrite:
			c.Action, c.Live = Change, current
		default:
			c.Action, c.Live = Keep, current
		}
		out = append(out, c)
	}
	return out
}

// ToSet returns the labels a patch must set: the Add and Change entries.
// It is empty when the namespace already carries what the plan allows.
func ToSet(changes []LabelChange) map[string]string {
	out := map[string]string{}
	for _, c := range changes {
		if c.Action == Add || c.Action == Change {
			out[c.Key] = c.Planned
		}
	}
	return out
}

// MergePatch is the JSON merge patch (RFC 7386) that sets labels and
// nothing else. A merge patch only names the keys it changes, so every other
// label and field stays as it is on the server. With a resourceVersion the
// server refuses the patch (409 Conflict) if the namespace changed since it
// was read, so a decision to keep or replace a live value is never made on
// stale labels.
func MergePatch(labels map[string]string, resourceVersion string) ([]byte, error) {
	for k := range labels {
		if !strings.HasPrefix(k, Prefix) {
			return nil, fmt.Errorf("label %q: only %s labels may be patched", k, Prefix)
		}
	}
	meta := map[string]any{"labels": labels}
	if resourceVersion != "" {
		meta["resourceVersion"] = resourceVersion
	}
	body, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return nil, fmt.Errorf("encoding the label patch: %w", err)
	}
	return body, nil
}
