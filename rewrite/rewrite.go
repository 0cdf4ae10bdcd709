// Package rewrite applies field edits to Kubernetes manifest files and
// keeps everything else as it was: documents that are not edited come out
// byte for byte, and edited ones keep their comments, key order, quoting,
// indentation and blank lines wherever the edit does not reach.
//
// Documents are numbered as Span describes, the way package manifest
// numbers them. An edited YAML document is parsed with kyaml, edited as a
// node tree, re-encoded, and merged back into the original text line by
// line (see merge3), so only the lines the edit changes differ; should the
// merged text not parse to the edited data, the re-encoded document is
// written instead. In a JSON stream each edited value is rewritten as
// JSON, in its key order and indentation.
package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/psp2psa/psp2psa/manifest"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Set sets the field at Path, below the document root (or below the List
// item), to Value. Path elements are field names taken literally, or
// "[key=value]" to pick an existing list item, kyaml style:
// {"spec", "template", "spec", "containers", "[name=web]", "securityContext", "runAsNonRoot"}.
// Missing mappings on the way are created; missing list items are an
// error. Value is anything that encodes as JSON (bool, int64, string,
// []string, []int64, map[string]string, map[string]any, an API struct);
// maps are written with their keys sorted.
type Set struct {
	Path  []string
	Value any
}

// Delete removes the field at Path, if it is there, with the comments
// attached to it. Mappings the delete leaves empty are removed too
// ("annotations: {}" would mean the same). A missing list item on the way
// is an error, as for Set.
type Delete struct {
	Path []string
}

// Edit is the changes to one document of a file, or with Item to one item
// of the document's `kind: List`. Deletes apply before Sets.
type Edit struct {
	Document int
	Item     *int
	// Object is the object the edit is for; the edit is refused with a
	// *WrongObjectError when the document (or item) holds another.
	Object  Object
	Sets    []Set
	Deletes []Delete
}

// File returns data with the edits applied. Applying the same edits to the
// result returns it unchanged.
func File(data []byte, edits []Edit) ([]byte, error) {
	spans, err := manifest.Spans(data)
	if err != nil {
		return nil, err
	}
	byDoc := make(map[int][]Edit)
	for _, e := range edits {
		if e.Document < 0 || e.Document >= len(spans) {
			return nil, fmt.Errorf("document %d: %w", e.Document, noSuchDocument(len(spans)))
		}
		byDoc[e.Document] = append(byDoc[e.Document], e)
	}
	// The file's list style is looked up at most once, for documents
	// that show none of their own.
	fileWide := sync.OnceValue(func() bool {
		wide, _ := listsIndented(string(data))
		return wide
	})
	var out bytes.Buffer
	out.Grow(len(data))
	pos := 0
	for _, s := range spans {
		docEdits, ok := byDoc[s.Index]
		if !ok {
			continue
		}
		text := string(data[s.Start:s.End])
		var err error
		switch {
		case s.JSON:
			text, err = rewriteJSON(text, docEdits)
		case s.MarkerContent:
			err = fmt.Errorf("content on the document's --- line is not supported for rewriting")
		default:
			text, err = rewriteDocument(text, fileWide, docEdits)
		}
		if err != nil {
			return nil, fmt.Errorf("document %d (line %d): %w", s.Index, s.Line, err)
		}
		out.Write(data[pos:s.Start])
		out.WriteString(text)
		pos = s.End
	}
	out.Write(data[pos:])
	return out.Bytes(), nil
}

func noSuchDocument(n int) error {
	if n == 0 {
		return fmt.Errorf("the file has no documents")
	}
	return fmt.Errorf("the file has documents 0 to %d", n-1)
}

// rewriteDocument applies edits to one YAML document's text. fileWide is
// the list style of the whole file, for a document that shows none.
func rewriteDocument(text string, fileWide func() bool, edits []Edit) (string, error) {
	crlf := strings.Contains(text, "\r\n")
	ours := text
	if strings.ContainsAny(text, "\r\u0085\u2028\u2029") {
		ours = lineBreaks.Replace(text) // the replacer copies even what it leaves alone
	}
	noFinalNewline := !strings.HasSuffix(ours, "\n")
	if noFinalNewline {
		ours += "\n" // the encoder ends every document with one
	}
	l := deriveLayout(ours, fileWide)
	// A document written as it re-encodes is read without yaml.v3, and is
	// its own base.
	doc, canonical := quickParse(ours, l)
	base := ours
	if !canonical {
		var err error
		if doc, err = parseDocument(ours); err != nil {
			return "", err
		}
		if base, err = encode(doc, l); err != nil {
			return "", err
		}
	}
	if err := applyEdits(doc, edits); err != nil {
		return "", err
	}
	theirs, err := encode(doc, l)
	if err != nil {
		return "", err
	}
	if theirs == base {
		return text, nil
	}
	// Where the original reads as it re-encodes, the merge is the edited
	// encoding itself; and a merge that came out as the edited encoding
	// needs no check, as that is what a failed check falls back to.
	merged := theirs
	if ours != base {
		merged = merge3(base, ours, theirs)
		if merged != theirs && !sameText(merged, doc) {
			merged = theirs // the merge misplaced something: keep the edit, lose the original's look
		}
	}
	if noFinalNewline {
		merged = strings.TrimSuffix(merged, "\n")
	}
	if crlf {
		merged = strings.ReplaceAll(merged, "\n", "\r\n")
	}
	return merged, nil
}

// lineBreaks turns every YAML 1.1 line break (as package manifest splits
// lines) into "\n", which the encoder and the line merge work with: an
// edited document keeps CRLF, but lone CR, NEL, LS and PS become "\n".
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

// parseDocument parses one YAML document into its document node.
func parseDocument(text string) (*yaml.Node, error) {
	rn, err := yaml.Parse(text)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("the document is empty")
	}
	if err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	doc := rn.Document()
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the document is not a mapping")
	}
	return doc, nil
}

// sameText tells whether text parses to the same data as doc.
func sameText(text string, doc *yaml.Node) bool {
	parsed, err := parseDocument(text)
	return err == nil && sameValue(parsed, doc)
}

// applyEdits applies edits to a document node, in order.
func applyEdits(doc *yaml.Node, edits []Edit) error {
	for _, e := range edits {
		target, err := editTarget(doc.Content[0], e.Item)
		if err != nil {
			return err
		}
		if err := checkObject(target, e.Object); err != nil {
			return err
		}
		for _, d := range e.Deletes {
			if err := applyDelete(target, d); err != nil {
				return err
			}
		}
		for _, s := range e.Sets {
			if err := applySet(target, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// editTarget is the object an edit applies to: the document's root, or
// one item of its List.
func editTarget(root *yaml.Node, item *int) (*yaml.Node, error) {
	if item == nil {
		return root, nil
	}
	i := keyIndex(root, "items")
	if i < 0 || root.Content[i+1].Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("item %d: the document has no items list", *item)
	}
	items := root.Content[i+1].Content
	if *item < 0 || *item >= len(items) {
		return nil, fmt.Errorf("item %d: the list has %d items", *item, len(items))
	}
	if items[*item].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("item %d: is a %s, not an object", *item, kindName(items[*item]))
	}
	return items[*item], nil
}

// rewriteJSON applies edits to one JSON value's text. A value the edits
// do not change keeps its text.
func rewriteJSON(text string, edits []Edit) (string, error) {
	doc, err := parseDocument(text)
	if err != nil {
		return "", err
	}
	var before bytes.Buffer
	if err := writeJSON(&before, doc); err != nil {
		return "", err
	}
	if err := applyEdits(doc, edits); err != nil {
		return "", err
	}
	var after bytes.Buffer
	if err := writeJSON(&after, doc); err != nil {
		return "", err
	}
	if bytes.Equal(before.Bytes(), after.Bytes()) {
		return text, nil
	}
	out, err := encodeJSON(doc, []byte(text))
	if err != nil {
		return "", err
	}
	if strings.Contains(text, "\r\n") {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	}
	return string(out), nil
}
