package artifacts

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"sigs.k8s.io/yaml"
)

// gapPolicyGoldens: the Kyverno policies and Gatekeeper Constraints
// planned for the demo and for the two corpus PSPs with allowedHostPaths,
// kept in testdata/kyverno/ and testdata/gatekeeper/.
func TestGapPolicyGoldens(t *testing.T) {
	type generator func(*plan.Plan, []psp.Policy, bool) ([]byte, error)
	engines := map[string]generator{"kyverno": KyvernoPolicies, "gatekeeper": GatekeeperConstraints}
	for engine, gen := range engines {
		t.Run(engine+"/demo", func(t *testing.T) {
			p, docs := demoPlan(t)
			out, err := gen(p, psp.FromDocuments(docs).Policies, false)
			if err != nil {
				t.Fatal(err)
			}
			checkGapGolden(t, engine, "demo", out)
		})
		t.Run(engine+"/corpus", func(t *testing.T) {
			p, policies := corpusPlan(t)
			out, err := gen(p, policies, true)
			if err != nil {
				t.Fatal(err)
			}
			checkGapGolden(t, engine, "corpus", out)
		})
	}
}

func checkGapGolden(t *testing.T, engine, name string, out []byte) {
	t.Helper()
	if out == nil {
		t.Fatal("no policies")
	}
	for i, doc := range bytes.Split(out, []byte("\n---\n")) {
		var obj map[string]any
		if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
	}
	checkVAPGolden(t, filepath.Join("..", "testdata", engine, name+".golden.yaml"), out)
}

// TestGapPolicyActions: Audit and warn by default, Enforce and deny when
// asked.
func TestGapPolicyActions(t *testing.T) {
	p, docs := demoPlan(t)
	policies := psp.FromDocuments(docs).Policies
	for _, tc := range []struct {
		gen       func(*plan.Plan, []psp.Policy, bool) ([]byte, error)
		deny      bool
		want, not string
	}{
		{KyvernoPolicies, false, "validationFailureAction: Audit", "Enforce\n"},
		{KyvernoPolicies, true, "validationFailureAction: Enforce", "Audit\n"},
		{GatekeeperConstraints, false, "enforcementAction: warn", "enforcementAction: deny"},
		{GatekeeperConstraints, true, "enforcementAction: deny", "enforcementAction: warn"},
	} {
		out, err := tc.gen(p, policies, tc.deny)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), tc.want) || strings.Contains(string(out), tc.not) {
			t.Errorf("deny %v: want %q and no %q in\n%s", tc.deny, tc.want, tc.not, out)
		}
	}
}

// TestDefaultsPoliciesGolden keeps the MutatingAdmissionPolicies planned
// for the demo in testdata/defaults/demo.golden.yaml, and lists the
// workloads that rely on them.
func TestDefaultsPoliciesGolden(t *testing.T) {
	p, docs := demoPlan(t)
	out, relying, err := DefaultsPolicies(p, psp.FromDocuments(docs).Policies)
	if err != nil {
		t.Fatal(err)
	}
	if len(relying) == 0 {
		t.Error("no demo workload relies on the policies")
	}
	for _, w := range relying {
		if !strings.Contains(string(out), w) {
			t.Errorf("%s is not named in the file", w)
		}
	}
	checkGapGolden(t, "defaults", "demo", out)
}
