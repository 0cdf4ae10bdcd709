// Package artifacts turns a plan into files: strategic-merge patches with a
// kustomization that applies them, labelled Namespace objects, and
// rewritten copies of the input manifests. It computes contents only;
// writing them (atomically, and only when asked) is the caller's job.
package artifacts

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"sigs.k8s.io/yaml"
)

// File is one file to write: its path, what it holds now (nil for a new
// file) and what it will hold.
type File struct {
	Path string
	Old  []byte
	New  []byte
}

// Changed reports whether writing the file changes anything.
func (f File) Changed() bool { return f.Old == nil || !bytes.Equal(f.Old, f.New) }

// Reader reads an input file; manifest paths are as given on the command
// line.
type Reader func(path string) ([]byte, error)

// patchable lists the workloads that carry a patch, in input order.
func patchable(p *plan.Plan) []*plan.Workload {
	var out []*plan.Workload
	for i := range p.Workloads {
		if !p.Workloads[i].Patch.Empty() {
			out = append(out, &p.Workloads[i])
		}
	}
	return out
}

// labelled lists the namespaces whose labels change.
func labelled(p *plan.Plan) []*plan.Namespace {
	var out []*plan.Namespace
	for i := range p.Namespaces {
		ns := &p.Namespaces[i]
		if len(ns.Labels) > 0 && !sameLabels(ns.Labels, ns.Current) {
			out = append(out, ns)
		}
	}
	return out
}

func sameLabels(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// WriteDir returns the files `plan --write-dir DIR` writes: DIR/patches/
// with one strategic-merge patch per patched workload and a
// kustomization.yaml applying them to the input files, and DIR/rollout/
// with the staged label changes (rolloutFiles).
func WriteDir(p *plan.Plan, dir string) ([]File, error) {
	var files []File
	patchDir := filepath.Join(dir, "patches")
	var patchNames, resources []string
	seenResource := map[string]bool{}
	for _, w := range patchable(p) {
		data, err := workloadPatch(w)
		if err != nil {
			return nil, err
		}
		name := patchFileName(w)
		patchNames = append(patchNames, name)
		files = append(files, newFile(filepath.Join(patchDir, name), data))
		if !seenResource[w.Source.File] && isInputFile(w.Source.File) {
			seenResource[w.Source.File] = true
			resources = append(resources, w.Source.File)
		}
	}
	if len(patchNames) > 0 {
		k, err := kustomization(patchDir, resources, patchNames)
		if err != nil {
			return nil, err
		}
		files = append(files, newFile(filepath.Join(patchDir, "kustomization.yaml"), k))
	}
	rollout, err := rolloutFiles(p, dir)
	if err != nil {
		return nil, err
	}
	files = append(files, rollout...)
	return withCurrentContents(files)
}

func newFile(path string, data []byte) File { return File{Path: path, New: data} }

// withCurrentContents fills Old from the disk, so that diffs show what a
// write would replace.
func withCurrentContents(files []File) ([]File, error) {
	for i := range files {
		old, err := os.ReadFile(files[i].Path)
		switch {
		case err == nil:
			files[i].Old = old
		case !os.IsNotExist(err):
			return nil, fmt.Errorf("reading %s: %w", files[i].Path, err)
		}
	}
	return files, nil
}

// patchFileName is unique per workload: namespace, kind and name.
func patchFileName(w *plan.Workload) string {
	return strings.ToLower(fmt.Sprintf("%s-%s-%s.yaml", w.Namespace, w.Kind, w.Name))
}

// workloadPatch is the strategic-merge patch of one workload: its identity
// and the template patch under the template's path.
func workloadPatch(w *plan.Workload) ([]byte, error) {
	body := w.Patch.TemplatePatch()
	path := w.TemplatePath()
	for i := len(path) - 1; i >= 0; i-- {
		body = map[string]any{path[i]: body}
	}
	meta, _ := body["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["name"], meta["namespace"] = w.Name, w.Namespace
	body["metadata"] = meta
	body["apiVersion"], body["kind"] = w.APIVersion, w.Kind
	data, err := yaml.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the patch: %w", w.Ref(), err)
	}
	return append([]byte(patchHeader(w)), data...), nil
}

// patchHeader says what the patch is for: keeping what the admitting PSP
// injected, and the changes a --to-level asked for.
func patchHeader(w *plan.Workload) string {
	var why []string
	if w.Mutated {
		why = append(why, "keeps what PodSecurityPolicy "+w.AdmittedBy+" injected")
	}
	for _, c := range w.Patch.Changes {
		if c.Check != "" {
			why = append(why, "adds what a stricter Pod Security level needs")
			break
		}
	}
	return fmt.Sprintf("# securityContext patch for %s: %s\n", w.Ref(), strings.Join(why, "; "))
}

// kustomization applies the patches to the input files, referenced
// relative to the patch directory. Inputs outside it need kustomize's
// --load-restrictor=LoadRestrictionsNone.
func kustomization(patchDir string, resources, patches []string) ([]byte, error) {
	var rel []string
	for _, r := range resources {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("locating %s: %w", r, err)
		}
		absDir, err := filepath.Abs(patchDir)
		if err != nil {
			return nil, fmt.Errorf("locating %s: %w", patchDir, err)
		}
		p, err := filepath.Rel(absDir, abs)
		if err != nil {
			return nil, fmt.Errorf("relating %s to %s: %w", r, patchDir, err)
		}
		rel = append(rel, filepath.ToSlash(p))
	}
	entries := make([]map[string]string, len(patches))
	for i, name := range patches {
		entries[i] = map[string]string{"path": name}
	}
	data, err := yaml.Marshal(map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"resources":  rel,
		"patches":    entries,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the kustomization: %w", err)
	}
	header := "# Applies the securityContext patches psp2psa planned to the input manifests.\n" +
		"# Inputs outside this directory need: kustomize build --load-restrictor=LoadRestrictionsNone\n"
	return append([]byte(header), data...), nil
}

// sortedFiles orders files by path.
func sortedFiles(m map[string]*File) []File {
	out := make([]File, 0, len(m))
	for _, f := range m {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// isInputFile reports whether a source names a manifest file on disk, not
// standard input, a cluster or a snapshot's object.
func isInputFile(source string) bool {
	if source == manifest.StdinFile {
		return false
	}
	info, err := os.Stat(source)
	return err == nil && info.Mode().IsRegular()
}
