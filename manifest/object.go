package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	kjson "sigs.k8s.io/json"
)

// identity is what a Document records about its object besides the JSON.
type identity struct {
	apiVersion, kind, name, namespace string
}

// fieldError is a problem with one field of an object's identity.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }

// topLevel is one document's object as far as reading needs it: its
// identity and, when it has an array "items", the items.
type topLevel struct {
	identity
	hasItems  bool
	itemsType string // what "items" held when it was not an array
	items     []json.RawMessage
	// fields keeps every other member in order, so that an object read
	// from a stream can be put back together without keeping its text.
	fields []rawField
}

type rawField struct {
	key   string
	value json.RawMessage
}

// isList follows kubectl: kind List, or any kind ending in "List" that
// carries an items array (PodSecurityPolicyList, RoleBindingList, ...).
func (t *topLevel) isList() bool {
	return t.kind == "List" || (strings.HasSuffix(t.kind, "List") && (t.hasItems || t.itemsType != ""))
}

// raw rebuilds the object's JSON from its members.
func (t *topLevel) raw() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range t.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(f.key)
		b.Write(key)
		b.WriteByte(':')
		if f.value == nil { // the items array, kept as elements
			b.WriteByte('[')
			for j, item := range t.items {
				if j > 0 {
					b.WriteByte(',')
				}
				b.Write(item)
			}
			b.WriteByte(']')
			continue
		}
		b.Write(f.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// addPlainObject adds a document that is an object and not a List, whose
// JSON is js, as addObject does, without walking its members one by one;
// it reports false for anything else, which readTopLevel then reads.
func (r *reader) addPlainObject(src Source, js []byte) bool {
	if len(js) == 0 || js[0] != '{' {
		return false
	}
	apiVersion, kind, metadata, ok := sortedIdentity(js)
	if !ok {
		var fields struct {
			APIVersion json.RawMessage `json:"apiVersion"`
			Kind       json.RawMessage `json:"kind"`
			Metadata   json.RawMessage `json:"metadata"`
		}
		if kjson.UnmarshalCaseSensitivePreserveInts(js, &fields) != nil {
			return false
		}
		apiVersion, kind, metadata = fields.APIVersion, fields.Kind, fields.Metadata
	}
	id, err := identityOf(apiVersion, kind, metadata)
	if err != nil || strings.HasSuffix(id.kind, "List") {
		return false // readTopLevel reports it, or reads the List
	}
	t := topLevel{identity: id}
	r.addObject(src, &t, js, nil)
	return true
}

// sortedIdentity reads the values of apiVersion, kind and metadata from
// an object written as json.Marshal writes a map, compact with its keys
// sorted (as YAML documents are converted): it stops at the first key
// after "metadata", before the bulk of the object. ok is false for text
// it does not read so (an escaped key, keys out of order), which is then
// decoded whole.
func sortedIdentity(js []byte) (apiVersion, kind, metadata json.RawMessage, ok bool) {
	if len(js) < 2 || js[0] != '{' {
		return nil, nil, nil, false
	}
	var prev []byte
	for i := 1; i < len(js); {
		if js[i] == '}' {
			return apiVersion, kind, metadata, true
		}
		if js[i] != '"' {
			return nil, nil, nil, false
		}
		end := bytes.IndexByte(js[i+1:], '"')
		if end < 0 {
			return nil, nil, nil, false
		}
		key := js[i+1 : i+1+end]
		if bytes.IndexByte(key, '\\') >= 0 || (prev != nil && bytes.Compare(key, prev) <= 0) {
			return nil, nil, nil, false
		}
		if string(key) > "metadata" {
			return apiVersion, kind, metadata, true
		}
		prev = key
		i += end + 2
		if i >= len(js) || js[i] != ':' {
			return nil, nil, nil, false
		}
		i++
		vend := skipJSONValue(js, i)
		if vend < 0 {
			return nil, nil, nil, false
		}
		switch string(key) {
		case "apiVersion":
			apiVersion = js[i:vend]
		case "kind":
			kind = js[i:vend]
		case "metadata":
			metadata = js[i:vend]
		}
		i = vend
		if i < len(js) && js[i] == ',' {
			i++
		}
	}
	return nil, nil, nil, false
}

// skipJSONValue returns the offset after the compact JSON value that
// starts at i, or -1.
func skipJSONValue(js []byte, i int) int {
	depth := 0
	for ; i < len(js); i++ {
		switch js[i] {
		case '"':
			for i++; i < len(js) && js[i] != '"'; i++ {
				if js[i] == '\\' {
					i++
				}
			}
			if i >= len(js) {
				return -1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
		if depth == 0 && (js[i] == '"' || js[i] == '}' || js[i] == ']') {
			return i + 1
		}
	}
	if depth == 0 {
		return i
	}
	return -1
}

// addObject turns one document into Documents: itself, or its items when
// it is a List. raw is the document's JSON; nil means rebuild it from obj.
// itemLines are the file lines of the items, or nil when unknown.
func (r *reader) addObject(src Source, obj *topLevel, raw []byte, itemLines []int) {
	if !obj.isList() {
		if obj.kind == "" {
			r.fail(src, "", "kind", errors.New("the object has no kind"))
			return
		}
		if raw == nil {
			raw = obj.raw()
		}
		r.docs = append(r.docs, obj.document(src, raw))
		return
	}
	if obj.itemsType != "" {
		r.fail(src, obj.document(src, nil).Object(), "items", fmt.Errorf("expected a list, got %s", obj.itemsType))
		return
	}
	if len(itemLines) != len(obj.items) {
		itemLines = nil
	}
	first := len(r.docs)
	for i, item := range obj.items {
		r.addItem(itemSource(src, i, itemLines), item)
	}
	obj.annotateItems(r.docs[first:])
}

// annotateItems gives the documents read from the list's items the list's
// annotations. Annotations that do not decode are left out: a List's
// metadata is a ListMeta, which has none, so only psp2psa's own lists carry
// them.
func (t *topLevel) annotateItems(items []Document) {
	for _, f := range t.fields {
		if f.key != "metadata" {
			continue
		}
		var meta struct {
			Annotations map[string]string `json:"annotations"`
		}
		if json.Unmarshal(f.value, &meta) != nil || len(meta.Annotations) == 0 {
			return
		}
		for i := range items {
			items[i].ListAnnotations = meta.Annotations
		}
	}
}

func itemSource(list Source, i int, lines []int) Source {
	src := list
	src.Item = &i
	if lines != nil {
		src.Line = lines[i]
	}
	return src
}

// addItem adds one item of a List. Items inherit nothing from the list;
// an item without a kind (as in raw API list responses) is an error.
func (r *reader) addItem(src Source, raw []byte) {
	if kind := describeJSON(raw); kind != "an object" {
		r.fail(src, "", "", fmt.Errorf("the list item is not an object but %s", kind))
		return
	}
	var fields struct {
		APIVersion json.RawMessage `json:"apiVersion"`
		Kind       json.RawMessage `json:"kind"`
		Metadata   json.RawMessage `json:"metadata"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &fields); err != nil {
		r.fail(src, "", "", fmt.Errorf("decoding the list item: %w", err))
		return
	}
	id, err := identityOf(fields.APIVersion, fields.Kind, fields.Metadata)
	if err != nil {
		r.failField(src, err)
		return
	}
	if id.kind == "" {
		r.fail(src, "", "kind", errors.New("the list item has no kind (raw API list responses omit it; kubectl get -o yaml/json sets it)"))
		return
	}
	doc := Document{Source: src, APIVersion: id.apiVersion, Kind: id.kind, Name: id.name, Namespace: id.namespace, Raw: raw}
	r.docs = append(r.docs, doc)
}

func (r *reader) failField(src Source, err error) {
	var fe *fieldError
	if errors.As(err, &fe) {
		r.fail(src, "", fe.field, fe.err)
		return
	}
	r.fail(src, "", "", err)
}

func (t *topLevel) document(src Source, raw []byte) Document {
	return Document{Source: src, APIVersion: t.apiVersion, Kind: t.kind, Name: t.name, Namespace: t.namespace, Raw: raw}
}

// notObjectError is a document whose JSON value is not an object.
type notObjectError struct{ what string }

func (e *notObjectError) Error() string { return "the document is not an object but " + e.what }

// newJSONDecoder makes the decoder readTopLevel needs: numbers are kept
// as written when a value is copied token by token.
func newJSONDecoder(r io.Reader) *json.Decoder {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec
}

// readTopLevel reads one JSON value from dec, walking its top-level
// members once: the identity fields are kept, "items" is split into its
// elements as they are read (a List of 100,000 objects is never held as
// one value), and everything else is kept raw. It returns nil, nil for
// null and io.EOF at the end of the input. A value that is not an object
// is consumed and reported as a *notObjectError. itemAt, when not nil, is
// told the input offset of each item as soon as it is read.
func readTopLevel(dec *json.Decoder, itemAt func(offset int64)) (*topLevel, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	obj, err := readObjectAfter(dec, tok, itemAt)
	if errors.Is(err, io.EOF) { // the input ended inside the value
		err = io.ErrUnexpectedEOF
	}
	return obj, err
}

func readObjectAfter(dec *json.Decoder, tok json.Token, itemAt func(offset int64)) (*topLevel, error) {
	switch tok := tok.(type) {
	case nil:
		return nil, nil
	case json.Delim:
		if tok != '{' {
			if err := skipRest(dec); err != nil {
				return nil, err
			}
			return nil, &notObjectError{"a list"}
		}
	default:
		return nil, &notObjectError{describeToken(tok)}
	}
	obj := &topLevel{}
	var apiVersion, kind, metadata json.RawMessage
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := keyTok.(string)
		if key == "items" {
			if err := obj.readItems(dec, itemAt); err != nil {
				return nil, err
			}
			continue
		}
		var value json.RawMessage
		if err := decodeRaw(dec, &value); err != nil {
			return nil, err
		}
		obj.fields = append(obj.fields, rawField{key, value})
		switch key {
		case "apiVersion":
			apiVersion = value
		case "kind":
			kind = value
		case "metadata":
			metadata = value
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	id, err := identityOf(apiVersion, kind, metadata)
	if err != nil {
		return nil, err
	}
	obj.identity = id
	return obj, nil
}

// readItems reads the value of "items" element by element. Anything but
// an array is noted in itemsType and kept as a field; whether it is an
// error depends on the kind, known only at the end of the object.
func (t *topLevel) readItems(dec *json.Decoder, itemAt func(offset int64)) error {
	t.hasItems, t.itemsType, t.items = false, "", nil
	t.fields = slices.DeleteFunc(t.fields, func(f rawField) bool { return f.key == "items" })
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		var value bytes.Buffer
		if err := copyValue(&value, dec, tok); err != nil {
			return err
		}
		if tok == nil {
			t.hasItems = true
		} else {
			t.itemsType = describeJSON(value.Bytes())
		}
		t.fields = append(t.fields, rawField{"items", value.Bytes()})
		return nil
	}
	t.hasItems = true
	t.fields = append(t.fields, rawField{key: "items"})
	for dec.More() {
		var item json.RawMessage
		if err := decodeRaw(dec, &item); err != nil {
			return err
		}
		t.items = append(t.items, item)
		if itemAt != nil {
			itemAt(dec.InputOffset() - int64(len(item)))
		}
	}
	_, err = dec.Token() // the closing bracket
	return err
}

// copyValue writes the JSON value that starts with tok, reading the rest
// of it from dec. The decoder must use json.Number, so that numbers keep
// their text.
func copyValue(b *bytes.Buffer, dec *json.Decoder, tok json.Token) error {
	switch tok := tok.(type) {
	case json.Delim:
		b.WriteByte(byte(tok))
		for n := 0; dec.More(); n++ {
			if n > 0 {
				b.WriteByte(',')
			}
			next, err := dec.Token()
			if err != nil {
				return err
			}
			if tok == '{' { // next is the key
				key, _ := json.Marshal(next)
				b.Write(key)
				b.WriteByte(':')
				if next, err = dec.Token(); err != nil {
					return err
				}
			}
			if err := copyValue(b, dec, next); err != nil {
				return err
			}
		}
		end, err := dec.Token()
		if err != nil {
			return err
		}
		b.WriteByte(byte(end.(json.Delim)))
	case json.Number:
		b.WriteString(tok.String())
	default: // string, bool, nil
		text, err := json.Marshal(tok)
		if err != nil {
			return err
		}
		b.Write(text)
	}
	return nil
}

// offsetError is a syntax error with its offset from the start of the
// input.
type offsetError struct {
	offset int64
	err    error
}

func (e *offsetError) Error() string { return e.err.Error() }
func (e *offsetError) Unwrap() error { return e.err }

// decodeRaw decodes the next value. The offsets in Decode's syntax errors
// are not positions in the input (the decoder's scanner counts across
// values), but after a failed Decode the input offset is where the value
// began and the unread buffer still holds the bad byte: scanning that
// again from a fresh decoder finds the position.
func decodeRaw(dec *json.Decoder, v *json.RawMessage) error {
	err := dec.Decode(v)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		return err
	}
	start := dec.InputOffset()
	var again json.RawMessage
	if errors.As(json.NewDecoder(dec.Buffered()).Decode(&again), &syn) {
		return &offsetError{start + syn.Offset - 1, err}
	}
	return &offsetError{start, err}
}

// skipRest consumes the rest of an object or array whose opening
// delimiter was just read.
func skipRest(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func describeToken(tok json.Token) string {
	switch tok := tok.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return fmt.Sprintf("a number (%s)", tok)
	case float64:
		return fmt.Sprintf("a number (%v)", tok)
	}
	return fmt.Sprintf("%v", tok)
}

// identityOf decodes apiVersion, kind and metadata.name/namespace, each
// of which must be a string when present.
func identityOf(apiVersion, kind, metadata json.RawMessage) (identity, error) {
	var id identity
	var err error
	if id.apiVersion, err = stringField("apiVersion", apiVersion); err != nil {
		return id, err
	}
	if id.kind, err = stringField("kind", kind); err != nil {
		return id, err
	}
	if isNull(metadata) {
		return id, nil
	}
	if describeJSON(metadata) != "an object" {
		return id, &fieldError{"metadata", fmt.Errorf("expected an object, got %s", describeJSON(metadata))}
	}
	var meta struct {
		Name      json.RawMessage `json:"name"`
		Namespace json.RawMessage `json:"namespace"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(metadata, &meta); err != nil {
		return id, &fieldError{"metadata", err}
	}
	if id.name, err = stringField("metadata.name", meta.Name); err != nil {
		return id, err
	}
	if id.namespace, err = stringField("metadata.namespace", meta.Namespace); err != nil {
		return id, err
	}
	return id, nil
}

func stringField(field string, raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &fieldError{field, fmt.Errorf("expected a string, got %s", describeJSON(raw))}
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}
