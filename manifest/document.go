// Package manifest reads Kubernetes objects from files, directories and
// standard input: YAML or JSON, multi-document streams and `kind: List`,
// each object with the place it came from, so that every later error can
// name the file, the document and the object.
package manifest

import (
	"errors"
	"fmt"
	"strconv"
)

// Stdin is the path that names standard input.
const Stdin = "-"

// Source is where an object was read: the path as given, the document's
// index in the file (from 0; FileIndex for a problem with the whole file),
// and for an item of a List its index there.
type Source struct {
	File  string `json:"file"`
	Index int    `json:"index"`
	Item  *int   `json:"item,omitempty"`
	// Line is the 1-based line where the document starts (0 if unknown).
	Line int `json:"-"`
}

// String renders the source for messages: "psp.yaml: document 2, item 0".
func (s Source) String() string {
	if s.Index < 0 {
		return s.File
	}
	out := s.File + ": document " + strconv.Itoa(s.Index)
	if s.Item != nil {
		out += ", item " + strconv.Itoa(*s.Item)
	}
	if s.Line > 0 {
		out += " (line " + strconv.Itoa(s.Line) + ")"
	}
	return out
}

// Document is one Kubernetes object as read, before it is decoded into a
// type: its identity and its JSON.
type Document struct {
	Source     Source
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// Raw is the object as JSON.
	Raw []byte
	// ListAnnotations are the annotations of the List the object was an
	// item of (nil otherwise), shared by all its items: what a psp2psa
	// snapshot records about its read travels with every object in it,
	// wherever the file is read from.
	ListAnnotations map[string]string
	// Decoded is what a consumer decoded the object into while it was
	// read (ReadOptions.Each); manifest never looks at it.
	Decoded any
}

// Object names the document's object for messages: "PodSecurityPolicy/restricted".
func (d Document) Object() string {
	name := d.Name
	if name == "" {
		name = "<unnamed>"
	}
	if d.Namespace != "" {
		name = d.Namespace + "/" + name
	}
	return d.Kind + "/" + name
}

// Error is a problem with one input object: where it is, which object,
// which field, and what is wrong.
type Error struct {
	Source Source
	Object string // e.g. "PodSecurityPolicy/restricted"; empty when the document did not parse
	Field  string // e.g. "spec.runAsUser.ranges[0].min"; empty when the object as a whole is wrong
	Err    error
}

func (e *Error) Error() string {
	msg := e.Source.String()
	if e.Object != "" {
		msg += ": " + e.Object
	}
	if e.Field != "" {
		msg += ": " + e.Field
	}
	return fmt.Sprintf("%s: %v", msg, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Problem is an input error or warning as data, for machine-readable
// reports.
type Problem struct {
	Source  *Source `json:"source,omitempty"`
	Object  string  `json:"object,omitempty"`
	Field   string  `json:"field,omitempty"`
	Message string  `json:"message"`
}

// ProblemOf turns an error into a Problem, keeping the location of an
// *Error.
func ProblemOf(err error) Problem {
	var e *Error
	if errors.As(err, &e) {
		src := e.Source
		return Problem{Source: &src, Object: e.Object, Field: e.Field, Message: e.Err.Error()}
	}
	return Problem{Message: err.Error()}
}
