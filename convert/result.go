// Package convert is the bridge from PodSecurityPolicy to Pod Security
// Standards: one rule per PSP field or annotation (rule_*.go), each stating
// which PSS controls the field touches and which values each level accepts.
// What a PSP injected is kept by package patch, which writes it into the
// workloads.
package convert

import (
	"github.com/psp2psa/psp2psa/manifest"
	"k8s.io/pod-security-admission/api"
)

// Result is the conversion of a set of PSPs for one PSS version.
type Result struct {
	PSSVersion string         `json:"pssVersion"`
	Policies   []PolicyResult `json:"policies"`
	// Skipped counts the input objects that are not PSPs, by apiVersion/kind.
	Skipped map[string]int `json:"skipped,omitempty"`
	// Problems are the input errors: unreadable files, invalid PSPs.
	Problems []manifest.Problem `json:"problems,omitempty"`
	// Warnings are input oddities that the apiserver accepted.
	Warnings []manifest.Problem `json:"warnings,omitempty"`
}

// PolicyResult is what one PSP means in PSS terms.
type PolicyResult struct {
	Name       string          `json:"name"`
	Source     manifest.Source `json:"source"`
	APIVersion string          `json:"apiVersion"`
	// Level is the strictest level that every pod the PSP admits, after the
	// PSP's own defaults, passes.
	Level api.Level `json:"level"`
	// Findings name, for every stricter level the PSP misses, each field
	// that blocks it.
	Findings []Finding `json:"findings"`
	// Mutations are the defaults the PSP writes into pods; without PSP the
	// workloads must carry them.
	Mutations []Mutation `json:"mutations"`
	// Gaps are restrictions the PSP enforces that no PSS level expresses.
	Gaps []Gap `json:"gaps"`
	// Notes are facts about the PSP a reader of the docs' mapping table
	// would not expect: where 1.24 admission did something else than the
	// table suggests (a field with no effect, a PSP that admits no pod).
	Notes []Note `json:"notes,omitempty"`
}

// Finding is one PSP field that keeps the policy below a level.
type Finding struct {
	Field   string    `json:"field"`
	Level   api.Level `json:"level"`  // the level it blocks
	Checks  []string  `json:"checks"` // PSA check IDs that reject what the PSP allows
	Message string    `json:"message"`
}

// Mutation is one default the PSP injects into the pods it admits.
type Mutation struct {
	Field   string `json:"field"`
	Sets    string `json:"sets"`
	Message string `json:"message"`
}

// Gap is a restriction the PSP enforces that PSS cannot express.
type Gap struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Note is one such fact about a field.
type Note struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// BlockedBy returns the fields that block the level, in finding order.
func (r *PolicyResult) BlockedBy(level api.Level) []string {
	var fields []string
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if f.Level == level && !seen[f.Field] {
			seen[f.Field] = true
			fields = append(fields, f.Field)
		}
	}
	return fields
}
