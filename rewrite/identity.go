package rewrite

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Object is the identity an edit expects at its place in the file: the
// kind, namespace and name as the document states them (Namespace empty
// when the document names none).
type Object struct {
	Kind, Namespace, Name string
}

func (o Object) String() string {
	name := o.Name
	if o.Namespace != "" {
		name = o.Namespace + "/" + name
	}
	return o.Kind + "/" + name
}

// WrongObjectError is an edit whose place holds another object than the
// one it was planned for: the file changed since it was read, or the edit
// was addressed wrongly. Nothing is written.
type WrongObjectError struct {
	Want, Got Object
}

func (e *WrongObjectError) Error() string {
	return fmt.Sprintf("expected %s here, found %s; the file changed since it was read, nothing was written", e.Want, e.Got)
}

// checkObject refuses an edit whose target is not the object it expects.
// An edit without an expected kind is not checked.
func checkObject(target *yaml.Node, want Object) error {
	if want.Kind == "" {
		return nil
	}
	got := Object{Kind: scalarAt(target, "kind")}
	if i := keyIndex(target, "metadata"); i >= 0 {
		meta := target.Content[i+1]
		got.Name, got.Namespace = scalarAt(meta, "name"), scalarAt(meta, "namespace")
	}
	if got != want {
		return &WrongObjectError{Want: want, Got: got}
	}
	return nil
}

// scalarAt is the value of m's scalar field key, or "".
func scalarAt(m *yaml.Node, key string) string {
	if m.Kind != yaml.MappingNode {
		return ""
	}
	i := keyIndex(m, key)
	if i < 0 || m.Content[i+1].Kind != yaml.ScalarNode || isNull(m.Content[i+1]) {
		return ""
	}
	return m.Content[i+1].Value
}
