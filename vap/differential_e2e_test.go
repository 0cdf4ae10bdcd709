package vap

import (
	"github.com/psp2psa/psp2psa/internal/gapcases"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/psp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
)

// probe is one pod of a case with what the 1.24 PSP says about it.
type probe struct {
	name string
	// pod is the pod after the PSP's defaults, as the patched workloads
	// carry them; raw is the pod as written.
	pod, raw *corev1.Pod
	// want are the validations that must fail on pod: those whose field
	// the PSP's errors name. wantRaw adds those whose value the PSP filled
	// in: the policy requires it.
	want, wantRaw []ruleKey
}

func probesOf(t *testing.T, tc gapcases.Case, p *psp.PodSecurityPolicy, rules []Rule) []probe {
	t.Helper()
	expressed := map[ruleKey]bool{}
	for _, r := range rules {
		expressed[keyOf(r)] = true
	}
	var out []probe
	for _, np := range tc.Pods {
		adm := psp.Admit(p, np.Pod)
		pr := probe{name: np.Name, pod: adm.Pod, raw: np.Pod}
		for _, e := range adm.Errors {
			k := pspRuleKey(e)
			if k == "" {
				continue
			}
			if !expressed[k] {
				t.Errorf("%s: the PSP rejects it with %v, but no validation keeps %s", np.Name, e, k)
			}
			pr.want = append(pr.want, k)
		}
		pr.want = sortedKeys(pr.want)
		pr.wantRaw = sortedKeys(append(slices.Clone(pr.want), filledIn(np.Pod, adm.Pod, expressed)...))
		out = append(out, pr)
	}
	return out
}

// filledIn lists the validations that require a value the PSP's defaults
// wrote into the pod (gapcases.FilledIn).
func filledIn(raw, defaulted *corev1.Pod, expressed map[ruleKey]bool) []ruleKey {
	var keys []ruleKey
	for _, f := range gapcases.FilledIn(raw, defaulted) {
		if expressed[ruleKey(f)] {
			keys = append(keys, ruleKey(f))
		}
	}
	return keys
}

// TestValidationsAgreeWithPSP is the differential test: for every case,
// ForPolicy's validations run on a real v1.37 apiserver, once with Warn
// (which reports every failing validation) and once with Deny, and for
// every pod, defaulted by the PSP as the patched workloads are, the
// failing validations are exactly those whose field the 1.24 PSP
// (psp.Admit) rejects; checks PSS already covers are left out. The pod as
// written fails, in addition, the validations that require a value the
// PSP would have filled in.
func TestValidationsAgreeWithPSP(t *testing.T) {
	srv := startServer(t)
	var mu sync.Mutex
	total := 0
	t.Cleanup(func() { t.Logf("%d pods compared (defaulted and as written, Warn and Deny)", total) })
	// Policies take about a second to take effect: install them all
	// before waiting for any.
	type installed struct {
		gapcases.Case
		p              *psp.PodSecurityPolicy
		rules          []Rule
		warnNS, denyNS string
	}
	var all []installed
	for _, tc := range gapcases.Cases() {
		in := installed{Case: tc, p: tc.PSP.DeepCopy()}
		in.p.Name = testcluster.UniqueName(tc.PSP.Name)
		in.rules = ForPolicy(in.p)
		if len(in.rules) == 0 {
			t.Fatalf("%s: ForPolicy returned no rules", tc.Name)
		}
		in.warnNS, in.denyNS = srv.namespace(t, "warn"), srv.namespace(t, "deny")
		srv.install(t, withCanary(Policy(in.p.Name, in.rules)),
			bindingIn(in.p.Name, in.warnNS, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Warn}),
			bindingIn(in.p.Name, in.denyNS, Enforce))
		all = append(all, in)
	}
	for _, in := range all {
		t.Run(in.Name, func(t *testing.T) {
			t.Parallel()
			p, rules, warnNS, denyNS := in.p, in.rules, in.warnNS, in.denyNS
			probes := probesOf(t, in.Case, p, rules)
			if !slices.ContainsFunc(probes, func(pr probe) bool { return len(pr.want) > 0 }) {
				t.Fatal("the PSP rejects no pod of the case")
			}
			srv.waitActive(t, warnNS, p.Name)
			srv.waitActive(t, denyNS, p.Name)

			compareAll(t, probes, func(pr probe) (string, *corev1.Pod, []ruleKey) { return "defaulted", pr.pod, pr.want }, srv, p, warnNS, denyNS, rules)
			compareAll(t, probes, func(pr probe) (string, *corev1.Pod, []ruleKey) { return "as written", pr.raw, pr.wantRaw }, srv, p, warnNS, denyNS, rules)
			mu.Lock()
			total += 2 * len(probes)
			mu.Unlock()
		})
	}
}

// compareAll dry-runs every probe in both namespaces, a few at a time.
func compareAll(t *testing.T, probes []probe, pick func(probe) (string, *corev1.Pod, []ruleKey), srv *server, p *psp.PodSecurityPolicy, warnNS, denyNS string, rules []Rule) {
	t.Helper()
	const workers = 4
	var wg sync.WaitGroup
	next := make(chan probe)
	for range workers {
		wg.Go(func() {
			for pr := range next {
				form, pod, want := pick(pr)
				compareOne(t, pr.name+" ("+form+")", srv, p, warnNS, denyNS, pod, want, rules)
			}
		})
	}
	for _, pr := range probes {
		next <- pr
	}
	close(next)
	wg.Wait()
}

func compareOne(t *testing.T, name string, srv *server, p *psp.PodSecurityPolicy, warnNS, denyNS string, pod *corev1.Pod, want []ruleKey, rules []Rule) {
	warned := srv.dryRunCreate(warnNS, pod)
	if warned.err != nil {
		t.Errorf("%s: the server refuses the pod: %v", name, warned.err)
		return
	}
	if got := warned.keys(t, p.Name); !slices.Equal(got, want) {
		t.Errorf("%s: failing validations %v, the PSP rejects %v\n  warnings: %q", name, got, want, warned.warnings)
	}
	denied := srv.dryRunCreate(denyNS, pod)
	switch {
	case len(want) == 0 && denied.err != nil:
		t.Errorf("%s: denied, but the PSP admits it: %v", name, denied.err)
	case len(want) > 0 && denied.err == nil:
		t.Errorf("%s: admitted, but the PSP rejects %v", name, want)
	case len(want) > 0 && !deniedWithMessage(denied.err.Error(), want, rules):
		t.Errorf("%s: denied without a message for %v: %v", name, want, denied.err)
	}
}

// deniedWithMessage reports whether the denial carries the message of one
// of the failing validations.
func deniedWithMessage(text string, want []ruleKey, rules []Rule) bool {
	for _, r := range rules {
		if slices.Contains(want, keyOf(r)) && strings.Contains(text, r.Message) {
			return true
		}
	}
	return false
}
