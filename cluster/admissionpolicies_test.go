package cluster

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/manifest"
)

// withAdmissionPolicies is smallCluster running Kyverno and Gatekeeper
// (one Constraint kind), on a server that serves ValidatingAdmissionPolicy
// at v1beta1 only.
func withAdmissionPolicies() *fakeAPI {
	api := smallCluster()
	api.served["admissionregistration.k8s.io/v1/validatingwebhookconfigurations"] = []map[string]any{}
	api.served["admissionregistration.k8s.io/v1beta1/validatingadmissionpolicies"] = []map[string]any{object("", "psp-gaps", nil)}
	api.served["admissionregistration.k8s.io/v1beta1/validatingadmissionpolicybindings"] = []map[string]any{object("", "psp-gaps-team", nil)}
	api.served["kyverno.io/v1/clusterpolicies"] = []map[string]any{object("", "psp-gaps", nil)}
	api.served["kyverno.io/v1/policies"] = []map[string]any{object("team", "psp-gaps", nil)}
	api.served["kyverno.io/v2beta1/clusterpolicies"] = []map[string]any{object("", "psp-gaps", nil)}
	api.served["constraints.gatekeeper.sh/v1beta1/k8spspallowedusers"] = []map[string]any{object("", "psp-restricted-users", nil)}
	api.served["constraints.gatekeeper.sh/v1/k8spspallowedusers"] = []map[string]any{object("", "psp-restricted-users", nil)}
	api.kinds = map[string]string{"k8spspallowedusers": "K8sPSPAllowedUsers"}
	return api
}

func TestReadAdmissionPoliciesWhereServed(t *testing.T) {
	api := withAdmissionPolicies()
	res, err := Read(context.Background(), api.start(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range res.Documents {
		if strings.Contains(d.APIVersion, "admissionregistration") || strings.Contains(d.APIVersion, "kyverno") || strings.Contains(d.APIVersion, "gatekeeper") {
			got = append(got, objectKeys([]manifest.Document{d})...)
		}
	}
	want := []string{
		"admissionregistration.k8s.io/v1beta1 ValidatingAdmissionPolicy/psp-gaps",
		"admissionregistration.k8s.io/v1beta1 ValidatingAdmissionPolicyBinding/psp-gaps-team",
		"kyverno.io/v1 ClusterPolicy/psp-gaps",
		"kyverno.io/v1 Policy/team/psp-gaps",
		"constraints.gatekeeper.sh/v1beta1 K8sPSPAllowedUsers/psp-restricted-users",
	}
	if !slices.Equal(got, want) {
		t.Errorf("admission policies read:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Incomplete) > 0 || len(res.Warnings) > 0 {
		t.Errorf("Incomplete %q, Warnings %q", res.Incomplete, res.Warnings)
	}
}

// TestReadAdmissionPoliciesCostsOneRequestWithoutThem: on a server with
// none of the engines and no ValidatingAdmissionPolicy, finding that out
// takes the group list and one look at admissionregistration's v1.
func TestReadAdmissionPoliciesCostsOneRequestWithoutThem(t *testing.T) {
	api := smallCluster()
	api.served["admissionregistration.k8s.io/v1/validatingwebhookconfigurations"] = []map[string]any{}
	if _, err := Read(context.Background(), api.start(t), Options{}); err != nil {
		t.Fatal(err)
	}
	var discovery []string
	for _, r := range api.requested() {
		if path := strings.TrimPrefix(r, "GET "); path == "/apis" || strings.Count(path, "/") == 3 && strings.HasPrefix(path, "/apis/") {
			discovery = append(discovery, path)
		}
	}
	if want := []string{"/apis", "/apis/admissionregistration.k8s.io/v1"}; !slices.Equal(discovery, want) {
		t.Errorf("discovery requests %q, want %q", discovery, want)
	}
	api = smallCluster()
	if _, err := Read(context.Background(), api.start(t), Options{PoliciesOnly: true}); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(api.requested(), "GET /apis") {
		t.Errorf("PoliciesOnly discovers admission policies: %q", api.requested())
	}
}

// TestUnreadAdmissionPoliciesAreWarnings: policies the reader may not
// list, or that fail past the retries, do not make the plan's input
// incomplete, nor fail the read: the warning says review misses them.
func TestUnreadAdmissionPoliciesAreWarnings(t *testing.T) {
	api := withAdmissionPolicies()
	api.status = map[string]int{
		"kyverno.io/v1/clusterpolicies":                        http.StatusForbidden,
		"constraints.gatekeeper.sh/v1beta1/k8spspallowedusers": http.StatusInternalServerError,
	}
	res, err := Read(context.Background(), api.start(t), Options{Retry: Retry{Retries: 1, Backoff: time.Millisecond}})
	if err != nil {
		t.Fatalf("the read failed: %v", err)
	}
	if len(res.Incomplete) > 0 {
		t.Errorf("Incomplete %q", res.Incomplete)
	}
	for _, want := range []string{"kyverno.io/v1 clusterpolicies", "constraints.gatekeeper.sh/v1beta1 k8spspallowedusers"} {
		if !slices.ContainsFunc(res.Warnings, func(w string) bool {
			return strings.HasPrefix(w, "cannot read every admission policy ("+want) && strings.HasSuffix(w, "review does not count what those keep")
		}) {
			t.Errorf("no warning for %s in %q", want, res.Warnings)
		}
	}
}
