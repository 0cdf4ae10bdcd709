package manifest

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	goyaml "go.yaml.in/yaml/v2"
)

// ordinaryYAMLToJSON converts a YAML document to the JSON that
// sigs.k8s.io/yaml.YAMLToJSONStrict makes of it, byte for byte, for the
// documents manifests are made of: a mapping whose keys are strings, with
// no merge keys, no repeated keys and no infinite or NaN numbers. It says
// false for anything else, and for every document the strict decoder
// refuses; the caller then converts the slow way, which also words the
// error.
//
// It is that function without its detour: the YAML parser's values are
// decoded into ordered mappings rather than Go maps with interface keys,
// and written as JSON directly rather than converted to string-keyed maps
// and encoded by reflection, which on a plan of many workloads is a
// quarter of the run.
func ordinaryYAMLToJSON(data []byte) ([]byte, bool) {
	if !startsWithKey(data) || bytes.Contains(data, []byte("<<")) { // a possible merge key
		return nil, false
	}
	var doc goyaml.MapSlice
	if err := goyaml.UnmarshalStrict(data, &doc); err != nil || len(doc) == 0 {
		// An error, or a document that is empty, null or "{}".
		return nil, false
	}
	w := jsonWriter{out: make([]byte, 0, len(data))}
	if !w.mapping(doc) {
		return nil, false
	}
	return w.out, true
}

// startsWithKey tells whether a document's content, past comments,
// directives and its "---", starts with what can only begin a mapping's
// first key or a scalar: a MapSlice also takes a list of key/value
// mappings, which must not pass for a mapping.
func startsWithKey(data []byte) bool {
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		if rest, ok := bytes.CutPrefix(line, []byte("---")); ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r') {
			line = rest
		} else if len(line) > 0 && line[0] == '%' {
			continue
		}
		line = bytes.TrimLeft(line, " \t\r")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		c := line[0]
		return c == '"' || c == '\'' || c == '_' || c == '.' || c == '/' || c == '{' ||
			('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
	}
	return false
}

// jsonWriter writes decoded YAML values as encoding/json.Marshal writes
// the maps, slices and scalars sigs.k8s.io/yaml hands it.
type jsonWriter struct {
	out []byte
}

func (w *jsonWriter) value(v any) bool {
	switch v := v.(type) {
	case nil:
		w.out = append(w.out, "null"...)
	case string:
		w.string(v)
	case bool:
		w.out = strconv.AppendBool(w.out, v)
	case int:
		w.out = strconv.AppendInt(w.out, int64(v), 10)
	case int64:
		w.out = strconv.AppendInt(w.out, v, 10)
	case uint64:
		w.out = strconv.AppendUint(w.out, v, 10)
	case float64:
		return w.float(v)
	case []any:
		return w.sequence(v)
	case goyaml.MapSlice:
		return w.mapping(v)
	default:
		return false
	}
	return true
}

// mapping writes the keys in byte order, as encoding/json sorts a map's.
func (w *jsonWriter) mapping(m goyaml.MapSlice) bool {
	keys := make([]string, len(m))
	for i, item := range m {
		k, ok := item.Key.(string)
		if !ok {
			return false
		}
		keys[i] = k
	}
	order := sortedOrder(keys)
	w.out = append(w.out, '{')
	for n, i := range order {
		if n > 0 {
			if keys[i] == keys[order[n-1]] {
				return false // a repeated key: the strict decoder words it
			}
			w.out = append(w.out, ',')
		}
		w.string(keys[i])
		w.out = append(w.out, ':')
		if !w.value(m[i].Value) {
			return false
		}
	}
	w.out = append(w.out, '}')
	return true
}

// sortedOrder is the indexes of keys in the keys' byte order.
func sortedOrder(keys []string) []int {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	if !slices.IsSorted(keys) {
		slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	}
	return order
}

func (w *jsonWriter) sequence(s []any) bool {
	w.out = append(w.out, '[')
	for i, v := range s {
		if i > 0 {
			w.out = append(w.out, ',')
		}
		if !w.value(v) {
			return false
		}
	}
	w.out = append(w.out, ']')
	return true
}

// string writes s quoted; a string with anything encoding/json escapes
// (controls, quotes, backslashes, <, >, &, non-ASCII) is left to it.
func (w *jsonWriter) string(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s) // a string always encodes
			w.out = append(w.out, quoted...)
			return
		}
	}
	w.out = append(w.out, '"')
	w.out = append(w.out, s...)
	w.out = append(w.out, '"')
}

// float writes f as encoding/json does; it has no JSON for Inf and NaN,
// where sigs.k8s.io/yaml fails.
func (w *jsonWriter) float(f float64) bool {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	encoded, _ := json.Marshal(f)
	w.out = append(w.out, encoded...)
	return true
}
