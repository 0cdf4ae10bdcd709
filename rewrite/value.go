package rewrite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// valueNode turns a JSON-compatible Go value into a YAML node in block
// style. Strings that a YAML 1.1 reader (which Kubernetes' sigs.k8s.io/yaml
// is) would take for another type are double-quoted.
func valueNode(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: strconv.FormatBool(v)}, nil
	case int:
		return intNode(int64(v)), nil
	case int32:
		return intNode(int64(v)), nil
	case int64:
		return intNode(v), nil
	case float64:
		return floatNode(v)
	case string:
		return stringNode(v), nil
	case []string:
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		for _, s := range v {
			seq.Content = append(seq.Content, stringNode(s))
		}
		return seq, nil
	case []any:
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		for i, item := range v {
			n, err := valueNode(item)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			seq.Content = append(seq.Content, n)
		}
		return seq, nil
	case map[string]any:
		return mapNode(v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return intNode(i), nil
		}
		f, err := v.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", v, err)
		}
		return floatNode(f)
	}
	return viaJSON(v)
}

// viaJSON handles any other value that encodes as JSON ([]int64,
// map[string]string, API structs) by encoding it and building the node
// from the decoded form.
func viaJSON(v any) (*yaml.Node, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("value of type %T is not JSON-compatible: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep integers integers
	var decoded any
	if err := dec.Decode(&decoded); err != nil {
		return nil, fmt.Errorf("value of type %T: %w", v, err)
	}
	return valueNode(decoded)
}

func intNode(v int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: strconv.FormatInt(v, 10)}
}

// floatNode writes integral floats (as encoding/json decodes every number)
// as integers, so a value read from JSON keeps its Kubernetes type.
func floatNode(v float64) (*yaml.Node, error) {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil, fmt.Errorf("value %v is not JSON-compatible", v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return intNode(int64(v)), nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagFloat, Value: strconv.FormatFloat(v, 'g', -1, 64)}, nil
}

func stringNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s}
	if readsAsNonString(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// nonStrings remembers readsAsNonString's answers: a YAML 1.1 parse per
// string is costly, and a plan sets the same few strings again and again.
var nonStrings sync.Map // string -> bool

// readsAsNonString reports whether a YAML 1.1 reader takes the plain
// scalar s for another type than a string.
func readsAsNonString(s string) bool {
	if v, ok := nonStrings.Load(s); ok {
		return v.(bool)
	}
	nonString := yaml.IsYaml1_1NonString(&yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s})
	nonStrings.Store(s, nonString)
	return nonString
}

// mapNode builds a block mapping with its keys sorted, since Go maps have
// no order to keep.
func mapNode(m map[string]any) (*yaml.Node, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
	for _, k := range keys {
		n, err := valueNode(m[k])
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		out.Content = append(out.Content, stringNode(k), n)
	}
	return out, nil
}

// sameValue tells whether two nodes hold the same data, whatever their
// style, so that setting a field to the value it has leaves its text alone.
func sameValue(a, b *yaml.Node) bool {
	var va, vb any
	if a.Decode(&va) != nil || b.Decode(&vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
