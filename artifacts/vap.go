package artifacts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/vap"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// AdmissionPoliciesName is the file, under --write-dir, holding the
// ValidatingAdmissionPolicies that keep what PSS cannot express.
const AdmissionPoliciesName = "validating-admission-policies.yaml"

// AdmissionPoliciesFile returns DIR/validating-admission-policies.yaml
// with what it holds now, for --write-dir; ok is false when the plan needs
// no policy.
func AdmissionPoliciesFile(p *plan.Plan, policies []psp.Policy, dir string, deny bool) (f File, ok bool, err error) {
	data, err := AdmissionPolicies(p, policies, deny)
	if err != nil || data == nil {
		return File{}, false, err
	}
	files, err := withCurrentContents([]File{newFile(filepath.Join(dir, AdmissionPoliciesName), data)})
	if err != nil {
		return File{}, false, err
	}
	return files[0], true, nil
}

// AdmissionPolicies returns, as one multi-document YAML stream, a
// ValidatingAdmissionPolicy and its binding for every PSP that admits at
// least one workload of the plan and has a gap (a restriction no PSS
// level expresses) that vap can write as CEL; nil when there is none. The
// policies are the plan's PSPs themselves: the plan keeps only their
// conversions. Comments list, per PSP, the gaps no policy keeps and the
// namespaces left unbound.
//
// A binding selects the namespaces whose counted workloads that PSP alone
// admits. A namespace whose workloads different PSPs admit gets no binding:
// each pod had to pass one of them, and a policy per PSP can only require
// all. With deny false the bindings warn and audit (like PSA's warn and
// audit modes); with deny true they reject.
func AdmissionPolicies(p *plan.Plan, policies []psp.Policy, deny bool) ([]byte, error) {
	byName := map[string]*psp.PodSecurityPolicy{}
	for _, pol := range policies {
		byName[pol.PSP.Name] = pol.PSP // the last one read wins, as in the plan
	}
	admitted := admittedNamespaces(p)
	actions := vap.Observe
	if deny {
		actions = vap.Enforce
	}
	var docs []string
	for i := range p.Policies {
		r := &p.Policies[i]
		spec := byName[r.Name]
		if spec == nil || len(admitted.byPolicy[r.Name]) == 0 {
			continue
		}
		doc, err := policyDocuments(r, spec, admitted, actions)
		if err != nil {
			return nil, err
		}
		if doc != "" {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return nil, nil
	}
	return []byte(policiesHeader(deny) + strings.Join(docs, "---\n")), nil
}

// namespaceUse records which PSPs admit the counted workloads of each
// namespace: those not owned by another input object and admitted today.
type namespaceUse struct {
	byPolicy    map[string][]string        // PSP → namespaces it admits workloads in
	byNamespace map[string]map[string]bool // namespace → PSPs
	skipped     map[string]bool            // system namespaces the plan leaves alone
}

func admittedNamespaces(p *plan.Plan) namespaceUse {
	use := namespaceUse{byPolicy: map[string][]string{}, byNamespace: map[string]map[string]bool{}, skipped: map[string]bool{}}
	for i := range p.Namespaces {
		ns := &p.Namespaces[i]
		if ns.System && len(ns.Labels) == 0 {
			use.skipped[ns.Name] = true
		}
	}
	for i := range p.Workloads {
		w := &p.Workloads[i]
		if w.OwnedBy != "" || w.Rejected() {
			continue
		}
		if use.byNamespace[w.Namespace] == nil {
			use.byNamespace[w.Namespace] = map[string]bool{}
		}
		if !use.byNamespace[w.Namespace][w.AdmittedBy] {
			use.byNamespace[w.Namespace][w.AdmittedBy] = true
			use.byPolicy[w.AdmittedBy] = append(use.byPolicy[w.AdmittedBy], w.Namespace)
		}
	}
	for _, nss := range use.byPolicy {
		slices.Sort(nss)
	}
	return use
}

// bound splits the namespaces a PSP admits workloads in into those its
// policy binds and the reasons the others are left out.
func (u namespaceUse) bound(pspName string) (bound, left []string) {
	for _, ns := range u.byPolicy[pspName] {
		switch others := otherPolicies(u.byNamespace[ns], pspName); {
		case u.skipped[ns]:
			left = append(left, ns+" (a system namespace the plan does not label)")
		case len(others) > 0:
			left = append(left, ns+" (workloads there are also admitted by "+strings.Join(others, ", ")+")")
		default:
			bound = append(bound, ns)
		}
	}
	return bound, left
}

func otherPolicies(set map[string]bool, pspName string) []string {
	var out []string
	for name := range set {
		if name != pspName {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// policyDocuments renders one PSP's policy and binding with the comment
// that explains them; "" when vap expresses none of its gaps.
func policyDocuments(r *convert.PolicyResult, spec *psp.PodSecurityPolicy, use namespaceUse, actions []admissionregistrationv1.ValidationAction) (string, error) {
	rules, unexpressed := vap.ForGaps(spec, r.Gaps)
	if len(rules) == 0 {
		return "", nil
	}
	bound, left := use.bound(r.Name)
	var b strings.Builder
	b.WriteString(policyComment(r, rules, unexpressed, bound, left))
	data, err := renderObject(vap.Policy(r.Name, rules))
	if err != nil {
		return "", fmt.Errorf("psp %s: policy: %w", r.Name, err)
	}
	b.Write(data)
	if len(bound) > 0 {
		data, err := renderObject(vap.Binding(r.Name, bound, actions))
		if err != nil {
			return "", fmt.Errorf("psp %s: binding: %w", r.Name, err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.String(), nil
}

func policyComment(r *convert.PolicyResult, rules []vap.Rule, unexpressed []convert.Gap, bound, left []string) string {
	var fields []string
	for _, rule := range rules {
		if !slices.Contains(fields, rule.Field) {
			fields = append(fields, rule.Field)
		}
	}
	lines := []string{"PodSecurityPolicy " + r.Name + ": keeps " + strings.Join(fields, ", ") + "."}
	for _, g := range unexpressed {
		lines = append(lines, "Not kept, "+g.Field+": "+g.Message+". ("+vap.NotExpressed(g.Field)+")")
	}
	if len(bound) > 0 {
		lines = append(lines, "Bound to the namespaces whose workloads it admits: "+strings.Join(bound, ", ")+".")
	} else {
		lines = append(lines, "No binding: no namespace has only workloads it admits.")
	}
	for _, l := range left {
		lines = append(lines, "Not bound: "+l+".")
	}
	return "# " + strings.Join(lines, "\n# ") + "\n"
}

func policiesHeader(deny bool) string {
	mode := "validationActions [Warn, Audit]: a violation is a warning to the client (kubectl\n" +
		"# prints it) and an audit annotation; nothing is rejected, like Pod Security's\n" +
		"# warn and audit modes. Once no warnings remain, switch the bindings to [Deny]."
	if deny {
		mode = "validationActions [Deny]: a violating pod is rejected, as PSP rejected it.\n" +
			"# Start with [Warn, Audit] where warnings may still appear."
	}
	return "# ValidatingAdmissionPolicies that keep PodSecurityPolicy restrictions no Pod\n" +
		"# Security Standards level expresses (psp2psa plan). One policy per PSP that\n" +
		"# admits workloads, bound by kubernetes.io/metadata.name to the namespaces\n" +
		"# whose workloads only it admits.\n" +
		"# " + mode + "\n" +
		"# Values the PSP filled in where a pod left them unset (UIDs, GIDs, fsGroup,\n" +
		"# supplementalGroups, runAsNonRoot, SELinux options, readOnlyRootFilesystem,\n" +
		"# dropped capabilities) are now required: the workload patches write them\n" +
		"# into the templates.\n" +
		"# Needs Kubernetes 1.30 or later (ValidatingAdmissionPolicy GA).\n"
}

// renderObject writes a typed object as YAML without the fields a new
// object leaves empty (creationTimestamp, status). Expressions that span
// lines are written as literal blocks, line by line as vap broke them.
func renderObject(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	if err := decoder.Decode(&m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	var node kyaml.Node
	if err := node.Encode(m); err != nil {
		return nil, err
	}
	literalExpressions(&node)
	return kyaml.Marshal(&node)
}

// literalExpressions gives every multi-line "expression" value the
// literal block style.
func literalExpressions(n *kyaml.Node) {
	if n.Kind == kyaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			if key.Value == "expression" && value.Kind == kyaml.ScalarNode && strings.Contains(value.Value, "\n") {
				value.Style = kyaml.LiteralStyle
			}
		}
	}
	for _, child := range n.Content {
		literalExpressions(child)
	}
}
