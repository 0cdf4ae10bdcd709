package kyverno

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/engines"
	"github.com/psp2psa/psp2psa/internal/gapcases"
	"github.com/psp2psa/psp2psa/vap"
	"sigs.k8s.io/yaml"
)

// suite is one PSP's policy and probe pods: defaulted by the PSP in one
// namespace, as written in another.
type suite struct {
	name                 string
	rules                []vap.Rule
	defaulted, asWritten string // namespaces
	probes               []gapcases.Probe
}

// TestKyvernoAgreesWithPSP is the differential test with the real engine:
// the Kyverno CLI applies the ClusterPolicy Policy writes for every
// differential case and every corpus PSP with rules to the cases' probe
// pods and every corpus pod, and for every pod the rules that fail must be
// exactly those of the fields the 1.24 PSP (psp.Admit) rejects it on: on
// the pod defaulted by the PSP, as the patched workloads are, and on the
// pod as written, which also fails the rules requiring a value the PSP
// filled in. Every rule must report on every pod, so a policy that
// matches nothing cannot pass.
func TestKyvernoAgreesWithPSP(t *testing.T) {
	kyverno := engines.Kyverno(t)
	suites := kyvernoSuites(t)
	dir := t.TempDir()
	var policies, pods []any
	for i, s := range suites {
		policies = append(policies, Policy(suiteName(i), s.rules, []string{s.defaulted, s.asWritten}, false))
		for j, pr := range s.probes {
			pods = append(pods, gapcases.ProbePod(pr.Pod, s.defaulted, j), gapcases.ProbePod(pr.Raw, s.asWritten, j))
		}
	}
	engines.WriteYAML(t, filepath.Join(dir, "policies.yaml"), policies...)
	engines.WriteYAML(t, filepath.Join(dir, "pods.yaml"), pods...)
	out, stderr, code := engines.Run(t, kyverno, "apply", filepath.Join(dir, "policies.yaml"),
		"--resource", filepath.Join(dir, "pods.yaml"), "--policy-report")
	results := kyvernoResults(t, out, stderr, code)
	compared, failing := 0, 0
	for i, s := range suites {
		names := ruleNames(s.rules)
		for j, pr := range s.probes {
			for _, form := range []struct {
				ns   string
				want []string
			}{
				{s.defaulted, ruleFields(pr.Fields, names)},
				{s.asWritten, ruleFields(append(slices.Clone(pr.Fields), pr.FilledIn...), names)},
			} {
				key := vap.PolicyName(suiteName(i)) + " " + form.ns + "/" + gapcases.ProbeName(j)
				r := results[key]
				if len(r.passed)+len(r.failed) != len(names) || len(r.errors) > 0 {
					t.Errorf("%s: %s in %s: rules passed %v, failed %v, errors %v; want a verdict from each of %v",
						s.name, pr.Name, form.ns, r.passed, r.failed, r.errors, names)
					continue
				}
				compared++
				if len(r.failed) > 0 {
					failing++
				}
				if !slices.Equal(r.failed, form.want) {
					t.Errorf("%s: %s in %s: rules %v fail, the PSP rejects %v (filled in %v)",
						s.name, pr.Name, form.ns, r.failed, pr.Fields, pr.FilledIn)
				}
			}
		}
	}
	t.Logf("kyverno %s: %d PSPs, %d pods compared (defaulted and as written), %d of them failing a rule as the PSP rejects them",
		engines.KyvernoVersion, len(suites), compared, failing)
}

func suiteName(i int) string { return fmt.Sprintf("suite-%d", i) }

// kyvernoSuites are the differential cases and the corpus PSPs with
// rules.
func kyvernoSuites(t *testing.T) []suite {
	var suites []suite
	add := func(name string, rules []vap.Rule, probes func(ns string) []gapcases.Probe) {
		i := len(suites)
		s := suite{name: name, rules: rules, defaulted: fmt.Sprintf("defaulted-%d", i), asWritten: fmt.Sprintf("as-written-%d", i)}
		s.probes = probes(s.defaulted)
		suites = append(suites, s)
	}
	for _, tc := range gapcases.Cases() {
		add(tc.Name, vap.ForPolicy(tc.PSP), func(string) []gapcases.Probe { return gapcases.Probes(tc.PSP, tc.Pods) })
	}
	for _, pol := range gapcases.CorpusPolicies(t) {
		if rules := vap.ForPolicy(pol.PSP); len(rules) > 0 {
			add("corpus "+pol.PSP.Name, rules, func(ns string) []gapcases.Probe {
				return gapcases.Probes(pol.PSP, gapcases.CorpusPods(t, ns))
			})
		}
	}
	return suites
}

func ruleNames(rules []vap.Rule) []string {
	var names []string
	for _, r := range rules {
		if !slices.Contains(names, r.Field) {
			names = append(names, r.Field)
		}
	}
	return names
}

// ruleFields are the sorted rule names among the PSP error fields
// (allowedHostPaths/readOnly is a check of the allowedHostPaths rule).
func ruleFields(fields, names []string) []string {
	var out []string
	for _, f := range fields {
		f = strings.TrimSuffix(f, "/readOnly")
		if slices.Contains(names, f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// verdicts are the rules of one policy that passed, failed and erred on
// one pod, sorted.
type verdicts struct{ passed, failed, errors []string }

// kyvernoResults reads the policy report `kyverno apply --policy-report`
// prints, keyed by "policy namespace/name".
func kyvernoResults(t *testing.T, out, stderr []byte, code int) map[string]verdicts {
	t.Helper()
	_, report, ok := bytes.Cut(out, []byte("POLICY REPORT:\n"))
	if !ok {
		t.Fatalf("kyverno exit %d printed no policy report:\n%.3000s\n%s", code, out, stderr)
	}
	// The report follows a divider line.
	if _, rest, ok := bytes.Cut(report, []byte("\n")); ok {
		report = rest
	}
	var parsed struct {
		Results []struct {
			Policy    string `json:"policy"`
			Rule      string `json:"rule"`
			Result    string `json:"result"`
			Resources []struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"resources"`
		} `json:"results"`
	}
	if err := yaml.Unmarshal(report, &parsed); err != nil {
		t.Fatalf("reading kyverno's policy report: %v\n%.3000s", err, report)
	}
	byKey := map[string]verdicts{}
	for _, r := range parsed.Results {
		for _, res := range r.Resources {
			key := r.Policy + " " + res.Namespace + "/" + res.Name
			v := byKey[key]
			switch r.Result {
			case "pass":
				v.passed = append(v.passed, r.Rule)
			case "fail":
				v.failed = append(v.failed, r.Rule)
			default:
				v.errors = append(v.errors, r.Rule+": "+r.Result)
			}
			byKey[key] = v
		}
	}
	for k, v := range byKey {
		slices.Sort(v.passed)
		slices.Sort(v.failed)
		byKey[k] = v
	}
	return byKey
}
