package inventory

import (
	"fmt"
	"sort"

	"github.com/psp2psa/psp2psa/manifest"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Aggregation labels of the bootstrap roles admin, edit and view.
const (
	aggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
	aggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	aggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
)

// BootstrapAggregators are the aggregating ClusterRoles every apiserver
// creates and reconciles (bootstrappolicy.ClusterRoles): admin gathers
// what is labelled aggregate-to-admin, edit (itself so labelled) what is
// labelled aggregate-to-edit, view (labelled aggregate-to-edit) what is
// labelled aggregate-to-view. Their built-in rules come from the
// system:aggregate-to-* roles, which grant no PSP.
func BootstrapAggregators() []rbacv1.ClusterRole {
	role := func(name, label, gathers string) rbacv1.ClusterRole {
		r := rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{gathers: "true"}},
			}},
		}
		if label != "" {
			r.Labels[label] = "true"
		}
		return r
	}
	return []rbacv1.ClusterRole{
		role("admin", "", aggregateToAdmin),
		role("edit", aggregateToAdmin, aggregateToEdit),
		role("view", aggregateToEdit, aggregateToView),
	}
}

// assumeBootstrapAggregators adds the BootstrapAggregators the input does
// not define when one of its ClusterRoles is labelled for them, as every
// cluster has them: a GitOps repository labels its own role
// aggregate-to-edit to grant a PSP through "edit", and seldom holds "edit"
// itself. Without them the labelled role would grant nothing.
func (b *builder) assumeBootstrapAggregators() {
	defined := map[string]bool{}
	labelled := false
	for _, r := range b.inv.ClusterRoles {
		defined[r.Name] = true
		for _, l := range []string{aggregateToAdmin, aggregateToEdit, aggregateToView} {
			labelled = labelled || r.Labels[l] == "true"
		}
	}
	if !labelled {
		return
	}
	for _, r := range BootstrapAggregators() {
		if defined[r.Name] {
			continue
		}
		b.inv.ClusterRoles = append(b.inv.ClusterRoles, r)
		b.clusterRoleSources = append(b.clusterRoleSources, manifest.Document{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole", Name: r.Name})
	}
}

// aggregate gives every ClusterRole with an aggregationRule the rules the
// clusterrole-aggregation controller would write into it
// (pkg/controller/clusterroleaggregation, syncClusterRole): for each
// selector in order, the rules of every other ClusterRole whose labels
// match, roles in name order, each distinct rule once. The controller
// replaces the role's own rules with that list and reruns until nothing
// changes; here an aggregating source contributes what it aggregates,
// which is that fixed point. A role whose selectors fail to parse keeps its
// rules and is reported.
func (b *builder) aggregate() []error {
	roles := b.inv.ClusterRoles
	selectors := make([][]labels.Selector, len(roles))
	var errs []error
	for i := range roles {
		rule := roles[i].AggregationRule
		if rule == nil {
			continue
		}
		parsed, err := parseSelectors(rule.ClusterRoleSelectors)
		if err != nil {
			d := b.clusterRoleSources[i]
			errs = append(errs, &manifest.Error{Source: d.Source, Object: d.Object(), Field: err.field, Err: err.err})
			continue
		}
		selectors[i] = parsed
	}
	byName := make([]int, len(roles))
	for i := range byName {
		byName[i] = i
	}
	sort.SliceStable(byName, func(x, y int) bool { return roles[byName[x]].Name < roles[byName[y]].Name })

	a := aggregator{roles: roles, selectors: selectors, byName: byName}
	resolved := make([][]rbacv1.PolicyRule, len(roles))
	for i := range roles {
		if selectors[i] != nil {
			resolved[i] = a.aggregated(i)
		}
	}
	for i := range roles {
		if selectors[i] != nil {
			roles[i].Rules = resolved[i]
		}
	}
	return errs
}

type selectorError struct {
	field string
	err   error
}

func parseSelectors(in []metav1.LabelSelector) ([]labels.Selector, *selectorError) {
	out := make([]labels.Selector, 0, len(in))
	for i := range in {
		s, err := metav1.LabelSelectorAsSelector(&in[i])
		if err != nil {
			return nil, &selectorError{
				field: fmt.Sprintf("aggregationRule.clusterRoleSelectors[%d]", i),
				err:   fmt.Errorf("invalid label selector: %w", err),
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// aggregator expands aggregation rules. Each top-level expansion visits a
// role at most once, so a cycle of aggregating roles ends with the union
// of all their sources, which is where the controller settles too.
type aggregator struct {
	roles     []rbacv1.ClusterRole
	selectors [][]labels.Selector // nil for a role that does not aggregate
	byName    []int
}

// aggregated returns the rules the controller would write into the
// aggregating role i.
func (a *aggregator) aggregated(i int) []rbacv1.PolicyRule {
	out := []rbacv1.PolicyRule{}
	visited := map[int]bool{i: true}
	a.collect(i, visited, &out)
	return out
}

func (a *aggregator) collect(i int, visited map[int]bool, out *[]rbacv1.PolicyRule) {
	for _, sel := range a.selectors[i] {
		for _, j := range a.byName {
			if visited[j] || a.roles[j].Name == a.roles[i].Name || !sel.Matches(labels.Set(a.roles[j].Labels)) {
				continue
			}
			if a.selectors[j] != nil {
				visited[j] = true
				a.collect(j, visited, out)
				continue
			}
			for _, r := range a.roles[j].Rules {
				if !ruleExists(*out, r) {
					*out = append(*out, r)
				}
			}
		}
	}
}

func ruleExists(haystack []rbacv1.PolicyRule, needle rbacv1.PolicyRule) bool {
	for i := range haystack {
		if equality.Semantic.DeepEqual(haystack[i], needle) {
			return true
		}
	}
	return false
}
