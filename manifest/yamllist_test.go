package manifest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// readBothWays reads input with the List fast path and without it.
func readBothWays(input string) (fast, whole []string) {
	render := func() []string {
		docs, errs := readStdin(input)
		out := summaries(docs)
		for _, d := range docs {
			out = append(out, string(d.Raw))
		}
		return append(out, errorStrings(errs)...)
	}
	fast = render()
	splitListItems = false
	defer func() { splitListItems = true }()
	return fast, render()
}

// TestListFastPathMatchesWholeDocument: converting a List item by item
// must give exactly what converting the document whole gives, for the
// layouts the fast path takes and for those it must refuse.
func TestListFastPathMatchesWholeDocument(t *testing.T) {
	const head = "apiVersion: v1\nkind: List\nitems:\n"
	tests := []struct {
		name  string
		input string
		split bool // whether splitYAMLList takes the layout
	}{
		{"kubectl layout", head + "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\nmetadata:\n  resourceVersion: \"\"\n", true},
		{"indented sequence", "kind: List\nitems:\n  - kind: A\n    metadata: {name: a}\n  - kind: B\n", true},
		{"comments and blank lines inside and between items", head + "# first\n- kind: A\n# inside, at column 0\n\n  metadata:\n      # deeper\n    name: a\n\n- kind: B # trailing\n", true},
		{"block scalar holding dashes and markers", head + "- kind: A\n  data:\n    script: |\n      - not an item\n      ---\n      ...\n    more: x\n- kind: B\n", true},
		{"compact nested sequence", head + "- kind: A\n  list:\n  - x\n  - y\n- kind: B\n", true},
		{"multi-line flow and plain scalars", head + "- kind: A\n  flow: {a: 1,\n    b: 2}\n  plain: one\n    two\n- kind: B\n", true},
		{"anchor and alias within one item", head + "- kind: A\n  a: &x 1\n  b: *x\n", true},
		{"CRLF line endings", strings.ReplaceAll(head+"- kind: A\n  metadata:\n    name: a\n- kind: B\n", "\n", "\r\n"), true},
		{"alias to another item falls back", head + "- kind: A\n  a: &x 1\n- kind: B\n  b: *x\n", true},
		{"alias to the envelope falls back", "meta: &m {name: a}\n" + head + "- kind: A\n  metadata: *m\n", true},
		{"bad indentation inside an item", head + "- kind: A\n   x: 1\n- kind: B\n", true},
		{"continuation left of the item's column", head + "- kind: A\n  flow: [a,\n b]\n", false},
		{"item with a tag", head + "- !0 !0\n", false},
		{"item that is a scalar", head + "- just text\n- kind: B\n", false},
		{"item that is a flow mapping", head + "- {kind: A}\n- kind: B\n", false},
		{"item that is a nested sequence", head + "- - kind: A\n", false},
		{"quoted first key", head + "- \"kind\": A\n", false},
		{"item opening on the next line", head + "-\n  kind: A\n", false},
		{"items key twice", head + "- kind: A\nitems:\n- kind: B\n", false},
		{"items that are not a List", "apiVersion: v1\nkind: Thing\nitems:\n- kind: A\n", true},
		{"typed list after its items", "items:\n- kind: A\n  metadata: {name: a}\napiVersion: policy/v1beta1\nkind: PodSecurityPolicyList\n", true},
		{"item without kind", head + "- metadata: {name: a}\n- kind: B\n", true},
		{"syntax error in an item", head + "- kind: A\n  x: [\n- kind: B\n", true},
		{"tab after the dash", head + "-\tkind: A\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, ok := splitYAMLList([]byte(tt.input), 1); ok != tt.split {
				t.Errorf("splitYAMLList took the layout: %v, want %v", ok, tt.split)
			}
			fast, whole := readBothWays(tt.input)
			if !reflect.DeepEqual(fast, whole) {
				t.Errorf("item by item:\n%s\nwhole document:\n%s", strings.Join(fast, "\n"), strings.Join(whole, "\n"))
			}
		})
	}
}

// TestListFastPathKeepsLines: item lines come from the item's own text.
func TestListFastPathKeepsLines(t *testing.T) {
	input := "# dump\n---\napiVersion: v1\nitems:\n- kind: A\n  metadata:\n    name: a\n\n# gap\n- kind: B\n  metadata:\n    name: b\nkind: List\n"
	docs, errs := readStdin(input)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if got, want := summaries(docs), []string{"0.0 L5 /A a", "0.1 L10 /B b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// The envelope keeps every line in place, so that its own errors
	// would name the right lines.
	envelope, items, ok := splitYAMLList([]byte(input), 1)
	if !ok || len(items) != 2 || bytes.Count(envelope, []byte("\n")) != bytes.Count([]byte(input), []byte("\n")) {
		t.Errorf("split: ok=%v, %d items, envelope %q", ok, len(items), envelope)
	}
}

// FuzzReadYAMLList puts arbitrary text inside the items of a List laid
// out as kubectl prints it, where the fast path applies, and checks that
// it gives what converting the whole document gives.
func FuzzReadYAMLList(f *testing.F) {
	f.Add("metadata:\n  name: a\n", "data:\n  s: |\n    - x\n    ---\n")
	f.Add("x: [1,\n 2]\n# c\n", "y: &a 1\nz: *a\n")
	f.Add("a: \"q\n#r\"\n", "\tb: 1\n")
	f.Add("list:\n- a\n- b\n", "   deep: 1\n")
	f.Fuzz(func(t *testing.T, first, second string) {
		indent := func(s string) string {
			lines := strings.SplitAfter(s, "\n")
			for i, l := range lines {
				if l != "" {
					lines[i] = "  " + l
				}
			}
			out := strings.Join(lines, "")
			if !strings.HasSuffix(out, "\n") {
				out += "\n"
			}
			return out
		}
		input := "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: A\n" + indent(first) +
			"- apiVersion: v1\n  kind: B\n" + indent(second) + "kind: List\nmetadata:\n  resourceVersion: \"\"\n"
		fast, whole := readBothWays(input)
		if !reflect.DeepEqual(fast, whole) {
			t.Errorf("input %q\nitem by item:\n%s\nwhole document:\n%s", input, strings.Join(fast, "\n"), strings.Join(whole, "\n"))
		}
	})
}
