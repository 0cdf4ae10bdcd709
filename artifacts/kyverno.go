package artifacts

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/kyverno"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/vap"
)

// KyvernoPoliciesName is the file, under --write-dir --gap-policies
// kyverno, holding the Kyverno ClusterPolicies that keep what PSS cannot
// express.
const KyvernoPoliciesName = "kyverno-policies.yaml"

// KyvernoPoliciesFile returns DIR/kyverno-policies.yaml with what it holds
// now; ok is false when the plan needs no policy.
func KyvernoPoliciesFile(p *plan.Plan, policies []psp.Policy, dir string, enforce bool) (f File, ok bool, err error) {
	data, err := KyvernoPolicies(p, policies, enforce)
	if err != nil {
		return File{}, false, err
	}
	return gapFile(dir, KyvernoPoliciesName, data)
}

// KyvernoPolicies returns, as one multi-document YAML stream, a Kyverno
// ClusterPolicy for every PSP that admits workloads of the plan and has a
// gap vap can write as CEL, with the same rules as the
// ValidatingAdmissionPolicies and matched to the namespaces their bindings
// select; nil when there is none. A policy with no namespace to match is
// left out (a Kyverno match without namespaces matches all of them) and
// said so in a comment. With enforce false violations are audited, else
// rejected.
func KyvernoPolicies(p *plan.Plan, policies []psp.Policy, enforce bool) ([]byte, error) {
	return gapDocuments(p, policies, kyvernoHeader(enforce), func(r *convert.PolicyResult, spec *psp.PodSecurityPolicy, use namespaceUse) (string, error) {
		rules, unexpressed := vap.ForGaps(spec, r.Gaps)
		if len(rules) == 0 {
			return "", nil
		}
		bound, left := use.bound(r.Name)
		var fields []string
		for _, rule := range rules {
			if !slices.Contains(fields, rule.Field) {
				fields = append(fields, rule.Field)
			}
		}
		comment := gapComment(r.Name, fields, notKeptLines(unexpressed, vap.NotExpressed), bound, left,
			"No policy: no namespace has only workloads it admits.")
		if len(bound) == 0 {
			return comment, nil
		}
		data, err := renderObject(kyverno.Policy(r.Name, rules, bound, enforce))
		if err != nil {
			return "", fmt.Errorf("psp %s: kyverno policy: %w", r.Name, err)
		}
		return comment + string(data), nil
	})
}

func kyvernoHeader(enforce bool) string {
	mode := "validationFailureAction Audit: a violation is recorded in a policy report and\n" +
		"# the pod is admitted. Once the reports are clean, switch to Enforce."
	if enforce {
		mode = "validationFailureAction Enforce: a violating pod is rejected, as PSP rejected it.\n" +
			"# Start with Audit where violations may still appear."
	}
	return strings.Join([]string{
		"# Kyverno ClusterPolicies that keep PodSecurityPolicy restrictions no Pod Security",
		"# Standards level expresses (psp2psa plan --gap-policies kyverno). One policy per PSP",
		"# that admits workloads, matching Pods in the namespaces whose workloads only it",
		"# admits, one rule per PSP field. The CEL is the ValidatingAdmissionPolicies' own.",
		"# " + mode,
		"# Pods only, as PSP: rules for pod controllers are not generated (autogen off); the",
		"# workload patches fix the templates.",
		"# Values the PSP filled in where a pod left them unset (UIDs, GIDs, fsGroup,",
		"# supplementalGroups, runAsNonRoot, SELinux options, readOnlyRootFilesystem,",
		"# dropped capabilities) are now required: the workload patches write them",
		"# into the templates.",
		"# Needs Kyverno 1.11 or later (kyverno.io/v1, validate.cel); checked with the 1.12.6 CLI.",
	}, "\n") + "\n"
}
