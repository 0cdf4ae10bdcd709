package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	"github.com/psp2psa/psp2psa/review"
)

// syntheticCluster writes a cluster of n workloads, ten per namespace,
// under the demo's restricted PSP: every namespace to label and every
// workload to patch, the most a review can find per object.
func syntheticCluster(n int) string {
	var b strings.Builder
	b.WriteString(`apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: restricted
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: runtime/default
    seccomp.security.alpha.kubernetes.io/defaultProfileName: runtime/default
spec:
  privileged: false
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  volumes: [configMap, emptyDir, projected, secret]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}
  fsGroup: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: psp:restricted}
rules:
- {apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceNames: [restricted]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: psp:restricted}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: psp:restricted}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:serviceaccounts}
`)
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("team-%05d", i/10)
		if i%10 == 0 {
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", ns)
		}
		fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: service-%d, namespace: %s}
spec:
  selector: {matchLabels: {app: s}}
  template:
    metadata: {labels: {app: s}}
    spec:
      containers:
      - {name: app, image: registry.example/app:1}
`, i%10, ns)
	}
	return b.String()
}

// TestMarkdownFitsFor100000Workloads reviews a generated cluster of
// 100,000 workloads in 10,000 namespaces end to end (read, plan, review)
// and checks that its markdown fits one pull-request comment.
func TestMarkdownFitsFor100000Workloads(t *testing.T) {
	if testing.Short() {
		t.Skip("reads, plans and reviews 100,000 workloads; TestReviewMarkdownFitsOneComment covers the layout in -short mode")
	}
	start := time.Now()
	docs, errs := manifest.Read([]string{manifest.Stdin}, strings.NewReader(syntheticCluster(100_000)))
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	load := psp.FromDocuments(docs)
	inv, _ := inventory.FromDocuments(docs, "")
	p := plan.Build(plan.Input{Policies: load.Policies, Inventory: inv},
		plan.Options{Version: pss.NewestVersion(), EmptyNamespaceLevel: pss.Baseline, ControllerIdentity: "serviceaccounts"})
	r := review.Build(review.Input{Plan: p, Policies: load.Policies, Inventory: inv, Documents: docs}, review.Options{})
	var buf bytes.Buffer
	if err := Review(&buf, Markdown, r, ReviewOptions{}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	t.Logf("%d workloads, %d findings, %d characters of markdown in %s", len(p.Workloads), len(r.Findings), len([]rune(md)), time.Since(start).Round(time.Millisecond))
	if len(p.Workloads) != 100_000 || len(r.Namespaces) != 10_000 {
		t.Fatalf("%d workloads in %d namespaces", len(p.Workloads), len(r.Namespaces))
	}
	if n := len([]rune(md)); n > CommentLimit {
		t.Errorf("markdown is %d characters, more than %d", n, CommentLimit)
	}
	if !strings.HasPrefix(md, "## psp2psa review: NOT READY\n\n**NOT READY: 10000 namespaces to label, 100000 workloads to patch, 100000 workloads rejected by their labels") ||
		!strings.Contains(md, "_Left out to fit one comment:") {
		t.Errorf("markdown head or tail:\n%.400s\n...\n%s", md, md[max(0, len(md)-600):])
	}
}
