package vap

import (
	"slices"
	"sync/atomic"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/psp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestCorpusAgreesWithPSP installs the validations of every valid corpus
// PSP on a real v1.37 apiserver (so every expression the corpus yields
// compiles there) and dry-runs every corpus workload's pod, defaulted by
// that PSP, in a namespace bound to it with Warn: the failing validations
// must be exactly those whose field the 1.24 PSP rejects the pod on.
func TestCorpusAgreesWithPSP(t *testing.T) {
	srv := startServer(t)
	workloads := corpusWorkloads(t)
	var compared, refused, rejected atomic.Int64
	t.Cleanup(func() {
		t.Logf("%d corpus pods compared (%d of them rejected by the PSP on an expressed field); %d invalid once defaulted, refused by the server as by 1.24",
			compared.Load(), rejected.Load(), refused.Load())
	})
	// Policies take about a second to take effect: install them all
	// before waiting for any.
	type installed struct {
		p     *psp.PodSecurityPolicy
		rules []Rule
		ns    string
	}
	var all []installed
	for _, pol := range corpusPolicies(t) {
		if len(ForPolicy(pol.PSP)) == 0 {
			continue
		}
		p := pol.PSP.DeepCopy()
		p.Name = testcluster.UniqueName("corpus")
		in := installed{p: p, rules: ForPolicy(p), ns: srv.namespace(t, "corpus")}
		srv.install(t, withCanary(Policy(p.Name, in.rules)),
			bindingIn(p.Name, in.ns, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Warn}))
		all = append(all, in)
	}
	for _, in := range all {
		t.Run(in.p.Name, func(t *testing.T) {
			t.Parallel()
			p, rules, ns := in.p, in.rules, in.ns
			srv.waitActive(t, ns, p.Name)
			expressed := map[ruleKey]bool{}
			for _, r := range rules {
				expressed[keyOf(r)] = true
			}
			for _, w := range workloads {
				pod := corpusPod(ns, w.Template)
				adm := psp.Admit(p, pod)
				var want []ruleKey
				for _, e := range adm.Errors {
					if k := pspRuleKey(e); k != "" {
						if !expressed[k] {
							t.Errorf("%s: the PSP rejects it with %v, but no validation keeps %s", w.Name, e, k)
						}
						want = append(want, k)
					}
				}
				want = sortedKeys(want)
				v := srv.dryRunCreate(ns, adm.Pod)
				if v.err != nil {
					// A PSP default can make a container invalid
					// (allowPrivilegeEscalation: false on a privileged one);
					// the 1.24 server refused such pods too.
					if len(psp.CoreSecurityContextErrors(adm.Pod)) == 0 {
						t.Errorf("%s %s: refused by the server: %v", w.Kind, w.Name, v.err)
					}
					refused.Add(1)
					continue
				}
				compared.Add(1)
				if len(want) > 0 {
					rejected.Add(1)
				}
				if got := v.keys(t, p.Name); !slices.Equal(got, want) {
					t.Errorf("%s %s: failing validations %v, the PSP rejects %v\n  warnings: %q", w.Kind, w.Name, got, want, v.warnings)
				}
			}
		})
	}
}

// corpusPod is the pod of a corpus template as the server receives it in
// ns: the default ServiceAccount (the only one there) without a token
// volume, with the API defaults PSP saw.
func corpusPod(ns string, template *corev1.PodTemplateSpec) *corev1.Pod {
	t := template.DeepCopy()
	t.Spec.ServiceAccountName, t.Spec.DeprecatedServiceAccount = "", ""
	t.Spec.AutomountServiceAccountToken = new(false)
	t.Spec.NodeName = ""
	pod := psp.AdmissionPod(ns, t, nil)
	pod.Name = "corpus"
	return pod
}
