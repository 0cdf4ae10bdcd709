package manifest

import (
	"regexp"
	"strconv"
	"strings"

	kjson "sigs.k8s.io/json"
)

// DuplicateKeyError is a mapping that names a key twice. YAML and JSON
// decoders keep the last value, so a "privileged: true" written first
// would silently vanish, and two objects concatenated without "---" would
// read as one: the apiserver's strict field validation refuses both, and
// so does the reader.
type DuplicateKeyError struct {
	Keys []DuplicateKey
}

// DuplicateKey is one repeated key: its name (a path for JSON) and the
// file line of the repetition (0 when unknown).
type DuplicateKey struct {
	Key  string
	Line int
}

func (e *DuplicateKeyError) Error() string {
	parts := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		parts[i] = strconv.Quote(k.Key)
		if k.Line > 0 {
			parts[i] += " at line " + strconv.Itoa(k.Line)
		}
	}
	msg := "duplicate key " + strings.Join(parts, ", ") + ": only the last value would be read"
	if e.Keys[0].Key == "apiVersion" || e.Keys[0].Key == "kind" {
		msg += " (two objects without a \"---\" between them?)"
	}
	return msg
}

var yamlDuplicateKey = regexp.MustCompile(`line (\d+): key "((?:[^"\\]|\\.)*)" already set in map`)

// yamlDuplicateKeys turns the strict YAML decoder's duplicate-key errors
// into a *DuplicateKeyError with file lines; nil when err is another.
func yamlDuplicateKeys(err error, startLine int) *DuplicateKeyError {
	matches := yamlDuplicateKey.FindAllStringSubmatch(err.Error(), -1)
	if len(matches) == 0 {
		return nil
	}
	e := &DuplicateKeyError{}
	for _, m := range matches {
		line, _ := strconv.Atoi(m[1])
		key, uerr := strconv.Unquote(`"` + m[2] + `"`)
		if uerr != nil {
			key = m[2]
		}
		e.Keys = append(e.Keys, DuplicateKey{Key: key, Line: startLine + line - 1})
	}
	return e
}

// jsonDuplicateKeys finds repeated keys in a JSON object, with their
// paths; nil when there are none or the value does not decode.
func jsonDuplicateKeys(raw []byte) *DuplicateKeyError {
	var v any
	strictErrs, err := kjson.UnmarshalStrict(raw, &v)
	if err != nil {
		return nil
	}
	e := &DuplicateKeyError{}
	for _, se := range strictErrs {
		msg := se.Error()
		if path, ok := strings.CutPrefix(msg, "duplicate field "); ok {
			if unq, err := strconv.Unquote(path); err == nil {
				path = unq
			}
			e.Keys = append(e.Keys, DuplicateKey{Key: path})
		}
	}
	if len(e.Keys) == 0 {
		return nil
	}
	return e
}

// yamlError is the error of a document the strict YAML decoder refused.
func yamlError(err error, startLine int) error {
	if dup := yamlDuplicateKeys(err, startLine); dup != nil {
		return dup
	}
	return yamlSyntaxError(err, startLine)
}

// duplicateKeys finds repeated keys in an object read from a JSON stream:
// among its own members, and inside each member or List item.
func (t *topLevel) duplicateKeys() *DuplicateKeyError {
	e := &DuplicateKeyError{}
	seen := make(map[string]bool, len(t.fields))
	for _, f := range t.fields {
		if seen[f.key] {
			e.Keys = append(e.Keys, DuplicateKey{Key: f.key})
		}
		seen[f.key] = true
		if dup := jsonDuplicateKeys(f.value); dup != nil {
			e.Keys = append(e.Keys, prefixed(f.key, dup.Keys)...)
		}
	}
	for i, item := range t.items {
		if dup := jsonDuplicateKeys(item); dup != nil {
			e.Keys = append(e.Keys, prefixed("items["+strconv.Itoa(i)+"]", dup.Keys)...)
		}
	}
	if len(e.Keys) == 0 {
		return nil
	}
	return e
}

func prefixed(prefix string, keys []DuplicateKey) []DuplicateKey {
	out := make([]DuplicateKey, len(keys))
	for i, k := range keys {
		out[i] = DuplicateKey{Key: prefix + "." + k.Key, Line: k.Line}
	}
	return out
}
