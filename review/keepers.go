package review

import (
	"regexp"
	"slices"
	"sync"

	"github.com/psp2psa/psp2psa/manifest"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	sigsjson "sigs.k8s.io/json"
)

// Keeper recognises, among the input's documents, the admission policies
// of one engine that keep PSP restrictions no Pod Security level
// expresses. ValidatingAdmissionPolicy, Kyverno and Gatekeeper are built
// in; other engines register theirs with RegisterKeeper.
type Keeper struct {
	// Name names the engine: "ValidatingAdmissionPolicy".
	Name string
	// Kept lists what the documents keep; documents of other kinds are
	// ignored.
	Kept func(docs []manifest.Document) []Kept
}

// Kept is one PSP restriction an admission policy keeps.
type Kept struct {
	// Policy and Field name the restriction: the PSP and its field, as
	// convert names gaps ("allowedHostPaths").
	Policy, Field string
	// Selects reports whether the policy applies to pods in a namespace
	// with these labels (kubernetes.io/metadata.name among them).
	Selects func(namespaceLabels map[string]string) bool
	// By names the object that keeps it.
	By string
}

var keepers = struct {
	sync.Mutex
	list []Keeper
}{list: []Keeper{
	{Name: "ValidatingAdmissionPolicy", Kept: keptByAdmissionPolicies},
	{Name: "Kyverno", Kept: keptByKyvernoPolicies},
	{Name: "Gatekeeper", Kept: keptByGatekeeperConstraints},
}}

// RegisterKeeper adds an engine's Keeper; call it from an init function.
func RegisterKeeper(k Keeper) {
	keepers.Lock()
	defer keepers.Unlock()
	keepers.list = append(keepers.list, k)
}

// keptIndex is what the input's admission policies keep, by PSP and field.
type keptIndex map[[2]string][]Kept

func keptBy(in Input) keptIndex {
	keepers.Lock()
	list := append([]Keeper(nil), keepers.list...)
	keepers.Unlock()
	idx := keptIndex{}
	for _, k := range list {
		for _, kept := range k.Kept(in.Documents) {
			key := [2]string{kept.Policy, kept.Field}
			idx[key] = append(idx[key], kept)
		}
	}
	return idx
}

// keeps reports whether a policy of the input keeps the PSP's field in
// the namespace with these labels.
func (idx keptIndex) keeps(namespaceLabels map[string]string, policy, field string) bool {
	for _, k := range slices.Concat(idx[[2]string{policy, field}], idx[[2]string{anyPolicy, field}]) {
		if k.Selects == nil || k.Selects(namespaceLabels) {
			return true
		}
	}
	return false
}

// keptMessage is how psp2psa's own policies word a validation:
// "psp NAME: FIELD: what".
var keptMessage = regexp.MustCompile(`^psp ([^:\s]+): ([^:\s]+): `)

// keptByAdmissionPolicies reads ValidatingAdmissionPolicies and their
// bindings. A validation keeps a PSP field when its message says so, as
// the policies plan --write-dir writes do; it applies in the namespaces
// both the policy's and a binding's namespace selectors select. A policy
// without a binding keeps nothing.
func keptByAdmissionPolicies(docs []manifest.Document) []Kept {
	policies := map[string]*admissionregistrationv1.ValidatingAdmissionPolicy{}
	var bindings []*admissionregistrationv1.ValidatingAdmissionPolicyBinding
	for i := range docs {
		d := &docs[i]
		if apiGroup(d.APIVersion) != admissionregistrationv1.GroupName {
			continue
		}
		switch d.Kind {
		case "ValidatingAdmissionPolicy":
			var p admissionregistrationv1.ValidatingAdmissionPolicy
			if sigsjson.UnmarshalCaseSensitivePreserveInts(d.Raw, &p) == nil {
				policies[p.Name] = &p
			}
		case "ValidatingAdmissionPolicyBinding":
			var b admissionregistrationv1.ValidatingAdmissionPolicyBinding
			if sigsjson.UnmarshalCaseSensitivePreserveInts(d.Raw, &b) == nil {
				bindings = append(bindings, &b)
			}
		}
	}
	var out []Kept
	for _, b := range bindings {
		p := policies[b.Spec.PolicyName]
		if p == nil {
			continue
		}
		selects := bothSelect(namespaceSelectorOf(p.Spec.MatchConstraints), namespaceSelectorOf(b.Spec.MatchResources))
		for _, v := range p.Spec.Validations {
			m := keptMessage.FindStringSubmatch(v.Message)
			if m == nil {
				continue
			}
			out = append(out, Kept{Policy: m[1], Field: m[2], Selects: selects, By: "ValidatingAdmissionPolicy " + p.Name})
		}
	}
	return out
}

// namespaceSelectorOf is the namespace selector of match resources: nil
// selects every namespace, a selector that does not parse none.
func namespaceSelectorOf(m *admissionregistrationv1.MatchResources) func(map[string]string) bool {
	if m == nil || m.NamespaceSelector == nil {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(m.NamespaceSelector)
	if err != nil {
		return func(map[string]string) bool { return false }
	}
	return func(l map[string]string) bool { return sel.Matches(labels.Set(l)) }
}

func bothSelect(a, b func(map[string]string) bool) func(map[string]string) bool {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(l map[string]string) bool { return a(l) && b(l) }
}

func apiGroup(apiVersion string) string {
	for i := 0; i < len(apiVersion); i++ {
		if apiVersion[i] == '/' {
			return apiVersion[:i]
		}
	}
	return ""
}
