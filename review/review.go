// Package review turns a migration plan into the pre-upgrade verdict: a
// list of findings, each with a stable rule ID, a severity and the object
// and file line it concerns, and READY when none at or above the chosen
// severity remains.
//
// READY means the input is complete, applying the plan would change
// nothing (every namespace carries its planned, pinned labels; every
// workload already carries what its PSP injected) and no running workload
// would be rejected by the labels it will run under. Everything else the
// review finds (workloads no PSP admits, restrictions lost with no policy
// for them, security-context hygiene, who may relabel namespaces) is a
// warning.
package review

import (
	"slices"
	"sort"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/relabel"
)

// SchemaVersion names the schema of the JSON and YAML forms; it changes
// when a field changes meaning or goes away.
const SchemaVersion = "psp2psa.io/review/v1"

// Review is the verdict and what it rests on. Its JSON form is the schema
// of `psp2psa review -o json`.
type Review struct {
	SchemaVersion string           `json:"schemaVersion"`
	Verdict       Verdict          `json:"verdict"`
	Target        apiserver.Target `json:"target"`
	PSSVersion    string           `json:"pssVersion"`
	// Input says what was read: "files", "cluster" or "snapshot".
	Input      string      `json:"input"`
	Namespaces []Namespace `json:"namespaces"`
	// Findings are sorted by severity, rule, namespace and object.
	Findings []Finding `json:"findings"`
	// Relabel says who may change Pod Security labels, per namespace and
	// cluster-wide, next to who may use a privileged PSP today.
	Relabel  *relabel.Result    `json:"relabel,omitempty"`
	Problems []manifest.Problem `json:"problems,omitempty"`
	Warnings []manifest.Problem `json:"warnings,omitempty"`
	// Plan is the plan reviewed; not part of the JSON form (plan -o json
	// prints it).
	Plan *plan.Plan `json:"-"`
}

// Verdict is the answer in one line and the counts behind it.
type Verdict struct {
	Ready bool `json:"ready"`
	// Status is "READY" or "NOT READY".
	Status string `json:"status"`
	// FailOn is the least severity that makes the review NOT READY.
	FailOn   Severity `json:"failOn"`
	Errors   int      `json:"errors"`
	Warnings int      `json:"warnings"`
	// ByRule counts the findings of each rule.
	ByRule map[string]int `json:"byRule"`
	// Summary is the verdict line: the status and, when not ready, the
	// counts that make it so.
	Summary string `json:"summary"`
}

// Finding is one thing the review found.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Namespace and Workload ("Kind namespace/name") are what the finding
	// concerns; Object names any other object ("ClusterRoleBinding x").
	Namespace  string   `json:"namespace,omitempty"`
	Workload   string   `json:"workload,omitempty"`
	Containers []string `json:"containers,omitempty"`
	Object     string   `json:"object,omitempty"`
	// Proposal is the change that would fix it, where one is known.
	Proposal string `json:"proposal,omitempty"`
	// Location is where the object is written; nil when it was read from
	// a live cluster or is not in the input.
	Location *Location `json:"location,omitempty"`
}

// Location is a document in an input file.
type Location struct {
	File string `json:"file"`
	// Line is the 1-based line where the document starts; 0 if unknown.
	Line int `json:"line,omitempty"`
	// Index is the document's index in the file, from 0.
	Index int `json:"index"`
}

// Namespace is the review of one namespace: its labels and workloads.
type Namespace struct {
	Name string `json:"name"`
	// Enforce is the enforce level its planned labels set ("" for none).
	Enforce string `json:"enforce"`
	// Labels are the planned pod-security labels, Current those it has.
	Labels  map[string]string `json:"labels"`
	Current map[string]string `json:"current"`
	// LabelsPending reports that Current lacks some of Labels.
	LabelsPending bool       `json:"labelsPending"`
	System        bool       `json:"system,omitempty"`
	Workloads     []Workload `json:"workloads"`
	Errors        int        `json:"errors"`
	Warnings      int        `json:"warnings"`
}

// Workload is the review of one workload.
type Workload struct {
	Ref  string `json:"workload"`
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Status is one of the Status constants.
	Status     string    `json:"status"`
	AdmittedBy string    `json:"admittedBy,omitempty"`
	Location   *Location `json:"location,omitempty"`
	Errors     int       `json:"errors"`
	Warnings   int       `json:"warnings"`
}

// Workload statuses, from the worst.
const (
	StatusRejectedByLabels = "rejected-by-labels"
	StatusUnknown          = "unknown"
	StatusPatchPending     = "patch-pending"
	StatusNotAdmitted      = "not-admitted"
	StatusReady            = "ready"
	StatusOwned            = "owned"
)

// Input is what a review is built from.
type Input struct {
	Plan      *plan.Plan
	Policies  []psp.Policy
	Inventory *inventory.Inventory
	// Documents are every object read, for the sources of the objects
	// findings name and for the admission policies that keep restrictions.
	Documents []manifest.Document
	// Read is what the documents came from: ReadFiles, ReadCluster or
	// ReadSnapshot. Objects read from a live cluster have no location.
	Read string
}

// What the input was read from.
const (
	ReadFiles    = "files"
	ReadCluster  = "cluster"
	ReadSnapshot = "snapshot"
)

// Options are the choices a review depends on.
type Options struct {
	// FailOn is the least severity that makes the review NOT READY;
	// Error when empty.
	FailOn Severity
}

// Build reviews the plan.
func Build(in Input, opts Options) *Review {
	if opts.FailOn == "" {
		opts.FailOn = Error
	}
	if in.Read == "" {
		in.Read = ReadFiles
	}
	p := in.Plan
	r := &Review{
		SchemaVersion: SchemaVersion, Target: p.Target, PSSVersion: p.PSSVersion, Input: in.Read,
		Problems: p.Problems, Warnings: p.Warnings, Plan: p, Findings: []Finding{},
	}
	c := newChecker(in)
	r.Findings = append(r.Findings, c.incomplete()...)
	r.Findings = append(r.Findings, c.namespaceLabels()...)
	r.Findings = append(r.Findings, c.workloads()...)
	r.Findings = append(r.Findings, c.restrictionsLost()...)
	r.Findings = append(r.Findings, c.hygiene()...)
	if in.Inventory != nil {
		names := make([]string, len(p.Namespaces))
		for i := range p.Namespaces {
			names[i] = p.Namespaces[i].Name
		}
		r.Relabel = relabel.Analyze(in.Inventory, c.privilegedPolicies(), names)
		r.Findings = append(r.Findings, c.relabelFindings(r.Relabel)...)
	}
	sortFindings(r.Findings)
	r.Namespaces = c.namespaceReviews(r.Findings)
	r.Verdict = verdict(r.Findings, opts.FailOn)
	return r
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.Severity != b.Severity {
			return a.Severity == Error
		}
		if oa, ob := ruleOrder(a.Rule), ruleOrder(b.Rule); oa != ob {
			return oa < ob
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return false // input order within a namespace
	})
}

// Count returns the number of findings of the rule.
func (r *Review) Count(rule string) int { return r.Verdict.ByRule[rule] }

// FindingsOf returns the findings of one workload, in order.
func (r *Review) FindingsOf(workloadRef string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Workload == workloadRef {
			out = append(out, f)
		}
	}
	return out
}

// Blocking reports whether a finding counts against the verdict.
func (v Verdict) Blocking(f Finding) bool { return f.Severity.atLeast(v.FailOn) }

// RulesSeen returns the rules that have findings, in Rules order.
func (r *Review) RulesSeen() []Rule {
	var out []Rule
	for _, rule := range Rules {
		if r.Verdict.ByRule[rule.ID] > 0 {
			out = append(out, rule)
		}
	}
	return out
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
