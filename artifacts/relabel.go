package artifacts

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/relabel"
	"github.com/psp2psa/psp2psa/vap"
)

// LabelGuardName is the file, under --write-dir, holding the
// ValidatingAdmissionPolicy that keeps Pod Security labels to named
// groups.
const LabelGuardName = "namespace-label-guard.yaml"

// LabelGuardFile returns DIR/namespace-label-guard.yaml for a target that
// serves ValidatingAdmissionPolicies (1.30+); ok is false for an older one.
// Under PSP a privileged pod needed a "use" grant of a privileged PSP;
// under Pod Security whoever may update a Namespace picks its level. The
// policy lets only system:masters and the groups named change a
// pod-security.kubernetes.io label; its binding warns and audits, or with
// deny rejects.
func LabelGuardFile(p *plan.Plan, dir string, groups []string, deny bool) (f File, ok bool, err error) {
	if !p.Target.ValidatingAdmissionPolicies() {
		return File{}, false, nil
	}
	actions := vap.Observe
	if deny {
		actions = vap.Enforce
	}
	policy, binding := relabel.Guard(groups, actions)
	var b strings.Builder
	b.WriteString(labelGuardHeader(groups, deny))
	for i, obj := range []any{policy, binding} {
		data, err := renderObject(obj)
		if err != nil {
			return File{}, false, fmt.Errorf("the namespace label guard: %w", err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	files, err := withCurrentContents([]File{newFile(filepath.Join(dir, LabelGuardName), []byte(b.String()))})
	if err != nil {
		return File{}, false, err
	}
	return files[0], true, nil
}

func labelGuardHeader(groups []string, deny bool) string {
	who := "system:masters alone (name more with --label-admin-group)"
	if len(groups) > 0 {
		who = "system:masters and " + strings.Join(groups, ", ")
	}
	mode := "The binding warns and audits ([Warn, Audit]): a change by anyone else is\n" +
		"# reported to the client and in the audit log, not refused. Once only the\n" +
		"# expected changes are reported, switch it to [Deny] (plan --deny-gaps)."
	if deny {
		mode = "The binding rejects ([Deny]) a change by anyone else."
	}
	return "# Who may change a namespace's pod-security.kubernetes.io labels (psp2psa plan).\n" +
		"# Under PodSecurityPolicy a privileged pod needed a \"use\" grant of a privileged\n" +
		"# PSP; under Pod Security whoever may update or patch a Namespace (or its status\n" +
		"# or finalize subresource) chooses its level, privileged included. This policy\n" +
		"# lets only these set, change or remove those labels, on create and update:\n" +
		"# " + who + ".\n" +
		"# Every other change of a namespace is left alone. psp2psa review lists who\n" +
		"# may relabel namespaces today.\n" +
		"# " + mode + "\n" +
		"# Needs Kubernetes 1.30 or later (ValidatingAdmissionPolicy GA).\n"
}
