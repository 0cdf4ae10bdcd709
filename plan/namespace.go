package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/psp2psa/psp2psa/internal/parallel"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// Namespace is the plan for one namespace.
type Namespace struct {
	Name string `json:"name"`
	// Labels are the pod-security.kubernetes.io labels to set; empty for a
	// system namespace without --include-system.
	Labels map[string]string `json:"labels"`
	// Current are the pod-security.kubernetes.io labels it carries now.
	Current map[string]string `json:"current"`
	// PSPLevel is the level of the most permissive PSP its subjects may
	// use (empty when the input holds no PSP); WorkloadLevel the strictest
	// level all its workloads pass once patched.
	PSPLevel      api.Level `json:"pspLevel"`
	WorkloadLevel api.Level `json:"workloadLevel"`
	// Enforce is the proposed enforce level; empty when the namespace's
	// answer is incomplete, which gets audit and warn labels only.
	Enforce api.Level `json:"enforce"`
	// Rollout is the staged change: warn and audit first, then enforce.
	Rollout []Stage `json:"rollout"`
	// Tightening lists what the PSPs allowed that the namespace will now
	// forbid; Loosening what the PSPs restricted that no level expresses.
	Tightening []Change `json:"tightening,omitempty"`
	Loosening  []Change `json:"loosening,omitempty"`
	// Policies are the PSPs the namespace's subjects may use.
	Policies  []string `json:"policies"`
	Workloads int      `json:"workloads"`
	System    bool     `json:"system,omitempty"`
	Notes     []string `json:"notes,omitempty"`
	// Incomplete are the reasons (Reason constants) its answer rests on
	// what the input lacks: its own, its workloads' and the read's.
	Incomplete []string `json:"incomplete,omitempty"`
}

// Stage is one step of the rollout.
type Stage struct {
	Step        int               `json:"step"`
	Description string            `json:"description"`
	Labels      map[string]string `json:"labels"`
}

// Change is one restriction that moves with the migration.
type Change struct {
	Policy  string   `json:"policy"`
	Field   string   `json:"field"`
	Checks  []string `json:"checks,omitempty"`
	Message string   `json:"message"`
}

var systemNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

// IsSystem reports whether a namespace belongs to Kubernetes itself.
func IsSystem(name string) bool { return systemNamespaces[name] }

// planNamespaces plans each namespace, and lists what each one's answer
// rests on that the input lacks: its own missing pieces, then its
// workloads'.
func planNamespaces(p *Plan, inv *inventory.Inventory, wp *workloadPlanner, opts Options) ([]Namespace, []Incomplete) {
	byNS := map[string][]*Workload{}
	for i := range p.Workloads {
		w := &p.Workloads[i]
		byNS[w.Namespace] = append(byNS[w.Namespace], w)
	}
	current := currentLabels(inv)
	accounts := accountsByNamespace(inv, p.Workloads)
	names := make([]string, 0, len(p.Policies))
	for i := range p.Policies {
		names = append(names, p.Policies[i].Name)
	}
	// Namespaces are planned on all processors, each into its own place,
	// and their missing pieces gathered in namespace order.
	nsNames := inv.NamespaceNames()
	if len(nsNames) == 0 {
		return nil, nil
	}
	out := make([]Namespace, len(nsNames))
	own := make([][]Incomplete, len(nsNames))
	parallel.For(len(nsNames), func(i int) {
		name := nsNames[i]
		ns := Namespace{Name: name, Current: current[name], System: IsSystem(name)}
		if ns.Current == nil {
			ns.Current = map[string]string{}
		}
		ns.Policies = usablePolicies(wp.auth, name, accounts[name], byNS[name], names)
		ns.PSPLevel = loosestLevel(p, ns.Policies)
		own[i] = wp.complete.missingRolesIn(name, byNS[name])
		if m := noUseGrant(&ns, byNS[name], wp.complete); m != nil {
			own[i] = append([]Incomplete{*m}, own[i]...)
		}
		ns.Incomplete = wp.complete.namespaceReasons(own[i], byNS[name])
		planLevels(&ns, byNS[name], opts)
		ns.Labels = proposedLabels(&ns, opts)
		ns.Rollout = rollout(&ns, opts)
		ns.Tightening = tightening(p, &ns)
		ns.Loosening = loosening(p, &ns)
		ns.Notes = append(ns.Notes, mixedPolicies(byNS[name])...)
		out[i] = ns
	})
	var missing []Incomplete
	for i, name := range nsNames {
		missing = append(missing, own[i]...)
		for _, w := range byNS[name] {
			missing = append(missing, w.missing...)
		}
	}
	return out, missing
}

func currentLabels(inv *inventory.Inventory) map[string]map[string]string {
	out := map[string]map[string]string{}
	for i := range inv.Namespaces {
		ns := &inv.Namespaces[i]
		for k, v := range ns.Labels {
			if pss.IsLabel(k) {
				if out[ns.Name] == nil {
					out[ns.Name] = map[string]string{}
				}
				out[ns.Name][k] = v
			}
		}
	}
	return out
}

// accountsByNamespace lists each namespace's service accounts: those the
// input declares, those workloads run as, and "default".
func accountsByNamespace(inv *inventory.Inventory, workloads []Workload) map[string][]string {
	set := map[string]map[string]bool{}
	add := func(ns, name string) {
		if set[ns] == nil {
			set[ns] = map[string]bool{psp.DefaultServiceAccount: true}
		}
		set[ns][name] = true
	}
	for i := range inv.ServiceAccounts {
		add(inv.ServiceAccounts[i].Namespace, inv.ServiceAccounts[i].Name)
	}
	for i := range workloads {
		add(workloads[i].Namespace, workloads[i].ServiceAccount)
	}
	out := map[string][]string{}
	for ns, names := range set {
		out[ns] = sortedKeys(names)
	}
	return out
}

// usablePolicies are the PSPs any subject of the namespace may use: its
// service accounts, and the controllers that create its workloads' pods.
func usablePolicies(auth *psp.Authorizer, ns string, accounts []string, workloads []*Workload, all []string) []string {
	set := map[string]bool{}
	for _, sa := range accounts {
		for _, name := range auth.UsablePolicies(psp.ServiceAccountUser(ns, sa), ns, all) {
			set[name] = true
		}
	}
	seen := map[string]bool{}
	for _, w := range workloads {
		if w.Requester == "" || seen[w.Requester] {
			continue
		}
		seen[w.Requester] = true
		for _, name := range auth.UsablePolicies(w.requester, ns, all) {
			set[name] = true
		}
	}
	return sortedKeys(set)
}

// loosestLevel is the level of the most permissive of the PSPs; with none,
// no pod is admitted at all, which no level is stricter than. With no PSP
// in the input at all there is no level to say.
func loosestLevel(p *Plan, names []string) api.Level {
	if len(p.Policies) == 0 {
		return ""
	}
	if len(names) == 0 {
		return pss.Restricted
	}
	level := pss.Restricted
	for _, name := range names {
		if r := p.Policy(name); r != nil && pss.Stricter(level, r.Level) {
			level = r.Level
		}
	}
	return level
}

// planLevels sets WorkloadLevel and Enforce. Workloads no PSP admits today
// do not run, so they do not hold the namespace down; they are noted. A
// workload whose answer is unknown may run, so it counts. A namespace whose
// answer is incomplete gets no enforce level.
func planLevels(ns *Namespace, workloads []*Workload, opts Options) {
	level := pss.Restricted
	counted := 0
	for _, w := range workloads {
		if w.OwnedBy != "" {
			continue
		}
		if w.Rejected() && !w.Unknown() {
			ns.Notes = append(ns.Notes, fmt.Sprintf("%s is rejected by every PSP it may use today; it does not count toward the namespace level (it would need %s)", w.Ref(), w.LevelAfterPatch))
			continue
		}
		counted++
		if pss.Stricter(level, w.LevelAfterPatch) {
			level = w.LevelAfterPatch
		}
	}
	ns.Workloads = counted
	if counted == 0 {
		level = opts.EmptyNamespaceLevel
	}
	ns.WorkloadLevel, ns.Enforce = level, level
	if len(ns.Incomplete) > 0 {
		ns.Enforce = ""
		ns.Notes = append(ns.Notes, fmt.Sprintf("no enforce level: the plan is incomplete here (%s; listed under incomplete) until the input holds what is missing",
			strings.Join(ns.Incomplete, ", ")))
		return
	}
	if counted == 0 {
		ns.Notes = append(ns.Notes, fmt.Sprintf("no running workloads: enforce %s (--empty-namespace-level)", level))
	}
}

// targetLabels are the labels the plan wants: enforce at the namespace's
// level, audit and warn one level stricter so teams see what stands
// between them and restricted, all pinned to the version.
func targetLabels(enforce api.Level, version api.Version) map[string]string {
	watch := pss.NextStricter(enforce)
	return pss.Labels(map[pss.Mode]api.Level{pss.Enforce: enforce, pss.Audit: watch, pss.Warn: watch}, version)
}

// watchLabels are the labels of a namespace whose answer is incomplete:
// audit and warn as the plan would set them, no enforce.
func watchLabels(level api.Level, version api.Version) map[string]string {
	watch := pss.NextStricter(level)
	return pss.Labels(map[pss.Mode]api.Level{pss.Audit: watch, pss.Warn: watch}, version)
}

func proposedLabels(ns *Namespace, opts Options) map[string]string {
	if ns.System && !opts.IncludeSystem {
		ns.Notes = append(ns.Notes, "system namespace: reported, not labelled (--include-system labels it)")
		return map[string]string{}
	}
	labels := targetLabels(ns.Enforce, opts.Version)
	if ns.Enforce == "" {
		labels = watchLabels(ns.WorkloadLevel, opts.Version)
	}
	if opts.Overwrite {
		return labels
	}
	for _, k := range sortedKeys(keysOf(ns.Current)) {
		v := ns.Current[k]
		want, ok := labels[k]
		switch {
		case ok && want != v:
			ns.Notes = append(ns.Notes, fmt.Sprintf("keeps existing %s=%s (the plan would set %s; --overwrite replaces it)", k, v, want))
		case !ok:
			ns.Notes = append(ns.Notes, fmt.Sprintf("keeps existing %s=%s (the plan sets no %s here)", k, v, k))
		}
		labels[k] = v
	}
	return labels
}

// rollout stages the change: first warn and audit at the level to be
// enforced, so violations surface without rejecting anything; then the
// final labels.
func rollout(ns *Namespace, opts Options) []Stage {
	if len(ns.Labels) == 0 {
		return []Stage{}
	}
	if ns.Enforce == "" {
		return []Stage{{Step: 1, Description: "audit and warn only: the plan is incomplete here, so it proposes no enforce level", Labels: ns.Labels}}
	}
	observe := pss.Labels(map[pss.Mode]api.Level{pss.Audit: ns.Enforce, pss.Warn: ns.Enforce}, opts.Version)
	return []Stage{
		{Step: 1, Description: fmt.Sprintf("warn and audit at %s: violations show up in kubectl warnings and the audit log, nothing is rejected", ns.Enforce), Labels: observe},
		{Step: 2, Description: fmt.Sprintf("enforce %s once no warnings remain; audit and warn move on to %s", ns.Enforce, pss.NextStricter(ns.Enforce)), Labels: ns.Labels},
	}
}

// tightening lists, for each usable PSP looser than the enforced level,
// the findings that level now forbids.
func tightening(p *Plan, ns *Namespace) []Change {
	if ns.Enforce == "" {
		return nil
	}
	var out []Change
	for _, name := range ns.Policies {
		r := p.Policy(name)
		if r == nil || !pss.Stricter(ns.Enforce, r.Level) {
			continue
		}
		for _, f := range r.Findings {
			if !pss.Stricter(f.Level, ns.Enforce) {
				out = append(out, Change{Policy: name, Field: f.Field, Checks: f.Checks, Message: f.Message})
			}
		}
	}
	return out
}

// loosening lists the usable PSPs' restrictions no PSS level expresses.
func loosening(p *Plan, ns *Namespace) []Change {
	var out []Change
	for _, name := range ns.Policies {
		if r := p.Policy(name); r != nil {
			for _, g := range r.Gaps {
				out = append(out, Change{Policy: name, Field: g.Field, Message: g.Message})
			}
		}
	}
	return out
}

// mixedPolicies calls out a namespace whose service accounts are admitted
// by different PSPs: Pod Security labels are per namespace only.
func mixedPolicies(workloads []*Workload) []string {
	bySA := map[string]map[string]bool{}
	policies := map[string]bool{}
	for _, w := range workloads {
		if w.AdmittedBy == "" {
			continue
		}
		if bySA[w.AdmittedBy] == nil {
			bySA[w.AdmittedBy] = map[string]bool{}
		}
		bySA[w.AdmittedBy][w.ServiceAccount] = true
		policies[w.AdmittedBy] = true
	}
	if len(policies) < 2 {
		return nil
	}
	var parts []string
	for _, name := range sortedKeys(policies) {
		accounts := sortedKeys(bySA[name])
		what := "service account"
		if len(accounts) > 1 {
			what = "service accounts"
		}
		parts = append(parts, fmt.Sprintf("PSP %s admits %s %s", name, what, strings.Join(accounts, ", ")))
	}
	return []string{"different PSPs admit this namespace's workloads (" + strings.Join(parts, "; ") + "); Pod Security applies one level to the whole namespace"}
}

func keysOf(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
