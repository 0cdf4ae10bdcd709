package review

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/artifacts"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
)

const demo = "../testdata/demo"

// build reviews the paths plus the YAML given as standard input.
func build(t *testing.T, extra string, paths ...string) *Review {
	t.Helper()
	if extra != "" {
		paths = append(paths, manifest.Stdin)
	}
	docs, errs := manifest.Read(paths, strings.NewReader(extra))
	if len(errs) > 0 {
		t.Fatalf("reading: %v", errs)
	}
	load := psp.FromDocuments(docs)
	inv, invErrs := inventory.FromDocuments(docs, "")
	for _, err := range invErrs {
		if !inventory.IsWarning(err) {
			t.Fatalf("inventory: %v", err)
		}
	}
	in := plan.Input{Policies: load.Policies, Inventory: inv}
	p := plan.Build(in, plan.Options{Version: pss.NewestVersion(), EmptyNamespaceLevel: pss.Baseline, ControllerIdentity: "serviceaccounts"})
	return Build(Input{Plan: p, Policies: load.Policies, Inventory: inv, Documents: docs}, Options{})
}

func findingsOf(r *Review, rule string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func TestDemoFindings(t *testing.T) {
	r := build(t, "", demo)
	if r.Verdict.Ready {
		t.Fatal("the demo is READY before its plan is applied")
	}
	for rule, want := range map[string]int{
		RuleNamespaceLabels: 4, RuleWorkloadPatch: 6, RuleNotAdmitted: 1, RuleRejectedByLabels: 0, RuleIncomplete: 0,
	} {
		if got := r.Count(rule); got != want {
			t.Errorf("%s: %d findings, want %d", rule, got, want)
		}
	}
	f := findingsOf(r, RuleWorkloadPatch)[0]
	if f.Location == nil || f.Location.File != "../testdata/demo/batch.yaml" || f.Location.Line != 8 {
		t.Errorf("location of %s: %+v, want batch.yaml line 8", f.Workload, f.Location)
	}
}

// A label the namespace already has is kept, and a workload that fails it
// as written is an error: it would be rejected once PSP is gone.
func TestExistingLabelRejectsWorkload(t *testing.T) {
	r := build(t, `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: v1.37
`, demo+"/policies.yaml", demo+"/rbac.yaml", demo+"/shop.yaml")
	got := findingsOf(r, RuleRejectedByLabels)
	var refs []string
	for _, f := range got {
		refs = append(refs, f.Workload)
	}
	// frontend, api and redis pass restricted only with what PSP injected.
	if strings.Join(refs, ",") != "Deployment shop/frontend,Deployment shop/api,StatefulSet shop/redis" {
		t.Fatalf("rejected by labels: %v", refs)
	}
	if !strings.Contains(got[0].Message, "namespace shop's enforce restricted:v1.37 rejects it") || !strings.Contains(got[0].Message, "the plan's patch fixes it") {
		t.Errorf("message: %s", got[0].Message)
	}
	for _, ns := range r.Namespaces {
		if ns.Name == "shop" && ns.Workloads[0].Status != StatusRejectedByLabels {
			t.Errorf("status of %s: %s", ns.Workloads[0].Ref, ns.Workloads[0].Status)
		}
	}
}

// Without the RBAC no answer is known: every gap is an error.
func TestIncompleteInputIsNotReady(t *testing.T) {
	r := build(t, "", demo+"/policies.yaml", demo+"/shop.yaml")
	if r.Count(RuleIncomplete) == 0 || r.Verdict.Ready {
		t.Fatalf("verdict %+v", r.Verdict)
	}
	if !strings.Contains(r.Verdict.Summary, "1 gap in the input") {
		t.Errorf("summary: %s", r.Verdict.Summary)
	}
}

// The admission policies plan --write-dir writes, of each kind, keep what
// they keep where they apply: the lost restrictions they cover are no
// longer reported, the rest still are.
func TestAdmissionPoliciesKeepRestrictions(t *testing.T) {
	docs, _ := manifest.Read([]string{demo}, nil)
	load := psp.FromDocuments(docs)
	inv, _ := inventory.FromDocuments(docs, "")
	p := plan.Build(plan.Input{Policies: load.Policies, Inventory: inv}, plan.Options{Version: pss.NewestVersion(), EmptyNamespaceLevel: pss.Baseline, ControllerIdentity: "serviceaccounts"})
	lost := func(r *Review, ns string) string {
		for _, f := range findingsOf(r, RuleRestrictionLost) {
			if f.Namespace == ns && f.Object == "PodSecurityPolicy restricted" {
				return f.Message
			}
		}
		return ""
	}
	before := build(t, "", demo)
	if !strings.Contains(lost(before, "shop"), "allowedCapabilities, volumes, supplementalGroups, fsGroup") {
		t.Fatalf("before: %q", lost(before, "shop"))
	}
	for _, tt := range []struct {
		kind     string
		generate func() ([]byte, error)
		// stillLost is what shop still loses: the profile lists have no
		// ValidatingAdmissionPolicy or Kyverno rule, and Gatekeeper keeps
		// them with its library's templates.
		stillLost string
	}{
		{"ValidatingAdmissionPolicy", func() ([]byte, error) { return artifacts.AdmissionPolicies(p, load.Policies, false) }, "seccomp allowedProfileNames"},
		{"Kyverno", func() ([]byte, error) { return artifacts.KyvernoPolicies(p, load.Policies, false) }, "seccomp allowedProfileNames"},
		{"Gatekeeper", func() ([]byte, error) { return artifacts.GatekeeperConstraints(p, load.Policies, false) }, ""},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			policies, err := tt.generate()
			if err != nil || policies == nil {
				t.Fatalf("policies: %v", err)
			}
			after := build(t, string(policies), demo)
			// shop's workloads are admitted by restricted alone: its
			// policies apply there.
			got := lost(after, "shop")
			if strings.Contains(got, "fsGroup") || strings.Contains(got, "volumes") || (tt.stillLost == "") != (got == "") || !strings.Contains(got, tt.stillLost) {
				t.Errorf("after, shop: %q; want only %q", got, tt.stillLost)
			}
			// legacy runs nothing restricted admits: nothing applies there.
			if got := lost(after, "legacy"); !strings.Contains(got, "fsGroup") {
				t.Errorf("after, legacy: %q", got)
			}
		})
	}
}

func TestFailOnWarning(t *testing.T) {
	findings := []Finding{{Rule: RuleNotAdmitted, Severity: Warning}}
	if v := verdict(findings, Error); !v.Ready || v.Summary != "READY (0 errors, 1 warning)" {
		t.Errorf("fail-on error: %+v", v)
	}
	if v := verdict(findings, Warning); v.Ready || v.Summary != "NOT READY: 1 workload no PSP admits (0 errors, 1 warning); --fail-on warning" {
		t.Errorf("fail-on warning: %+v", v)
	}
}

// A tenant group that may patch its namespace gains privileged pods under
// Pod Security; cluster admins, who may use every PSP, gain nothing.
func TestRelabelFindings(t *testing.T) {
	tenants := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(tenants, []byte(tenantsRBAC), 0o644); err != nil {
		t.Fatal(err)
	}
	r := build(t, "", demo, tenants)
	got := findingsOf(r, RuleNamespaceRelabel)
	if len(got) != 1 || got[0].Namespace != "shop" || got[0].Object != "Group shop-team" || got[0].Location == nil || got[0].Location.Line != 7 {
		t.Fatalf("namespace-relabel: %+v", got)
	}
	if n := r.Count(RuleClusterRelabel); n != 0 {
		t.Errorf("cluster-relabel: %+v", findingsOf(r, RuleClusterRelabel))
	}
	if r.Relabel == nil || len(r.Relabel.Cluster.Relabel) != 1 || r.Relabel.Cluster.Relabel[0].Subject != "Group platform" {
		t.Errorf("cluster-wide relabel: %+v", r.Relabel)
	}
}

const tenantsRBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: namespace-labeller}
rules:
- {apiGroups: [""], resources: [namespaces], verbs: [get, patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: shop-owners, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: namespace-labeller}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: shop-team}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: cluster-admins}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: platform}
`

// A Constraint of a library template keeps its fields for every pod it
// matches, whoever wrote it; one that only records keeps nothing.
func TestGatekeeperConstraintsKeepTheirTemplatesFields(t *testing.T) {
	const constraint = `apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPSPVolumeTypes
metadata:
  name: team-volumes
spec:
  enforcementAction: %s
  match:
    kinds: [{apiGroups: [""], kinds: [Pod]}]
    namespaces: ["sho*"]
    excludedNamespaces: [legacy]
  parameters:
    volumes: [configMap, emptyDir, secret]
`
	for action, keeps := range map[string]bool{"deny": true, "warn": true, "dryrun": false} {
		r := build(t, fmt.Sprintf(constraint, action), demo)
		found := false
		for _, f := range findingsOf(r, RuleRestrictionLost) {
			if f.Namespace != "shop" || f.Object != "PodSecurityPolicy restricted" {
				continue
			}
			found = true
			if strings.Contains(f.Message, "volumes") == keeps || !strings.Contains(f.Message, "fsGroup") {
				t.Errorf("enforcementAction %s: shop still loses %q", action, f.Message)
			}
		}
		if !found {
			t.Errorf("enforcementAction %s: shop loses nothing; fsGroup has no policy", action)
		}
	}
}

// TestPoliciesTheirEngineDoesNotRunKeepNothing: read from a cluster, a
// Kyverno policy Kyverno says is not ready, or a Constraint no Gatekeeper
// pod enforces, keeps nothing; one that is ready or enforced keeps what it
// keeps as a manifest does.
func TestPoliciesTheirEngineDoesNotRunKeepNothing(t *testing.T) {
	docs, _ := manifest.Read([]string{demo}, nil)
	load := psp.FromDocuments(docs)
	inv, _ := inventory.FromDocuments(docs, "")
	p := plan.Build(plan.Input{Policies: load.Policies, Inventory: inv}, plan.Options{Version: pss.NewestVersion(), EmptyNamespaceLevel: pss.Baseline, ControllerIdentity: "serviceaccounts"})
	kyverno, err := artifacts.KyvernoPolicies(p, load.Policies, false)
	if err != nil {
		t.Fatal(err)
	}
	gatekeeper, err := artifacts.GatekeeperConstraints(p, load.Policies, false)
	if err != nil {
		t.Fatal(err)
	}
	const (
		ready      = "status:\n  conditions:\n  - {type: Ready, status: \"True\", reason: Succeeded, message: Ready, lastTransitionTime: \"2026-01-01T00:00:00Z\"}\n"
		notReady   = "status:\n  conditions:\n  - {type: Ready, status: \"False\", reason: Failed, message: \"policy not ready\", lastTransitionTime: \"2026-01-01T00:00:00Z\"}\n"
		enforced   = "status:\n  byPod:\n  - {id: gatekeeper-audit, enforced: false}\n  - {id: gatekeeper-controller-manager-0, enforced: true}\n"
		unenforced = "status:\n  byPod:\n  - {id: gatekeeper-audit, enforced: false}\n  - {id: gatekeeper-controller-manager-0, enforced: false}\n"
	)
	for _, tt := range []struct {
		name     string
		policies []byte
		status   string
		keeps    bool
	}{
		{"Kyverno, ready", kyverno, ready, true},
		// Only type and status of a condition are read.
		{"Kyverno, ready, other fields odd", kyverno, "status:\n  conditions:\n  - {type: Ready, status: \"True\", message: no, lastTransitionTime: yesterday}\n", true},
		{"Kyverno, not ready", kyverno, notReady, false},
		{"Gatekeeper, enforced", gatekeeper, enforced, true},
		{"Gatekeeper, enforced by no pod", gatekeeper, unenforced, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := build(t, withStatus(string(tt.policies), tt.status), demo)
			lost := ""
			for _, f := range findingsOf(r, RuleRestrictionLost) {
				if f.Namespace == "shop" && f.Object == "PodSecurityPolicy restricted" {
					lost = f.Message
				}
			}
			if strings.Contains(lost, "fsGroup") == tt.keeps {
				t.Errorf("shop loses %q", lost)
			}
		})
	}
}

// withStatus appends the status to every document of a YAML stream.
func withStatus(stream, status string) string {
	docs := strings.Split(strings.TrimSuffix(stream, "\n"), "\n---\n")
	for i, d := range docs {
		docs[i] = d + "\n" + status
	}
	return strings.Join(docs, "---\n")
}
