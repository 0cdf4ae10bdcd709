package review

import (
	"fmt"
	"strings"

	"github.com/psp2psa/psp2psa/hygiene"
)

// Severity says whether a finding blocks the verdict.
type Severity string

// Severities, from the one that blocks READY by default.
const (
	// Error: applying the plan would change something, the input lacks
	// what an answer rests on, or a workload would be rejected.
	Error Severity = "error"
	// Warning: worth fixing, but the plan does not depend on it.
	Warning Severity = "warning"
)

// ParseSeverity parses a --fail-on value.
func ParseSeverity(s string) (Severity, error) {
	switch Severity(s) {
	case Error, Warning:
		return Severity(s), nil
	}
	return "", fmt.Errorf("severity %q: want error or warning", s)
}

// atLeast reports whether s is as severe as min or more.
func (s Severity) atLeast(min Severity) bool {
	return s == Error || min == Warning
}

// Rule is one kind of finding. Its ID is stable: CI configurations and
// SARIF consumers refer to it.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Summary is one line saying what the rule finds.
	Summary string `json:"summary"`
	// Help says what to do about a finding.
	Help string `json:"help"`
	// one and many name what a count of findings counts, for the verdict:
	// "workload to patch", "workloads to patch".
	one, many string
}

// Count words n findings of the rule: "3 workloads to patch".
func (r Rule) Count(n int) string {
	if n == 1 {
		return "1 " + r.one
	}
	return fmt.Sprintf("%d %s", n, r.many)
}

// Rule IDs.
const (
	RuleIncomplete          = "incomplete-input"
	RuleNamespaceLabels     = "namespace-labels-pending"
	RuleWorkloadPatch       = "workload-patch-pending"
	RuleRejectedByLabels    = "workload-rejected-by-labels"
	RuleNotAdmitted         = "workload-not-admitted"
	RuleRestrictionLost     = "restriction-lost"
	RuleRunAsUserUnset      = hygiene.RunAsUserUnset
	RuleRunAsUserRoot       = hygiene.RunAsUserRoot
	RuleRunAsGroupUnset     = hygiene.RunAsGroupUnset
	RuleRunAsGroupRoot      = hygiene.RunAsGroupRoot
	RuleFSGroupUnset        = hygiene.FSGroupUnset
	RuleRunAsNonRootMissing = hygiene.RunAsNonRootMissing
	RuleNamespaceRelabel    = "namespace-relabel"
	RuleClusterRelabel      = "cluster-relabel"
)

// Rules lists every rule, errors first, in the order reports group them.
var Rules = []Rule{
	{ID: RuleIncomplete, Severity: Error, one: "gap in the input", many: "gaps in the input",
		Summary: "The plan rests on something the input does not hold.",
		Help:    "Add what is missing to the input (the RBAC, service accounts, PSPs named), or plan from a complete snapshot of the cluster."},
	{ID: RuleNamespaceLabels, Severity: Error, one: "namespace to label", many: "namespaces to label",
		Summary: "A namespace does not yet carry the planned, pinned Pod Security labels.",
		Help:    "Apply the labels: psp2psa apply-labels, plan --in-place, or the rollout files of plan --write-dir."},
	{ID: RuleWorkloadPatch, Severity: Error, one: "workload to patch", many: "workloads to patch",
		Summary: "A workload does not yet carry the securityContext its PSP injected (or --to-level needs).",
		Help:    "Apply the plan's patch: plan --in-place, patch --output-dir, or the patches of plan --write-dir."},
	{ID: RuleRejectedByLabels, Severity: Error, one: "workload rejected by its labels", many: "workloads rejected by their labels",
		Summary: "A running workload, as written, fails the enforce level its namespace will carry.",
		Help:    "Patch the workload, or keep its namespace at a level it passes."},
	{ID: RuleNotAdmitted, Severity: Warning, one: "workload no PSP admits", many: "workloads no PSP admits",
		Summary: "No PSP admits the workload today, so it does not run; under Pod Security it may.",
		Help:    "Fix or remove the manifest: it never ran, and the namespace's labels did not count it."},
	{ID: RuleRestrictionLost, Severity: Warning, one: "lost restriction", many: "lost restrictions",
		Summary: "A PSP restriction no Pod Security level expresses, with no admission policy in the input that keeps it.",
		Help:    "Apply the ValidatingAdmissionPolicies of plan --write-dir (Kubernetes 1.30+), or accept the loss."},
	{ID: RuleRunAsUserUnset, Severity: Warning, one: "container without runAsUser", many: "containers without runAsUser",
		Summary: "runAsUser is unset: the image decides the UID, often root.",
		Help:    "Set securityContext.runAsUser to a non-root UID; plan --pin-ids writes the one the PSP allows."},
	{ID: RuleRunAsUserRoot, Severity: Warning, one: "container running as root", many: "containers running as root",
		Summary: "runAsUser is 0: the container runs as root.",
		Help:    "Run as a non-root UID."},
	{ID: RuleRunAsGroupUnset, Severity: Warning, one: "container without runAsGroup", many: "containers without runAsGroup",
		Summary: "runAsGroup is unset: the primary group is the image's, often GID 0.",
		Help:    "Set securityContext.runAsGroup to a non-zero GID; plan --pin-ids writes the one the PSP allows."},
	{ID: RuleRunAsGroupRoot, Severity: Warning, one: "container with GID 0", many: "containers with GID 0",
		Summary: "runAsGroup is 0: the container's primary group is root.",
		Help:    "Run with a non-zero GID."},
	{ID: RuleFSGroupUnset, Severity: Warning, one: "pod with volumes and no fsGroup", many: "pods with volumes and no fsGroup",
		Summary: "The pod has volumes but no fsGroup: their files keep the ownership they have.",
		Help:    "Set spec.securityContext.fsGroup; plan --pin-ids writes the one the PSP allows."},
	{ID: RuleRunAsNonRootMissing, Severity: Warning, one: "container without runAsNonRoot", many: "containers without runAsNonRoot",
		Summary: "runAsNonRoot is not set: nothing stops the container from starting as root.",
		Help:    "Set securityContext.runAsNonRoot: true."},
	{ID: RuleNamespaceRelabel, Severity: Warning, one: "namespace relabel grant", many: "namespace relabel grants",
		Summary: "A subject may change a namespace's Pod Security labels, to privileged too, but may use no privileged PSP there today.",
		Help:    "Take update and patch of namespaces from the subject, or guard the labels with the ValidatingAdmissionPolicy of plan --write-dir."},
	{ID: RuleClusterRelabel, Severity: Warning, one: "cluster-wide relabel grant", many: "cluster-wide relabel grants",
		Summary: "A subject may change every namespace's Pod Security labels, to privileged too, but may use no privileged PSP today.",
		Help:    "Take update and patch of namespaces from the subject, or guard the labels with the ValidatingAdmissionPolicy of plan --write-dir."},
}

var rulesByID = func() map[string]Rule {
	m := make(map[string]Rule, len(Rules))
	for _, r := range Rules {
		m[r.ID] = r
	}
	return m
}()

// RuleByID returns the rule with the ID; ok is false for an unknown ID.
func RuleByID(id string) (Rule, bool) {
	r, ok := rulesByID[id]
	return r, ok
}

// ruleOrder is the position of a rule in Rules, for sorting findings.
func ruleOrder(id string) int {
	for i, r := range Rules {
		if r.ID == id {
			return i
		}
	}
	return len(Rules)
}

// listWords joins names for a message, shortening a long list:
// "a, b, c and 4 more".
func listWords(names []string, max int) string {
	if len(names) > max {
		return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
	}
	return strings.Join(names, ", ")
}
