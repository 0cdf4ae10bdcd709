// Package plan answers the migration question for a whole inventory: which
// PSP admits each workload today and what it injected, the patch that
// keeps those settings once PSP is gone, and the Pod Security labels each
// namespace can carry, with what gets stricter and what gets looser.
package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// Options are the choices a plan depends on.
type Options struct {
	// Version is the PSS version evaluated and pinned in labels.
	Version api.Version
	// Target is the apiserver the plan is for: it decides the form of the
	// patches and how Pod Security admission sees a pod there. The zero
	// value is apiserver.Default().
	Target apiserver.Target
	// ToLevel, when set, also adds what that level needs to each workload
	// where a securityContext change suffices.
	ToLevel api.Level
	// EmptyNamespaceLevel is enforced on namespaces without workloads.
	EmptyNamespaceLevel api.Level
	// ControllerIdentity names who creates controller-made pods: see
	// psp.ControllerIdentity.
	ControllerIdentity string
	// PodCreator names who created the bare Pods: "user:NAME" or
	// "sa:NAMESPACE:NAME"; empty when unknown.
	PodCreator string
	// IncludeSystem labels kube-system, kube-public and kube-node-lease too.
	IncludeSystem bool
	// Overwrite replaces existing pod-security.kubernetes.io labels.
	Overwrite bool
	// PinIDs adds to each patch the UID, GID and fsGroup the template
	// leaves to the image, from the admitting PSP's ranges (hygiene.Pins).
	PinIDs bool
	// Planned, when set, is called as each workload is planned (from
	// several goroutines at once): a progress report's count.
	Planned func()
}

// Plan is the whole migration plan. Its JSON form is the schema of
// `psp2psa plan -o json`.
type Plan struct {
	Target     apiserver.Target       `json:"target"`
	PSSVersion string                 `json:"pssVersion"`
	ToLevel    api.Level              `json:"toLevel,omitempty"`
	Policies   []convert.PolicyResult `json:"policies"`
	Workloads  []Workload             `json:"workloads"`
	Namespaces []Namespace            `json:"namespaces"`
	Skipped    map[string]int         `json:"skipped,omitempty"`
	Problems   []manifest.Problem     `json:"problems,omitempty"`
	Warnings   []manifest.Problem     `json:"warnings,omitempty"`
	// Incomplete lists what the plan rests on that the input lacks: what a
	// read of the cluster could not see, then per namespace its missing
	// pieces and its workloads'. No enforce label rests on any of them.
	Incomplete []Incomplete `json:"incomplete,omitempty"`
	// Notes are what the files written with the plan leave to the reader,
	// such as restrictions no file keeps.
	Notes []string `json:"notes,omitempty"`
	index map[string]*convert.PolicyResult
}

// Input is what a plan is built from.
type Input struct {
	Policies  []psp.Policy
	Inventory *inventory.Inventory
}

// Build computes the plan. It is linear in workloads: RBAC is indexed once,
// each workload asks only about its own identities.
func Build(in Input, opts Options) *Plan {
	if opts.Target.From == "" {
		opts.Target = apiserver.Default()
	}
	p := &Plan{Target: opts.Target, PSSVersion: opts.Version.String(), ToLevel: opts.ToLevel, index: map[string]*convert.PolicyResult{}}
	var policies []*psp.PodSecurityPolicy
	var names []string
	specs := map[string]*psp.PodSecurityPolicy{}
	for _, pol := range lastByName(in.Policies) {
		r := convert.Convert(pol.PSP, opts.Version)
		r.Source, r.APIVersion = pol.Source, pol.APIVersion
		p.Policies = append(p.Policies, r)
		policies = append(policies, pol.PSP)
		names = append(names, pol.PSP.Name)
		specs[pol.PSP.Name] = pol.PSP
	}
	sort.SliceStable(p.Policies, func(i, j int) bool { return p.Policies[i].Name < p.Policies[j].Name })
	for i := range p.Policies {
		p.index[p.Policies[i].Name] = &p.Policies[i]
	}
	inv := in.Inventory
	w := &workloadPlanner{
		opts:     opts,
		selector: psp.NewSelector(policies),
		auth:     psp.NewAuthorizer(inv.Roles, inv.ClusterRoles, inv.RoleBindings, inv.ClusterRoleBindings),
		eval:     pss.NewEvaluator(),
		accounts: indexServiceAccounts(inv),
		complete: newCompleteness(names, inv, opts.PodCreator != ""),
		specs:    specs,
		policies: setOf(names),
		answers:  newAnswers(),
	}
	w.usable = &usable{auth: w.auth, sets: map[string]psp.UseSet{}}
	p.Workloads = w.planAll(inv.Workloads)
	for _, m := range inv.Incomplete {
		p.Incomplete = append(p.Incomplete, Incomplete{Reason: ReasonClusterRead, Message: m})
	}
	if w.complete.noPSP {
		p.Incomplete = append(p.Incomplete, Incomplete{Reason: ReasonNoPSP,
			Message: "the input holds no PodSecurityPolicy: which PSP admits each workload today is unknown"})
	}
	var missing []Incomplete
	p.Namespaces, missing = planNamespaces(p, inv, w, opts)
	p.Incomplete = append(p.Incomplete, missing...)
	p.Notes = append(p.Notes, upgradeNotes(p)...)
	return p
}

// upgradeNotes say what to plan again on the way to a current release:
// the forms a patch takes for an older target stop working, or stop being
// the only form, at later versions.
func upgradeNotes(p *Plan) []string {
	var notes []string
	if !p.Target.AppArmorField() && p.hasAnnotationChange() {
		notes = append(notes, fmt.Sprintf("AppArmor is written as the container annotations, the only form a %s server reads; "+
			"once the cluster runs 1.30 or later, plan again with --server-version for it (with --in-place for manifests): "+
			"the annotations become securityContext.appArmorProfile", p.Target))
	}
	if p.Target.CopiesSeccompAnnotations() && p.hasSeccompAnnotation() {
		notes = append(notes, fmt.Sprintf("seccomp annotations in pod templates still count on a %s server, which copies them into the fields; "+
			"1.27 and later ignore them, so plan again with --server-version v1.27 or later before that upgrade: it moves them into the fields", p.Target))
	}
	return notes
}

func (p *Plan) hasSeccompAnnotation() bool {
	for i := range p.Workloads {
		if t := p.Workloads[i].template; t != nil {
			for key := range t.Annotations {
				if key == psp.SeccompPodAnnotation || strings.HasPrefix(key, psp.SeccompContainerAnnotationPrefix) {
					return true
				}
			}
		}
	}
	return false
}

func (p *Plan) hasAnnotationChange() bool {
	for i := range p.Workloads {
		for _, ch := range p.Workloads[i].Patch.Changes {
			if ch.Annotation != "" {
				return true
			}
		}
	}
	return false
}

// Policy returns the conversion of the named PSP, or nil.
func (p *Plan) Policy(name string) *convert.PolicyResult {
	if p.index == nil {
		p.index = map[string]*convert.PolicyResult{}
		for i := range p.Policies {
			p.index[p.Policies[i].Name] = &p.Policies[i]
		}
	}
	return p.index[name]
}

// lastByName keeps one PSP per name, the last read, as applying the inputs
// in order would leave the cluster (the reader warns about the repeat).
func lastByName(in []psp.Policy) []psp.Policy {
	pos := map[string]int{}
	var out []psp.Policy
	for _, pol := range in {
		if i, ok := pos[pol.PSP.Name]; ok {
			out[i] = pol
			continue
		}
		pos[pol.PSP.Name] = len(out)
		out = append(out, pol)
	}
	return out
}

func setOf(names []string) map[string]bool {
	out := make(map[string]bool, len(names))
	for _, name := range names {
		out[name] = true
	}
	return out
}
