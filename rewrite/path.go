package rewrite

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// A path element is either a field name, taken literally (annotation keys
// such as "seccomp.security.alpha.kubernetes.io/pod" are one element), or a
// list item selector "[key=value]" that picks the item of a list of
// mappings whose field key is the scalar value, kyaml style.
var selectorRE = regexp.MustCompile(`^\[([^=\]]+)=(.*)\]$`)

type selector struct{ key, value string }

func parseSelector(elem string) (selector, bool) {
	if !strings.HasPrefix(elem, "[") {
		return selector{}, false
	}
	m := selectorRE.FindStringSubmatch(elem)
	if m == nil {
		return selector{}, false
	}
	return selector{key: m[1], value: m[2]}, true
}

var plainFieldRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// FormatPath renders a path for messages:
// spec.template.spec.containers[name=web].securityContext, with keys that
// hold dots or slashes quoted: metadata.annotations["a.b/c"].
func FormatPath(path []string) string {
	var b strings.Builder
	for _, elem := range path {
		switch {
		case strings.HasPrefix(elem, "["):
			if _, ok := parseSelector(elem); ok {
				b.WriteString(elem)
			} else {
				b.WriteString("[" + strconv.Quote(elem) + "]")
			}
		case plainFieldRE.MatchString(elem):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(elem)
		default:
			b.WriteString("[" + strconv.Quote(elem) + "]")
		}
	}
	return b.String()
}

// frame is one field step taken while descending: mapping's field key was
// followed. Deletes walk the frames back to remove mappings they emptied.
type frame struct {
	mapping *yaml.Node
	key     string
}

// descend follows path from node and returns the node it names. A missing
// field yields nil, or with create a new block mapping (a null value such
// as "securityContext:" counts as missing); a missing list item is always
// an error, since creating one would invent a container.
func descend(node *yaml.Node, path []string, create bool) (*yaml.Node, []frame, error) {
	var frames []frame
	for i, elem := range path {
		if node.Kind == yaml.AliasNode {
			return nil, nil, fmt.Errorf("path %s: goes through an alias, which would edit the anchored node too", FormatPath(path[:i]))
		}
		if sel, ok := parseSelector(elem); ok {
			item, err := listItem(node, sel)
			if err != nil {
				return nil, nil, fmt.Errorf("path %s: %w", FormatPath(path[:i+1]), err)
			}
			node, frames = item, nil // never prune across a list item
			continue
		}
		child, err := field(node, elem, create)
		if err != nil {
			return nil, nil, fmt.Errorf("path %s: %w", FormatPath(path[:i]), err)
		}
		if child == nil {
			return nil, frames, nil
		}
		frames = append(frames, frame{mapping: node, key: elem})
		node = child
	}
	return node, frames, nil
}

func listItem(seq *yaml.Node, sel selector) (*yaml.Node, error) {
	if seq.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("is a %s, not a list", kindName(seq))
	}
	for _, item := range seq.Content {
		if item.Kind != yaml.MappingNode {
			continue
		}
		if i := keyIndex(item, sel.key); i >= 0 && item.Content[i+1].Kind == yaml.ScalarNode && item.Content[i+1].Value == sel.value {
			return item, nil
		}
	}
	return nil, fmt.Errorf("no list item with %s=%s", sel.key, sel.value)
}

// field returns the value of key in mapping m, creating it as a block
// mapping when create is set.
func field(m *yaml.Node, key string, create bool) (*yaml.Node, error) {
	if isNull(m) {
		if !create {
			return nil, nil
		}
		makeMapping(m)
	}
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("is a %s, not a mapping", kindName(m))
	}
	if i := keyIndex(m, key); i >= 0 {
		v := m.Content[i+1]
		if isNull(v) && !create {
			return nil, nil
		}
		return v, nil
	}
	if !create {
		return nil, nil
	}
	child := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
	appendField(m, key, child)
	return child, nil
}

func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// appendField adds key: value at the end of m. An empty flow mapping
// ("securityContext: {}") becomes a block mapping, so the new field is
// written like its neighbours and not as "{runAsNonRoot: true}". A comment
// below the last field (which usually introduces what follows the
// mapping) moves below the new one, so it stays where it was.
func appendField(m *yaml.Node, key string, value *yaml.Node) {
	keyNode := stringNode(key)
	if len(m.Content) == 0 {
		m.Style &^= yaml.FlowStyle
	} else if last := m.Content[len(m.Content)-2]; last.FootComment != "" {
		keyNode.FootComment, last.FootComment = last.FootComment, ""
	}
	m.Content = append(m.Content, keyNode, value)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == yaml.NodeTagNull
}

// makeMapping turns a null node into an empty block mapping in place,
// keeping its comments.
func makeMapping(n *yaml.Node) {
	n.Kind, n.Tag, n.Value, n.Style = yaml.MappingNode, yaml.NodeTagMap, "", 0
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar " + strconv.Quote(n.Value)
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// lastField checks that a path ends in a field name and splits it off.
func lastField(path []string) ([]string, string, error) {
	if len(path) == 0 {
		return nil, "", fmt.Errorf("empty path")
	}
	last := path[len(path)-1]
	if _, ok := parseSelector(last); ok {
		return nil, "", fmt.Errorf("path %s: ends in a list item; it must end in a field", FormatPath(path))
	}
	return path[:len(path)-1], last, nil
}

func applySet(root *yaml.Node, s Set) error {
	parentPath, key, err := lastField(s.Path)
	if err != nil {
		return err
	}
	value, err := valueNode(s.Value)
	if err != nil {
		return fmt.Errorf("path %s: %w", FormatPath(s.Path), err)
	}
	parent, _, err := descend(root, parentPath, true)
	if err != nil {
		return err
	}
	if isNull(parent) {
		makeMapping(parent)
	}
	if parent.Kind != yaml.MappingNode {
		return fmt.Errorf("path %s: is a %s, not a mapping", FormatPath(parentPath), kindName(parent))
	}
	i := keyIndex(parent, key)
	if i < 0 {
		appendField(parent, key, value)
		return nil
	}
	old := parent.Content[i+1]
	if sameValue(old, value) {
		return nil // keep its quoting and comments as they are
	}
	keepLook(old, value)
	parent.Content[i+1] = value
	return nil
}

// keepLook carries a replaced scalar's comments, and its quotes when both
// are strings, over to the new value.
func keepLook(old, value *yaml.Node) {
	if old.Kind != yaml.ScalarNode || value.Kind != yaml.ScalarNode {
		return
	}
	value.HeadComment, value.LineComment, value.FootComment = old.HeadComment, old.LineComment, old.FootComment
	quoted := old.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0
	if quoted && old.Tag == yaml.NodeTagString && value.Tag == yaml.NodeTagString {
		value.Style = old.Style
	}
}

func applyDelete(root *yaml.Node, d Delete) error {
	parentPath, key, err := lastField(d.Path)
	if err != nil {
		return err
	}
	parent, frames, err := descend(root, parentPath, false)
	if err != nil || parent == nil {
		return err
	}
	if parent.Kind != yaml.MappingNode {
		return fmt.Errorf("path %s: is a %s, not a mapping", FormatPath(parentPath), kindName(parent))
	}
	i := keyIndex(parent, key)
	if i < 0 {
		return nil
	}
	parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
	pruneEmpty(frames)
	return nil
}

// pruneEmpty removes the mappings a delete left empty, innermost first
// ("annotations: {}" after deleting the only annotation), up to the first
// one that still holds something, never past a list item.
func pruneEmpty(frames []frame) {
	for j := len(frames) - 1; j >= 0; j-- {
		f := frames[j]
		i := keyIndex(f.mapping, f.key)
		if i < 0 {
			return
		}
		v := f.mapping.Content[i+1]
		if v.Kind != yaml.MappingNode || len(v.Content) > 0 {
			return
		}
		f.mapping.Content = append(f.mapping.Content[:i], f.mapping.Content[i+2:]...)
	}
}
