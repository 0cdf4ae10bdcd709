package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/psp2psa/psp2psa/manifest"
	corev1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"
)

// ErrUnknownField marks a field of a pod template that its type does not
// have (a "securityContxt"): the apiserver's strict field validation
// rejects it and a lax one drops it, so the setting it was meant to carry
// is not there. A warning: the object is still read without it.
var ErrUnknownField = errors.New("unknown field")

// IsWarning reports whether an error FromDocuments returns is a warning:
// the object was read (a duplicate, an unknown field), rather than
// skipped.
func IsWarning(err error) bool {
	return errors.Is(err, ErrDuplicate) || errors.Is(err, ErrUnknownField)
}

// decodeStrict decodes a workload as the apiserver does with strict field
// validation: case-sensitive field names, and unknown fields inside the
// pod template (at template, a JSON path; empty for a Pod's root)
// reported as warnings. Fields outside the template are not read, so they
// are not checked.
func decodeStrict(d *manifest.Document, into any, template []string) (warnings []error, err error) {
	strictErrs, err := sigsjson.UnmarshalStrict(d.Raw, into)
	if err != nil {
		return nil, typeError(d, err)
	}
	prefix := fieldPath(template)
	if prefix != "" {
		prefix += "."
	}
	for _, se := range strictErrs {
		field, ok := unknownField(se)
		if !ok || !strings.HasPrefix(field, prefix) || !inTemplate(strings.TrimPrefix(field, prefix)) {
			continue
		}
		warnings = append(warnings, &manifest.Error{Source: d.Source, Object: d.Object(), Field: field,
			Err: fmt.Errorf("%w: the apiserver's strict field validation rejects it, a lax one drops it", ErrUnknownField)})
	}
	return warnings, nil
}

// inTemplate tells whether a path below the template is the template's
// own (metadata or spec) rather than a field the narrow decoding types
// leave out (a Pod's status, say).
func inTemplate(path string) bool {
	return strings.HasPrefix(path, "spec.") || strings.HasPrefix(path, "metadata.annotations") || strings.HasPrefix(path, "metadata.labels")
}

// unknownField returns the path of a strict decoding error about an
// unknown field.
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "unknown field ")
	if !ok {
		return "", false
	}
	if unq, uerr := strconv.Unquote(rest); uerr == nil {
		rest = unq
	}
	return rest, true
}

// typeError places a decoding error at its field, with list indexes and
// the container it is in: the decoder names the field without indexes
// ("spec.template.spec.containers.securityContext.runAsUser").
func typeError(d *manifest.Document, err error) error {
	field, want, got := typeErrorParts(err)
	if field == "" {
		return err
	}
	located, value, container := locateField(d.Raw, field, got)
	if located == "" {
		return &manifest.Error{Source: d.Source, Object: d.Object(), Field: field, Err: fmt.Errorf("want %s, got %s", want, got)}
	}
	msg := fmt.Sprintf("want %s, got %s", want, value)
	if container != "" {
		msg = fmt.Sprintf("container %q: %s", container, msg)
	}
	return &manifest.Error{Source: d.Source, Object: d.Object(), Field: located, Err: errors.New(msg)}
}

// typeErrorParts reads the field, the Go type wanted and the JSON kind
// found from the decoder's type error, whose type lives in an internal
// package of sigs.k8s.io/json and is read by reflection.
func typeErrorParts(err error) (field, want, got string) {
	v := reflect.ValueOf(err)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct ||
		!strings.HasSuffix(v.Elem().Type().Name(), "UnmarshalTypeError") {
		return "", "", ""
	}
	e := v.Elem()
	if f := e.FieldByName("Field"); f.IsValid() && f.Kind() == reflect.String {
		field = f.String()
	}
	if f := e.FieldByName("Value"); f.IsValid() && f.Kind() == reflect.String {
		got = f.String()
	}
	if f := e.FieldByName("Type"); f.IsValid() && !f.IsNil() {
		if t, ok := f.Interface().(reflect.Type); ok {
			want = t.String()
		}
	}
	return field, want, got
}

// locateField walks the object along a dotted path that names no list
// indexes, trying every element of each list, and returns the first
// place whose value has the JSON kind the decoder saw (its indexed path,
// the value as written, and the name of the container it is in, if any).
func locateField(raw []byte, dotted, kind string) (path, value, container string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj any
	if dec.Decode(&obj) != nil {
		return "", "", ""
	}
	var walk func(v any, keys []string, at, inContainer string) bool
	walk = func(v any, keys []string, at, inContainer string) bool {
		if list, ok := v.([]any); ok {
			for i, item := range list {
				name := inContainer
				if isContainerList(at) {
					name = containerName(item)
				}
				if walk(item, keys, at+"["+strconv.Itoa(i)+"]", name) {
					return true
				}
			}
			return false
		}
		if len(keys) == 0 {
			if jsonKind(v) != strings.Fields(kind)[0] {
				return false
			}
			path, container = at, inContainer
			text, _ := json.Marshal(v)
			value = jsonKind(v) + " " + string(text)
			return true
		}
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		next, ok := m[keys[0]]
		return ok && walk(next, keys[1:], strings.TrimPrefix(at+"."+keys[0], "."), inContainer)
	}
	if kind == "" || !walk(obj, strings.Split(dotted, "."), "", "") {
		return "", "", ""
	}
	return path, value, container
}

func isContainerList(path string) bool {
	return strings.HasSuffix(path, "containers") || strings.HasSuffix(path, "initContainers") || strings.HasSuffix(path, "ephemeralContainers")
}

func containerName(item any) string {
	m, _ := item.(map[string]any)
	name, _ := m["name"].(string)
	return name
}

// jsonKind names a decoded JSON value's kind as the decoder's type errors
// do.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// validateContainers refuses what the apiserver's validation refuses of
// a pod's containers and what the plan would misread: a pod without
// containers (it would pass every check), and a container name used twice
// (patches address containers by name).
func validateContainers(d *manifest.Document, spec *corev1.PodSpec, template []string) error {
	at := fieldPath(append(append([]string{}, template...), "spec"))
	if len(spec.Containers) == 0 {
		return &manifest.Error{Source: d.Source, Object: d.Object(), Field: at + ".containers",
			Err: errors.New("no containers: the apiserver rejects a pod without one")}
	}
	seen := map[string]string{}
	for _, ref := range []struct {
		list  string
		names []string
	}{
		{"initContainers", initNames(spec)},
		{"containers", regularNames(spec)},
		{"ephemeralContainers", ephemeralNames(spec)},
	} {
		for i, name := range ref.names {
			field := fmt.Sprintf("%s.%s[%d].name", at, ref.list, i)
			if first, dup := seen[name]; dup {
				return &manifest.Error{Source: d.Source, Object: d.Object(), Field: field,
					Err: fmt.Errorf("container name %q is also used at %s: the apiserver rejects duplicate names", name, first)}
			}
			seen[name] = field
		}
	}
	return nil
}

func initNames(spec *corev1.PodSpec) []string {
	out := make([]string, len(spec.InitContainers))
	for i := range spec.InitContainers {
		out[i] = spec.InitContainers[i].Name
	}
	return out
}

func regularNames(spec *corev1.PodSpec) []string {
	out := make([]string, len(spec.Containers))
	for i := range spec.Containers {
		out[i] = spec.Containers[i].Name
	}
	return out
}

func ephemeralNames(spec *corev1.PodSpec) []string {
	out := make([]string, len(spec.EphemeralContainers))
	for i := range spec.EphemeralContainers {
		out[i] = spec.EphemeralContainers[i].Name
	}
	return out
}
