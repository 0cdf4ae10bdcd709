package review

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/patch"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
)

// metricsApp runs under the corpus PSP machines-endpoints (fsGroup
// MayRunAs 1-65535: PSP chose no fsGroup, but allowed only those).
const metricsApp = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: psp:machines-endpoints}
rules:
- {apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceNames: [machines-endpoints]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: psp:machines-endpoints}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: psp:machines-endpoints}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:serviceaccounts}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: exporter, namespace: metrics}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec:
      securityContext: {runAsUser: 10000, runAsGroup: 10000}
      containers:
      - name: exporter
        image: registry.example/exporter:1
        securityContext: {readOnlyRootFilesystem: true}
        volumeMounts: [{name: cache, mountPath: /cache}]
      volumes: [{name: cache, emptyDir: {}}]
`

// The hygiene findings propose the fsGroup the PSP's ranges allow, and
// plan --pin-ids writes it into the patch, after which it is gone.
func TestHygieneProposalAndPinIDs(t *testing.T) {
	pspFile := filepath.Join(testinputs.CorpusDir(t), "psp", "cybozu-go__neco-apps__monitoring_base_machines-endpoints_pod-security-policy.yaml")
	reviewWith := func(pin bool) (*Review, *plan.Plan) {
		docs, errs := manifest.Read([]string{pspFile, manifest.Stdin}, strings.NewReader(metricsApp))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		load := psp.FromDocuments(docs)
		inv, _ := inventory.FromDocuments(docs, "")
		p := plan.Build(plan.Input{Policies: load.Policies, Inventory: inv},
			plan.Options{Version: pss.NewestVersion(), EmptyNamespaceLevel: pss.Baseline, ControllerIdentity: "serviceaccounts", PinIDs: pin})
		return Build(Input{Plan: p, Policies: load.Policies, Inventory: inv, Documents: docs}, Options{}), p
	}
	r, _ := reviewWith(false)
	fs := findingsOf(r, RuleFSGroupUnset)
	if len(fs) != 1 || fs[0].Proposal != "spec.securityContext.fsGroup: 1 (PSP machines-endpoints fsGroup MayRunAs 1-65535; plan --pin-ids writes it)" {
		t.Fatalf("fs-group-unset: %+v", fs)
	}
	// UID and GID are set; runAsNonRoot is not: MustRunAsNonRoot injects
	// it only where no UID is set.
	if r.Count(RuleRunAsUserUnset)+r.Count(RuleRunAsGroupUnset) != 0 || r.Count(RuleRunAsNonRootMissing) != 1 {
		t.Errorf("other hygiene findings: %v", r.Verdict.ByRule)
	}
	r, p := reviewWith(true)
	var pinned *patch.Change
	for i, ch := range p.Workloads[0].Patch.Changes {
		if ch.Field == patch.FieldFSGroup {
			pinned = &p.Workloads[0].Patch.Changes[i]
		}
	}
	if pinned == nil || pinned.Value != int64(1) || !strings.Contains(pinned.Reason, "--pin-ids") || pinned.Warning == "" {
		t.Fatalf("--pin-ids patch: %+v", p.Workloads[0].Patch.Changes)
	}
	if r.Count(RuleFSGroupUnset) != 0 {
		t.Errorf("fs-group-unset once pinned: %+v", findingsOf(r, RuleFSGroupUnset))
	}
}
