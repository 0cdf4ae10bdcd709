package psp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"

	"github.com/psp2psa/psp2psa/manifest"
)

// Policy is a PodSecurityPolicy read from the input and accepted by
// validation.
type Policy struct {
	PSP    *PodSecurityPolicy
	Source manifest.Source
	// APIVersion is the group/version the manifest used:
	// policy/v1beta1 or extensions/v1beta1.
	APIVersion string
}

// Load is what FromDocuments found in the input.
type Load struct {
	// Policies are the valid PSPs, in input order.
	Policies []Policy
	// Skipped counts the documents that are not PSPs, by "apiVersion/kind"
	// (e.g. "rbac.authorization.k8s.io/v1/ClusterRole").
	Skipped map[string]int
	// Errors are *manifest.Error values, one per problem, for the PSPs the
	// 1.24 apiserver would have rejected; those PSPs are not in Policies.
	Errors []error
	// Warnings are *manifest.Error values for what the apiserver accepted
	// but the user should know: unknown or duplicate fields (dropped),
	// fields the server ignores, policies the admission plugin cannot use,
	// and PSP names read more than once.
	Warnings []error
}

// FromDocuments decodes and validates the PodSecurityPolicies among docs.
// Both policy/v1beta1 and extensions/v1beta1 are accepted (same schema);
// a PodSecurityPolicy of any other apiVersion is an error.
func FromDocuments(docs []manifest.Document) Load {
	load := Load{Skipped: map[string]int{}}
	seen := map[string]manifest.Source{}
	for _, doc := range docs {
		if doc.Kind != Kind {
			load.Skipped[kindKey(doc)]++
			continue
		}
		p, errs, warnings := decodeDocument(doc)
		load.Warnings = append(load.Warnings, warnings...)
		if len(errs) > 0 {
			load.Errors = append(load.Errors, errs...)
			continue
		}
		if first, ok := seen[p.Name]; ok && p.Name != "" {
			load.Warnings = append(load.Warnings, documentError(doc, "metadata.name",
				fmt.Errorf("a PodSecurityPolicy named %q was already read from %s; a cluster holds only one of them", p.Name, first)))
		} else {
			seen[p.Name] = doc.Source
		}
		load.Policies = append(load.Policies, Policy{PSP: p, Source: doc.Source, APIVersion: doc.APIVersion})
	}
	return load
}

func kindKey(doc manifest.Document) string {
	if doc.APIVersion == "" {
		return doc.Kind
	}
	return doc.APIVersion + "/" + doc.Kind
}

// decodeDocument decodes and validates one PodSecurityPolicy document.
// The policy is returned as read (no defaults applied, namespace and
// allowedProcMountTypes kept), or the errors for which the apiserver would
// have refused it.
func decodeDocument(doc manifest.Document) (*PodSecurityPolicy, []error, []error) {
	if doc.APIVersion != APIVersionPolicy && doc.APIVersion != APIVersionExtensions {
		return nil, []error{documentError(doc, "apiVersion",
			fmt.Errorf("PodSecurityPolicy was served as %s or %s, not %q", APIVersionPolicy, APIVersionExtensions, doc.APIVersion))}, nil
	}
	p, typeErrs, strictErrs := Decode(doc.Raw)
	warnings := manifestErrors(doc, strictErrs)
	if len(typeErrs) > 0 {
		return nil, manifestErrors(doc, typeErrs), warnings
	}
	if errs := Validate(p); len(errs) > 0 {
		return nil, manifestErrors(doc, errs), warnings
	}
	warnings = append(warnings, manifestErrors(doc, ignoredFields(p))...)
	warnings = append(warnings, manifestErrors(doc, unusableStrategies(p))...)
	return p, nil, warnings
}

// Decode decodes a PodSecurityPolicy from JSON as the apiserver did:
// keys match case-sensitively and a value of the wrong type fails the
// whole object (typeErrs, one per bad value, with its path). Unknown and
// duplicate fields are only reported (strictErrs): a 1.24 apiserver
// dropped unknown fields silently and kept the last duplicate.
func Decode(raw []byte) (p *PodSecurityPolicy, typeErrs, strictErrs field.ErrorList) {
	p = &PodSecurityPolicy{}
	strict, err := kjson.UnmarshalStrict(raw, p)
	if err != nil {
		typeErrs = typeErrors(raw, p)
		if len(typeErrs) == 0 { // not a type error: name it as the decoder did
			typeErrs = field.ErrorList{field.InternalError(nil, fmt.Errorf("decoding the PodSecurityPolicy: %w", err))}
		}
		return nil, typeErrs, strictFieldErrors(strict)
	}
	return p, nil, strictFieldErrors(strict)
}

func strictFieldErrors(strict []error) field.ErrorList {
	var errs field.ErrorList
	for _, err := range strict {
		var fe kjson.FieldError
		if !errors.As(err, &fe) {
			errs = append(errs, field.InternalError(nil, err))
			continue
		}
		detail := "unknown field, dropped by the apiserver"
		if strings.HasPrefix(err.Error(), "duplicate field") {
			detail = "duplicate field, the apiserver kept the last value"
		}
		errs = append(errs, detailOnly(fe.FieldPath(), detail))
	}
	return errs
}

// detailOnly is a field error that is all detail: its ErrorBody would only
// add "Invalid value".
func detailOnly(fieldPath, detail string) *field.Error {
	return &field.Error{Type: field.ErrorTypeInvalid, Field: fieldPath, BadValue: field.OmitValueType{}, Detail: detail}
}

// ignoredFields warns about fields a 1.24 apiserver accepted but
// discarded on create, so that nobody reads meaning into them.
func ignoredFields(p *PodSecurityPolicy) field.ErrorList {
	var errs field.ErrorList
	if p.Namespace != "" {
		errs = append(errs, detailOnly("metadata.namespace", "ignored: PodSecurityPolicy is cluster-scoped"))
	}
	if p.Name == "" && p.GenerateName != "" {
		errs = append(errs, detailOnly("metadata.generateName",
			"the apiserver names this PodSecurityPolicy "+p.GenerateName+" and 5 random characters: its name, which RBAC grants refer to, is unknown here"))
	}
	if len(p.Spec.AllowedProcMountTypes) > 0 {
		errs = append(errs, detailOnly("spec.allowedProcMountTypes",
			"dropped by a 1.24 apiserver (ProcMountType feature gate off by default): pods asking for a procMount other than Default are refused"))
	}
	return errs
}

// unusableStrategies lists what keeps the 1.24 admission plugin from building the
// policy's strategies (MustRunAs without ranges or seLinuxOptions): the
// apiserver stores such a PSP, but the plugin skips it, so it admits no
// pod.
func unusableStrategies(p *PodSecurityPolicy) field.ErrorList {
	_, errs := newProvider(p)
	out := make(field.ErrorList, 0, len(errs))
	for _, e := range errs {
		out = append(out, detailOnly(strings.TrimPrefix(e.Field, "podSecurityPolicy."),
			"the admission plugin cannot use this policy ("+e.Detail+"): it admits no pod"))
	}
	return out
}

// manifestErrors turns field errors into *manifest.Error values for doc.
func manifestErrors(doc manifest.Document, errs field.ErrorList) []error {
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		msg := e.ErrorBody()
		if e.BadValue == (field.OmitValueType{}) {
			msg = e.Detail
		}
		out = append(out, documentError(doc, e.Field, errors.New(msg)))
	}
	return out
}

func documentError(doc manifest.Document, fieldPath string, err error) *manifest.Error {
	return &manifest.Error{Source: doc.Source, Object: doc.Object(), Field: fieldPath, Err: err}
}

// typeErrors finds every value in raw whose JSON type does not fit the
// field of v it decodes into, with its full path
// ("spec.runAsUser.ranges[0].min"). The JSON decoder stops at the first
// one and names it without indexes; users fixing a manifest want them
// all, placed exactly.
func typeErrors(raw []byte, v any) field.ErrorList {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil
	}
	var errs field.ErrorList
	checkType(tree, reflect.TypeOf(v).Elem(), nil, &errs)
	return errs
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// checkType compares one decoded JSON value with the Go type it would
// be decoded into, the way encoding/json would judge it.
func checkType(value any, t reflect.Type, path *field.Path, errs *field.ErrorList) {
	if value == nil { // null fits everything
		return
	}
	fail := func(want string) {
		*errs = append(*errs, detailOnly(path.String(), fmt.Sprintf("expected %s, got %s", want, jsonKind(value))))
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		b, _ := json.Marshal(value)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b); err != nil {
			*errs = append(*errs, detailOnly(path.String(), err.Error()))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkType(value, t.Elem(), path, errs)
	case reflect.Struct:
		obj, ok := value.(map[string]any)
		if !ok {
			fail("an object")
			return
		}
		fields := jsonFields(t)
		for _, key := range sortedStringKeys(obj) {
			if ft, known := fields[key]; known {
				checkType(obj[key], ft, path.Child(key), errs)
			}
		}
	case reflect.Map:
		obj, ok := value.(map[string]any)
		if !ok {
			fail("an object")
			return
		}
		for _, key := range sortedStringKeys(obj) {
			checkType(obj[key], t.Elem(), path.Key(key), errs)
		}
	case reflect.Slice:
		list, ok := value.([]any)
		if !ok {
			fail("a list")
			return
		}
		for i, item := range list {
			checkType(item, t.Elem(), path.Index(i), errs)
		}
	case reflect.String:
		if _, ok := value.(string); !ok {
			fail("a string")
		}
	case reflect.Bool:
		if _, ok := value.(bool); !ok {
			fail("a boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		checkInteger(value, t, path, errs, fail)
	case reflect.Float32, reflect.Float64:
		if _, ok := value.(json.Number); !ok {
			fail("a number")
		}
	}
}

func checkInteger(value any, t reflect.Type, path *field.Path, errs *field.ErrorList, fail func(string)) {
	n, ok := value.(json.Number)
	if !ok {
		fail("an integer")
		return
	}
	_, err := strconv.ParseInt(n.String(), 10, t.Bits())
	switch {
	case errors.Is(err, strconv.ErrRange):
		*errs = append(*errs, detailOnly(path.String(), fmt.Sprintf("%s does not fit in a %d-bit integer", n, t.Bits())))
	case err != nil:
		fail("an integer")
	}
}

func jsonKind(value any) string {
	switch value := value.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("a string (%q)", value)
	case bool:
		return fmt.Sprintf("a boolean (%v)", value)
	case json.Number:
		return fmt.Sprintf("a number (%s)", value)
	}
	return fmt.Sprintf("%T", value)
}

// jsonFields maps the JSON names of a struct's fields to their types,
// with the fields of embedded structs (TypeMeta) promoted as
// encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

// sortedStringKeys returns a map's keys in order, for deterministic messages.
func sortedStringKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
