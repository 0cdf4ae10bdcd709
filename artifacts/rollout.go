package artifacts

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/psp2psa/psp2psa/plan"
)

// RolloutDir is where, under --write-dir, the staged rollout of the
// namespace labels goes: one script per step.
const RolloutDir = "rollout"

// Rollout step files.
const (
	RolloutObserve = "step-1-warn-audit.sh"
	RolloutEnforce = "step-2-enforce.sh"
)

// rolloutFiles are the staged rollout of the labels, one script per step:
// step 1 sets warn and audit only (nothing is rejected), step 2 the final
// labels with enforce. Each namespace is a JSON merge patch of its
// pod-security.kubernetes.io labels alone, never a Namespace object: a
// `kubectl apply` of a whole object could drop the namespace's other
// labels. Namespaces whose labels the plan does not change are left out;
// one whose answer is incomplete has only step 1.
func rolloutFiles(p *plan.Plan, dir string) ([]File, error) {
	var observe, enforce []string
	for _, ns := range labelled(p) {
		for _, s := range ns.Rollout {
			line, err := labelPatchCommand(ns.Name, s.Labels)
			if err != nil {
				return nil, err
			}
			if s.Step == 1 {
				observe = append(observe, line)
			} else {
				enforce = append(enforce, line)
			}
		}
	}
	if len(observe)+len(enforce) == 0 {
		return nil, nil
	}
	base := filepath.Join(dir, RolloutDir)
	return []File{
		newFile(filepath.Join(base, RolloutObserve), []byte(rolloutScript(observeHeader, observe))),
		newFile(filepath.Join(base, RolloutEnforce), []byte(rolloutScript(enforceHeader, enforce))),
	}, nil
}

const observeHeader = `# Step 1 of the Pod Security rollout psp2psa planned: warn and audit only.
# Nothing is rejected: what the level to be enforced would forbid shows up in
# kubectl warnings and in the audit log. Run it with: sh step-1-warn-audit.sh
# and step-2-enforce.sh once no warnings remain.`

const enforceHeader = `# Step 2 of the Pod Security rollout psp2psa planned: enforce, with audit and
# warn one level stricter. Run it once step 1 brings no more warnings; then new
# pods that break the level are rejected. Run it with: sh step-2-enforce.sh
# Namespaces whose plan is incomplete are not here: they keep step 1's audit
# and warn labels.`

// rolloutScript is a POSIX shell script of the commands.
func rolloutScript(header string, commands []string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString(header)
	b.WriteString(`
# Each command is a JSON merge patch of the namespace's pod-security.kubernetes.io
# labels alone; its other labels are left as they are. psp2psa apply-labels sets
# the same labels with a server-side dry run first and conflict detection.
set -eu
KUBECTL="${KUBECTL:-kubectl}"
`)
	if len(commands) == 0 {
		b.WriteString("# (no namespace)\n")
	}
	for _, c := range commands {
		b.WriteString(c)
	}
	return b.String()
}

// labelPatchCommand is one namespace's label-only merge patch as a
// kubectl command. Namespace names and label values need no quoting
// inside single quotes: neither may hold one.
func labelPatchCommand(namespace string, labels map[string]string) (string, error) {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		return "", fmt.Errorf("namespace %s: %w", namespace, err)
	}
	return fmt.Sprintf("\"$KUBECTL\" patch namespace %s --type merge -p '%s'\n", namespace, patch), nil
}
