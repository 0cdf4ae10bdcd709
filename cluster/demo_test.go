package cluster

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/report"
)

var update = flag.Bool("update", false, "rewrite testdata/cluster/demo-snapshot.yaml from a v1.24 cluster holding testdata/demo")

const demoSnapshot = "../testdata/cluster/demo-snapshot.yaml"

// demoNamespaces are the namespaces testdata/demo creates.
var demoNamespaces = map[string]bool{"shop": true, "monitoring": true, "batch": true, "legacy": true}

// TestDemoClusterPlansLikeItsManifestsV124 applies the demo manifests to a
// real 1.24 apiserver and plans from what the server then holds: defaulted
// fields, server-set labels, bootstrap RBAC and all. Every PSP and every
// workload must be planned as from the manifests. The demo grants a PSP to
// every service account, so it gets a cluster of its own.
func TestDemoClusterPlansLikeItsManifestsV124(t *testing.T) {
	start := time.Now()
	c := testcluster.Private(t, "v1.24")
	t.Logf("started %s in %s", c.Version(), time.Since(start).Round(time.Millisecond))
	docs := readFile(t, repoPath("testdata", "demo"))
	applyInOrder(t, c.AdminConfig(), docs)
	start = time.Now()
	res, err := Read(context.Background(), c.AdminConfig(), Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	t.Logf("read %d objects in %s", len(res.Documents), time.Since(start).Round(time.Millisecond))
	samePlans(t, planOf(t, docs), planOf(t, res.Documents))
	if *update {
		writeDemoSnapshot(t, res)
	}
}

// TestDemoSnapshotPlansLikeTheDemoManifests is the same check, without a
// cluster, on the committed snapshot of that cluster: snapshots written
// before keep planning the same.
func TestDemoSnapshotPlansLikeTheDemoManifests(t *testing.T) {
	if *update {
		t.Skip("the snapshot is being rewritten by TestDemoClusterPlansLikeItsManifestsV124")
	}
	samePlans(t, planOf(t, readFile(t, repoPath("testdata", "demo"))), planOf(t, readFile(t, demoSnapshot)))
}

// samePlans compares the plan from manifests with the plan from a cluster
// holding them: each PSP's conversion, and each demo workload's admission,
// patch and levels. The cluster has more (kube-system, bootstrap RBAC),
// which the comparison leaves out.
func samePlans(t *testing.T, fromManifests, fromCluster *plan.Plan) {
	t.Helper()
	for _, want := range fromManifests.Policies {
		got := fromCluster.Policy(want.Name)
		if got == nil {
			t.Errorf("PSP %s is not in the cluster's plan", want.Name)
			continue
		}
		sameJSONValue(t, "PSP "+want.Name, comparablePolicy(want), comparablePolicy(*got))
	}
	byRef := map[string]plan.Workload{}
	for _, w := range fromCluster.Workloads {
		byRef[w.Ref()] = w
	}
	n := 0
	for _, want := range fromManifests.Workloads {
		got, ok := byRef[want.Ref()]
		if !ok {
			t.Errorf("%s is not in the cluster's plan", want.Ref())
			continue
		}
		n++
		want.Source, got.Source = manifest.Source{}, manifest.Source{}
		sameJSONValue(t, want.Ref(), want, got)
	}
	if n == 0 {
		t.Fatal("no workload compared")
	}
	for _, ns := range fromCluster.Namespaces {
		if demoNamespaces[ns.Name] {
			for _, want := range fromManifests.Namespaces {
				if want.Name == ns.Name {
					sameJSONValue(t, "namespace "+ns.Name, want, ns)
				}
			}
		}
	}
}

// comparablePolicy leaves out where the PSP was read and the findings'
// wording: the server stores defaults (allowPrivilegeEscalation: true
// where the manifest omits it), and the message says which it saw.
func comparablePolicy(p convert.PolicyResult) convert.PolicyResult {
	p.Source = manifest.Source{}
	p.Findings = slices.Clone(p.Findings)
	for i := range p.Findings {
		p.Findings[i].Message = ""
	}
	return p
}

func sameJSONValue(t *testing.T, what string, want, got any) {
	t.Helper()
	w, err := json.MarshalIndent(want, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	g, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if string(w) != string(g) {
		t.Errorf("%s is planned differently from the cluster:\n%s", what, report.UnifiedDiff("manifests", "cluster", w, g))
	}
}

// applyInOrder creates the documents, namespaces first, through the
// resource table Read lists with.
func applyInOrder(t *testing.T, cfg *rest.Config, docs []manifest.Document) {
	t.Helper()
	cfg.WarningHandler = rest.NoWarnings{}
	dyn := dynamic.NewForConfigOrDie(cfg)
	for _, pass := range []func(string) bool{
		func(kind string) bool { return kind == "Namespace" },
		func(kind string) bool { return kind != "Namespace" },
	} {
		for _, d := range docs {
			if !pass(d.Kind) {
				continue
			}
			obj := &unstructured.Unstructured{}
			if err := obj.UnmarshalJSON(d.Raw); err != nil {
				t.Fatalf("%s: %v", d.Source, err)
			}
			gvr := resourceOf(t, d).groupVersionResources()[0]
			var ri dynamic.ResourceInterface = dyn.Resource(gvr)
			if d.Namespace != "" {
				ri = dyn.Resource(gvr).Namespace(d.Namespace)
			}
			if _, err := ri.Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create %s: %v", d.Object(), err)
			}
		}
	}
}

func resourceOf(t *testing.T, d manifest.Document) resource {
	t.Helper()
	for _, r := range resources {
		if r.kind == d.Kind {
			return r
		}
	}
	t.Fatalf("%s: no resource for kind %s", d.Source, d.Kind)
	return resource{}
}

func writeDemoSnapshot(t *testing.T, res *Result) {
	t.Helper()
	// The server's address changes from run to run; the snapshot names
	// the cluster by what it is.
	for i := range res.Documents {
		res.Documents[i].Source.File = "cluster demo"
	}
	var b strings.Builder
	s := &Snapshot{Result: res, Cluster: "a v1.24.17 test cluster holding testdata/demo", Taken: time.Now()}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(repoPath("testdata", "cluster"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(demoSnapshot, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
