package inventory

import (
	"fmt"
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
	corev1 "k8s.io/api/core/v1"
)

// generatedDocuments returns n workloads spread over n/20 namespaces, in
// the shapes a cluster dump holds: Deployments with their ReplicaSets and
// Pods, StatefulSets, DaemonSets and CronJobs, plus one ServiceAccount and
// RoleBinding per namespace.
func generatedDocuments(n int) []manifest.Document {
	const container = `{"name":"app","image":"registry.example/app:1.2.3","ports":[{"containerPort":8080}],` +
		`"env":[{"name":"MODE","value":"prod"},{"name":"LEVEL","value":"info"}],` +
		`"resources":{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"128Mi"}},` +
		`"securityContext":{"runAsUser":1000,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},` +
		`"volumeMounts":[{"name":"config","mountPath":"/etc/app"}]}`
	const podSpec = `{"serviceAccountName":"app","containers":[` + container + `],` +
		`"volumes":[{"name":"config","configMap":{"name":"app"}}]}`
	namespaces := n / 20
	if namespaces == 0 {
		namespaces = 1
	}
	docs := make([]manifest.Document, 0, n+2*namespaces)
	add := func(apiVersion, kind, ns, name, raw string) {
		docs = append(docs, manifest.Document{
			Source: manifest.Source{File: "generated.yaml", Index: len(docs)}, APIVersion: apiVersion,
			Kind: kind, Namespace: ns, Name: name, Raw: []byte(raw),
		})
	}
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("ns-%d", i*namespaces/n) // neighbours share a namespace
		name := fmt.Sprintf("w-%d", i)
		meta := fmt.Sprintf(`"metadata":{"name":%q,"namespace":%q,"uid":"uid-%d","labels":{"app":%q}`, name, ns, i, name)
		template := `"template":{"metadata":{"labels":{"app":"` + name + `"}},"spec":` + podSpec + `}`
		switch i % 5 {
		case 0:
			add("apps/v1", "Deployment", ns, name, `{"apiVersion":"apps/v1","kind":"Deployment",`+meta+`},"spec":{"replicas":3,`+template+`}}`)
		case 1:
			owner := fmt.Sprintf(`,"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"w-%d","uid":"uid-%d","controller":true}]`, i-1, i-1)
			add("apps/v1", "ReplicaSet", ns, name, `{"apiVersion":"apps/v1","kind":"ReplicaSet",`+meta+owner+`},"spec":{"replicas":3,`+template+`}}`)
		case 2:
			owner := fmt.Sprintf(`,"annotations":{"kubernetes.io/psp":"restricted"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"w-%d","uid":"uid-%d","controller":true}]`, i-1, i-1)
			add("v1", "Pod", ns, name, `{"apiVersion":"v1","kind":"Pod",`+meta+owner+`},"spec":`+podSpec+`,"status":{"phase":"Running"}}`)
		case 3:
			add("apps/v1", "StatefulSet", ns, name, `{"apiVersion":"apps/v1","kind":"StatefulSet",`+meta+`},"spec":{"serviceName":"x",`+template+`}}`)
		case 4:
			add("batch/v1", "CronJob", ns, name, `{"apiVersion":"batch/v1","kind":"CronJob",`+meta+`},"spec":{"schedule":"@daily","jobTemplate":{"spec":{`+template+`}}}}`)
		}
	}
	for i := 0; i < namespaces; i++ {
		ns := fmt.Sprintf("ns-%d", i)
		add("v1", "ServiceAccount", ns, "app", `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"app","namespace":"`+ns+`"}}`)
		add("rbac.authorization.k8s.io/v1", "RoleBinding", ns, "psp", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",`+
			`"metadata":{"name":"psp","namespace":"`+ns+`"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"psp:restricted"},`+
			`"subjects":[{"kind":"Group","name":"system:serviceaccounts:`+ns+`"}]}`)
	}
	return docs
}

func TestGeneratedDocumentsLoad(t *testing.T) {
	inv, errs := FromDocuments(generatedDocuments(100), "")
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(inv.Workloads) != 100 || len(inv.RoleBindings) != 5 || len(inv.ServiceAccounts) != 5 {
		t.Fatalf("got %d workloads, %d role bindings, %d service accounts", len(inv.Workloads), len(inv.RoleBindings), len(inv.ServiceAccounts))
	}
	owned := 0
	for _, w := range inv.Workloads {
		if w.OwnedBy != "" {
			owned++
		}
	}
	if owned != 40 {
		t.Errorf("%d workloads marked as owned, want 40 (the ReplicaSets and Pods)", owned)
	}
}

func BenchmarkFromDocuments(b *testing.B) {
	docs := generatedDocuments(10000)
	bytes := 0
	for _, d := range docs {
		bytes += len(d.Raw)
	}
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, errs := FromDocuments(docs, ""); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

// TestSecurityViewsAreShared reads workloads that differ in names and
// labels only: with SecurityViews they hold one template, without image.
func TestSecurityViewsAreShared(t *testing.T) {
	inv, errs := FromDocumentsWith(generatedDocuments(100), Options{SecurityViews: true})
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	templates := map[*corev1.PodTemplateSpec]bool{}
	for _, w := range inv.Workloads {
		templates[w.Template] = true
		if img := w.Template.Spec.Containers[0].Image; img != "" {
			t.Errorf("%s/%s: the view keeps the image %q", w.Kind, w.Name, img)
		}
		if w.ServiceAccount != "app" {
			t.Errorf("%s/%s: service account %q, want app (read before the view)", w.Kind, w.Name, w.ServiceAccount)
		}
	}
	// The Pods carry the kubernetes.io/psp annotation the others lack.
	if len(templates) != 2 {
		t.Errorf("%d templates for 100 workloads alike, want 2", len(templates))
	}
}

func BenchmarkFromDocumentsViews(b *testing.B) {
	docs := generatedDocuments(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := FromDocumentsWith(docs, Options{SecurityViews: true}); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}
