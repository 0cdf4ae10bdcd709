package report

import (
	"io"
	"path/filepath"

	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/patch"
	"github.com/psp2psa/psp2psa/plan"
	"k8s.io/pod-security-admission/api"
)

// PatchResult is what `psp2psa patch` did to one workload: the scriptable
// form of the plan's workload section.
type PatchResult struct {
	Kind            string            `json:"kind"`
	Namespace       string            `json:"namespace"`
	Name            string            `json:"name"`
	Source          manifest.Source   `json:"source"`
	Output          string            `json:"output"`
	AdmittedBy      string            `json:"admittedBy"`
	Changes         []patch.Change    `json:"changes"`
	Unfixable       []patch.Unfixable `json:"unfixable"`
	LevelAfterPatch api.Level         `json:"levelAfterPatch"`
}

// PatchResults is the output of `psp2psa patch`.
type PatchResults struct {
	PSSVersion string        `json:"pssVersion"`
	ToLevel    api.Level     `json:"toLevel,omitempty"`
	OutputDir  string        `json:"outputDir"`
	Workloads  []PatchResult `json:"workloads"`
	// Incomplete is the plan's: what the patches rest on that the input
	// lacks (a workload whose admitting PSP is unknown gets no patch of
	// what that PSP injected).
	Incomplete []plan.Incomplete `json:"incomplete,omitempty"`
}

// Patches renders what the patch command changed per workload.
func Patches(w io.Writer, f Format, p *plan.Plan, outputDir string) error {
	res := PatchResults{PSSVersion: p.PSSVersion, ToLevel: p.ToLevel, OutputDir: outputDir, Workloads: []PatchResult{}, Incomplete: p.Incomplete}
	for i := range p.Workloads {
		wl := &p.Workloads[i]
		changes := wl.Patch.Changes
		if changes == nil {
			changes = []patch.Change{}
		}
		res.Workloads = append(res.Workloads, PatchResult{
			Kind: wl.Kind, Namespace: wl.Namespace, Name: wl.Name, Source: wl.Source,
			Output:     filepath.Join(outputDir, filepath.Base(wl.Source.File)),
			AdmittedBy: wl.AdmittedBy, Changes: changes, Unfixable: wl.Unfixable, LevelAfterPatch: wl.LevelAfterPatch,
		})
	}
	if f == JSON || f == YAML {
		return writeData(w, f, res)
	}
	ew := &errWriter{w: w}
	if len(res.Incomplete) > 0 {
		textIncomplete(ew, res.Incomplete)
		ew.printf("\n")
	}
	for _, r := range res.Workloads {
		ew.printf("%s %s/%s -> %s: %d change(s), %d unfixable, level after patch %s\n",
			r.Kind, r.Namespace, r.Name, r.Output, len(r.Changes), len(r.Unfixable), r.LevelAfterPatch)
		for _, c := range r.Changes {
			ew.printf("  set %s: %s (%s)\n", changePlace(c), valueText(c.Value), c.Reason)
			if c.Warning != "" {
				ew.printf("    warning: %s\n", c.Warning)
			}
		}
		for _, u := range r.Unfixable {
			ew.printf("  cannot fix %s: %s\n", u.Check, u.Message)
		}
	}
	return ew.err
}
