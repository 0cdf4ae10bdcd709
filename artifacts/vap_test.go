package artifacts

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/plantest"

	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

const vapTestdata = "../testdata/vap"

// TestAdmissionPoliciesDemoGolden keeps the policies planned for the demo
// in testdata/vap/demo-admission-policies.golden.yaml.
func TestAdmissionPoliciesDemoGolden(t *testing.T) {
	p, docs := demoPlan(t)
	out, err := AdmissionPolicies(p, psp.FromDocuments(docs).Policies, false)
	if err != nil {
		t.Fatal(err)
	}
	checkVAPGolden(t, filepath.Join(vapTestdata, "demo-admission-policies.golden.yaml"), out)
}

// TestAdmissionPoliciesCorpusGolden plans two corpus PSPs with
// allowedHostPaths (fluentd-gcp, flannel) over workloads they admit and
// keeps the policies in testdata/vap/corpus-admission-policies.golden.yaml.
func TestAdmissionPoliciesCorpusGolden(t *testing.T) {
	p, policies := corpusPlan(t)
	out, err := AdmissionPolicies(p, policies, false)
	if err != nil {
		t.Fatal(err)
	}
	checkVAPGolden(t, filepath.Join(vapTestdata, "corpus-admission-policies.golden.yaml"), out)
}

// corpusPlan plans testdata/vap/corpus-workloads.yaml under the fluentd-gcp
// and flannel PSPs of the shared corpus.
func corpusPlan(t *testing.T) (*plan.Plan, []psp.Policy) {
	t.Helper()
	corpus := filepath.Join("..", "..", "shared", "corpus", "psp")
	if _, err := os.Stat(corpus); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: %v", corpus, err)
		}
		t.Skipf("%s not found; the shared corpus lives beside the repository", corpus)
	}
	p := plantest.Build(t, "",
		filepath.Join(corpus, "kubernetes__kubernetes__cluster_addons_fluentd-gcp_podsecuritypolicies_fluentd-gcp-psp.yaml"),
		filepath.Join(corpus, "flannel-io__flannel__documentation_kube-flannel-psp.yml"),
		filepath.Join(vapTestdata, "corpus-workloads.yaml"))
	return p.Plan, p.Policies
}

func checkVAPGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("output differs from %s; run go test ./artifacts -update and review the diff", path)
	}
}

// vapDocuments splits the stream and decodes each document strictly into
// its type.
func vapDocuments(t *testing.T, data []byte) ([]admissionregistrationv1.ValidatingAdmissionPolicy, []admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	t.Helper()
	var policies []admissionregistrationv1.ValidatingAdmissionPolicy
	var bindings []admissionregistrationv1.ValidatingAdmissionPolicyBinding
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "ValidatingAdmissionPolicy":
			var p admissionregistrationv1.ValidatingAdmissionPolicy
			if err := yaml.UnmarshalStrict([]byte(doc), &p); err != nil {
				t.Fatalf("policy: %v\n%s", err, doc)
			}
			policies = append(policies, p)
		case "ValidatingAdmissionPolicyBinding":
			var b admissionregistrationv1.ValidatingAdmissionPolicyBinding
			if err := yaml.UnmarshalStrict([]byte(doc), &b); err != nil {
				t.Fatalf("binding: %v\n%s", err, doc)
			}
			bindings = append(bindings, b)
		default:
			t.Fatalf("unexpected document kind %q:\n%s", meta.Kind, doc)
		}
	}
	return policies, bindings
}

// TestAdmissionPoliciesBindWholeNamespaces: in the demo, restricted admits
// every workload of shop, baseline every workload of batch; monitoring
// runs workloads of restricted and privileged and gets no binding, and
// privileged, without gaps, no policy. With deny the same bindings reject.
func TestAdmissionPoliciesBindWholeNamespaces(t *testing.T) {
	p, docs := demoPlan(t)
	for _, deny := range []bool{false, true} {
		out, err := AdmissionPolicies(p, psp.FromDocuments(docs).Policies, deny)
		if err != nil {
			t.Fatal(err)
		}
		policies, bindings := vapDocuments(t, out)
		var names []string
		for _, pol := range policies {
			names = append(names, pol.Name)
		}
		if !slices.Equal(names, []string{"psp2psa-baseline", "psp2psa-restricted"}) {
			t.Errorf("policies %v; want baseline and restricted (privileged has no gap)", names)
		}
		bound := map[string][]string{}
		wantActions := []admissionregistrationv1.ValidationAction{"Warn", "Audit"}
		if deny {
			wantActions = []admissionregistrationv1.ValidationAction{"Deny"}
		}
		for _, b := range bindings {
			bound[b.Spec.PolicyName] = b.Spec.MatchResources.NamespaceSelector.MatchExpressions[0].Values
			if !slices.Equal(b.Spec.ValidationActions, wantActions) {
				t.Errorf("deny=%v: %s has actions %v, want %v", deny, b.Name, b.Spec.ValidationActions, wantActions)
			}
		}
		if !slices.Equal(bound["psp2psa-restricted"], []string{"shop"}) || !slices.Equal(bound["psp2psa-baseline"], []string{"batch"}) {
			t.Errorf("bound namespaces %v; want restricted in shop, baseline in batch", bound)
		}
		if !strings.Contains(string(out), "# Not bound: monitoring (workloads there are also admitted by privileged).") {
			t.Error("the mixed namespace monitoring is not called out")
		}
	}
}

// TestAdmissionPoliciesNoneNeeded: a plan whose PSPs admit nothing, or
// have no gap, needs no file.
func TestAdmissionPoliciesNoneNeeded(t *testing.T) {
	p, docs := demoPlan(t)
	var onlyPrivileged []psp.Policy
	for _, pol := range psp.FromDocuments(docs).Policies {
		if pol.PSP.Name == "privileged" {
			onlyPrivileged = append(onlyPrivileged, pol)
		}
	}
	out, err := AdmissionPolicies(p, onlyPrivileged, false)
	if err != nil || out != nil {
		t.Errorf("AdmissionPolicies = %q, %v; want nothing", out, err)
	}
	if _, ok, err := AdmissionPoliciesFile(p, onlyPrivileged, t.TempDir(), false); ok || err != nil {
		t.Errorf("AdmissionPoliciesFile: ok %v, err %v; want no file", ok, err)
	}
}
