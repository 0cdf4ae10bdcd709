package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	"sigs.k8s.io/yaml"
)

// generatedCluster writes a cluster of namespaces × workloadsPerNS
// Deployments and policies PSPs as one YAML stream: every fifth PSP
// mutates (restricted-like), the rest admit unchanged with varying
// permissiveness; each namespace binds its service accounts to three of
// them.
func generatedCluster(namespaces, workloadsPerNS, policies int) string {
	var b strings.Builder
	for i := 0; i < policies; i++ {
		fmt.Fprintf(&b, "---\n%s", generatedPSP(i))
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: psp-%02d}\nrules: [{apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceNames: [psp-%02d]}]\n", i, i)
	}
	for n := 0; n < namespaces; n++ {
		ns := fmt.Sprintf("team-%04d", n)
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", ns)
		for k := 0; k < 3; k++ {
			fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: psp-%d, namespace: %s}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: psp-%02d}\nsubjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: 'system:serviceaccounts:%s'}]\n", k, ns, (n+k*7)%policies, ns)
		}
		for w := 0; w < workloadsPerNS; w++ {
			fmt.Fprintf(&b, "---\n%s", generatedDeployment(ns, w))
		}
	}
	return b.String()
}

func generatedPSP(i int) string {
	spec := map[string]any{
		"seLinux":            map[string]any{"rule": "RunAsAny"},
		"supplementalGroups": map[string]any{"rule": "RunAsAny"},
		"fsGroup":            map[string]any{"rule": "RunAsAny"},
		"runAsUser":          map[string]any{"rule": "RunAsAny"},
		"volumes":            []string{"configMap", "emptyDir", "projected", "secret", "downwardAPI", "persistentVolumeClaim"},
	}
	switch {
	case i%5 == 0:
		spec["runAsUser"] = map[string]any{"rule": "MustRunAsNonRoot"}
		spec["requiredDropCapabilities"] = []string{"ALL"}
		spec["allowPrivilegeEscalation"] = false
		spec["fsGroup"] = map[string]any{"rule": "MustRunAs", "ranges": []any{map[string]any{"min": 1, "max": 65535}}}
	case i%5 == 1:
		spec["privileged"] = true
		spec["hostNetwork"] = true
		spec["volumes"] = []string{"*"}
	case i%5 == 2:
		spec["allowedCapabilities"] = []string{"NET_ADMIN", "NET_RAW"}
	}
	obj := map[string]any{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": map[string]any{"name": fmt.Sprintf("psp-%02d", i)}, "spec": spec}
	data, _ := yaml.Marshal(obj)
	return string(data)
}

func generatedDeployment(ns string, w int) string {
	security := ""
	switch w % 4 {
	case 1:
		security = "\n          securityContext: {runAsUser: 1000}"
	case 2:
		security = "\n          securityContext: {privileged: true}"
	case 3:
		security = "\n          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}"
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%d, namespace: %s}
spec:
  selector: {matchLabels: {app: app-%d}}
  template:
    metadata: {labels: {app: app-%d}}
    spec:
      containers:
        - name: app
          image: registry.example/app:%d%s
`, w, ns, w, w, w, security)
}

// BenchmarkPlan plans generated clusters from reading the stream to the
// finished plan: 10,000 workloads in 1,000 namespaces with 50 PSPs, and
// 100,000 in 5,000 namespaces.
func BenchmarkPlan(b *testing.B) {
	for _, size := range []struct {
		name                    string
		namespaces, perNS, psps int
	}{
		{"10k-workloads-1k-namespaces-50-psps", 1000, 10, 50},
		{"100k-workloads-5k-namespaces-50-psps", 5000, 20, 50},
	} {
		b.Run(size.name, func(b *testing.B) {
			stream := generatedCluster(size.namespaces, size.perNS, size.psps)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := planStream(b, stream)
				if len(p.Workloads) != size.namespaces*size.perNS || len(p.Namespaces) != size.namespaces {
					b.Fatalf("planned %d workloads in %d namespaces", len(p.Workloads), len(p.Namespaces))
				}
			}
		})
	}
}

func planStream(b *testing.B, stream string) *Plan {
	docs, errs := manifest.Read([]string{manifest.Stdin}, strings.NewReader(stream))
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	load := psp.FromDocuments(docs)
	inv, invErrs := inventory.FromDocuments(docs, "")
	if len(invErrs) > 0 {
		b.Fatal(invErrs)
	}
	return Build(Input{Policies: load.Policies, Inventory: inv}, defaultOptions(b))
}
