package artifacts

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/psp2psa/psp2psa/internal/parallel"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/rewrite"
)

// Rewrites returns the input files rewritten with the plan applied: each
// patched workload's template, and with labels the Namespace documents of
// the labelled namespaces found in docs. Comments, key order and every
// untouched document stay as they are. Standard input cannot be
// rewritten and is reported as an error.
//
// Every edit names the object it is for, as read from docs: should the
// file hold another object at that place when it is rewritten, nothing is
// rewritten and the error is a *rewrite.WrongObjectError.
func Rewrites(p *plan.Plan, docs []manifest.Document, withLabels bool, read Reader) ([]File, error) {
	return RewritesEach(p, docs, withLabels, read, func(f File) (File, error) { return f, nil })
}

// RewritesEach rewrites the files as Rewrites does, on all processors,
// and hands each to each as soon as it is rewritten (from several
// goroutines at once); it returns what each made of them, in path order.
// Only that stays in memory: a caller that shows the diff of a large input
// keeps the diffs, not the files. The error is that of the first file, in
// path order, that could not be read or rewritten, or for which each
// failed.
func RewritesEach[T any](p *plan.Plan, docs []manifest.Document, withLabels bool, read Reader, each func(File) (T, error)) ([]T, error) {
	edits, err := fileEdits(p, docs, withLabels)
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(edits))
	for path := range edits {
		if path == manifest.StdinFile {
			return nil, fmt.Errorf("standard input cannot be rewritten in place; give the manifests as files")
		}
		paths = append(paths, path)
	}
	sort.Strings(paths)
	out := make([]T, len(paths))
	errs := make([]error, len(paths))
	parallel.For(len(paths), func(i int) {
		f, err := rewriteFile(paths[i], edits[paths[i]], read)
		if err == nil {
			out[i], err = each(f)
		}
		errs[i] = err
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fileEdits are the edits of every file: the patched workloads' templates
// and, with labels, the labelled Namespaces.
func fileEdits(p *plan.Plan, docs []manifest.Document, withLabels bool) (map[string][]rewrite.Edit, error) {
	edits := map[string][]rewrite.Edit{}
	byPlace := documentsBySource(docs)
	for _, w := range patchable(p) {
		if w.OwnedBy != "" {
			continue
		}
		d, ok := byPlace[sourceKeyOf(w.Source)]
		if !ok {
			return nil, fmt.Errorf("%s: %s/%s was not read from there", w.Source, w.Kind, w.Name)
		}
		edits[w.Source.File] = append(edits[w.Source.File], workloadEdit(w, objectOf(d)))
	}
	if withLabels {
		for _, e := range namespaceEdits(labelled(p), docs) {
			edits[e.file] = append(edits[e.file], e.edit)
		}
	}
	return edits, nil
}

func rewriteFile(path string, edits []rewrite.Edit, read Reader) (File, error) {
	old, err := read(path)
	if err != nil {
		return File{}, fmt.Errorf("reading %s: %w", path, err)
	}
	updated, err := rewrite.File(old, edits)
	if err != nil {
		return File{}, fmt.Errorf("rewriting %s: %w", path, err)
	}
	return File{Path: path, Old: old, New: updated}, nil
}

// Copies returns, for `patch --output-dir DIR`, a patched copy of every
// input file that holds a workload, under DIR with the same base name.
func Copies(p *plan.Plan, docs []manifest.Document, dir string, read Reader) ([]File, error) {
	seen := map[string]bool{}
	var inputs []string
	for i := range p.Workloads {
		if file := p.Workloads[i].Source.File; !seen[file] {
			seen[file] = true
			inputs = append(inputs, file)
		}
	}
	sort.Strings(inputs)
	// Of a rewritten file only its new contents are kept.
	rewritten, err := RewritesEach(p, docs, false, read, func(f File) (File, error) {
		return File{Path: f.Path, New: f.New}, nil
	})
	if err != nil {
		return nil, err
	}
	byPath := map[string]File{}
	for _, f := range rewritten {
		byPath[f.Path] = f
	}
	out := map[string]*File{}
	for _, input := range inputs {
		if input == manifest.StdinFile {
			return nil, fmt.Errorf("standard input has no file name to copy to; give the manifests as files")
		}
		f, ok := byPath[input]
		if !ok {
			data, err := read(input)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", input, err)
			}
			f = File{Old: data, New: data}
		}
		target := filepath.Join(dir, filepath.Base(input))
		if prev, dup := out[target]; dup {
			return nil, fmt.Errorf("%s and another input both have the base name %s; patch them into separate directories", input, filepath.Base(prev.Path))
		}
		out[target] = &File{Path: target, New: f.New}
	}
	// Old is what the target holds now, so an earlier copy is replaced and
	// a missing one written.
	return withCurrentContents(sortedFiles(out))
}

func workloadEdit(w *plan.Workload, object rewrite.Object) rewrite.Edit {
	e := rewrite.Edit{Document: w.Source.Index, Item: w.Source.Item, Object: object}
	base := w.TemplatePath()
	for _, ch := range w.Patch.Changes {
		if ap := ch.AnnotationPath(); ap != nil {
			e.Deletes = append(e.Deletes, rewrite.Delete{Path: join(base, ap)})
		}
		if path := ch.Path(); path != nil {
			e.Sets = append(e.Sets, rewrite.Set{Path: join(base, path), Value: ch.Value})
		}
	}
	return e
}

type fileEdit struct {
	file string
	edit rewrite.Edit
}

func namespaceEdits(nss []*plan.Namespace, docs []manifest.Document) []fileEdit {
	want := map[string]*plan.Namespace{}
	for _, ns := range nss {
		want[ns.Name] = ns
	}
	var out []fileEdit
	for i := range docs {
		d := &docs[i]
		ns, ok := want[d.Name]
		if d.Kind != "Namespace" || !ok {
			continue
		}
		e := rewrite.Edit{Document: d.Source.Index, Item: d.Source.Item, Object: objectOf(d)}
		for _, k := range sortedKeys(ns.Labels) {
			e.Sets = append(e.Sets, rewrite.Set{Path: []string{"metadata", "labels", k}, Value: ns.Labels[k]})
		}
		out = append(out, fileEdit{file: d.Source.File, edit: e})
	}
	return out
}

func join(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// sourceKey is a place in the input: file, document and List item.
type sourceKey struct {
	file        string
	index, item int
}

func sourceKeyOf(s manifest.Source) sourceKey {
	k := sourceKey{file: s.File, index: s.Index, item: -1}
	if s.Item != nil {
		k.item = *s.Item
	}
	return k
}

func documentsBySource(docs []manifest.Document) map[sourceKey]*manifest.Document {
	out := make(map[sourceKey]*manifest.Document, len(docs))
	for i := range docs {
		out[sourceKeyOf(docs[i].Source)] = &docs[i]
	}
	return out
}

// objectOf is the identity of a document as its text states it.
func objectOf(d *manifest.Document) rewrite.Object {
	return rewrite.Object{Kind: d.Kind, Namespace: d.Namespace, Name: d.Name}
}
