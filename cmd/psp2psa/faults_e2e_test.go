package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/cluster"
	"github.com/psp2psa/psp2psa/internal/faultproxy"
	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const deploymentsPath = "/apis/apps/v1/deployments"

// cliFault is one misbehaviour and what the command must do through it.
type cliFault struct {
	name  string
	fault *faultproxy.Fault
	args  []string
	code  int
	// stderr must contain this.
	stderr string
	// incomplete, for a read that succeeds, must be contained in the one
	// entry of the plan's incomplete list; "" for a complete read.
	incomplete string
	// requests is the number of requests the proxy must see; 0 leaves
	// it unchecked.
	requests int
	within   time.Duration
	// retry, when set, replaces the tests' short retry policy.
	retry cluster.Retry
}

// TestSnapshotThroughFaultsCLIV124 runs `psp2psa snapshot` against a real
// 1.24 apiserver holding the demo and 1,204 more Deployments, through a
// proxy that breaks requests: each run exits as it should, and its
// snapshot holds what a clean snapshot holds, object for object, or says
// what it lacks (and apply-labels --apply then refuses it).
func TestSnapshotThroughFaultsCLIV124(t *testing.T) {
	c := testcluster.Private(t, "v1.24")
	defer func(r cluster.Retry) { readRetry = r }(readRetry)
	readRetry = cluster.Retry{Retries: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}
	createDemo(t, c.AdminConfig())
	createBulkDeployments(t, c.AdminConfig(), 1204)
	proxy := faultproxy.Start(t, c.AdminConfig())
	kc := proxyKubeconfig(t, proxy.URL)
	dir := t.TempDir()

	cleanFile := filepath.Join(dir, "clean.yaml")
	if r := runCLI(t, "", "snapshot", "--kubeconfig", kc, "-f", cleanFile); r.code != exitOK {
		t.Fatalf("clean snapshot: exit %d: %s", r.code, r.stderr)
	}
	cleanRequests := len(proxy.Requests())
	clean := snapshotItems(t, cleanFile)
	t.Logf("clean snapshot: %d objects, %d requests", len(clean), cleanRequests)

	page1, later := faultproxy.List(deploymentsPath, false), faultproxy.List(deploymentsPath, true)
	status := func(code int, reason string, times int) *faultproxy.Fault {
		return &faultproxy.Fault{Name: reason, Match: later, Times: times, Do: faultproxy.Status(code, reason, "injected "+reason, 0)}
	}
	cases := []cliFault{
		{name: "429 with Retry-After", fault: &faultproxy.Fault{Name: "429", Match: page1, Times: 1, Do: faultproxy.Status(429, "TooManyRequests", "too many requests", 1)}, requests: cleanRequests + 1},
		{name: "one 500 on page 2", fault: status(500, "InternalError", 1), requests: cleanRequests + 1},
		{name: "page 2 cut off mid-body", fault: &faultproxy.Fault{Name: "truncated", Match: later, Times: 1, Do: faultproxy.Truncate()}, requests: cleanRequests + 1},
		{
			name:  "page 2 hangs once, --request-timeout 1s",
			fault: &faultproxy.Fault{Name: "hang", Match: later, Times: 1, Do: faultproxy.Hang()}, args: []string{"--request-timeout", "1"},
			requests: cleanRequests + 1, within: 10 * time.Second,
		},
		{name: "410 Expired on page 2", fault: status(410, "Expired", 1), requests: cleanRequests + 2},
		{
			name: "404 on page 2", fault: status(404, "NotFound", 0),
			incomplete: "apps/v1 deployments: page 2, after 4 attempts: answered 404 Not Found although page 1 was served", requests: cleanRequests + 2,
		},
		{
			name: "page 1 without continue while remainingItemCount says more remain",
			fault: &faultproxy.Fault{Name: "no continue", Match: page1, Do: faultproxy.Rewrite(func(list map[string]any) {
				delete(list["metadata"].(map[string]any), "continue")
			})},
			incomplete: "apps/v1 deployments: page 1, after 4 attempts: the page has no continue token, yet the server says 708 more items remain (500 of 1208 read)",
			requests:   cleanRequests + 1,
		},
		{
			name: "page 1 of another kind",
			fault: &faultproxy.Fault{Name: "wrong kind", Match: page1, Do: faultproxy.Rewrite(func(list map[string]any) {
				list["kind"] = "ReplicaSetList"
			})},
			incomplete: "apps/v1 deployments: page 1, after 4 attempts: the server answered with apps/v1 ReplicaSetList instead of apps/v1 DeploymentList (0 read)",
			requests:   cleanRequests + 1,
		},
		{
			name: "403 on Deployments", fault: &faultproxy.Fault{Name: "403", Match: page1, Do: faultproxy.Impersonate("psp2psa-limited")},
			incomplete: "apps/v1 deployments: forbidden", requests: cleanRequests - 2,
		},
		{
			name: "500 on every try of page 2", fault: status(500, "InternalError", 0), code: exitError,
			stderr: "psp2psa: reading the cluster admin: reading apps/v1 deployments: page 2, after 4 attempts: injected InternalError (--allow-incomplete reads the rest and marks the result incomplete)",
		},
		{
			name: "500 on every try of page 2, --allow-incomplete", fault: status(500, "InternalError", 0), args: []string{"--allow-incomplete"},
			incomplete: "apps/v1 deployments: page 2, after 4 attempts: injected InternalError (500 of 1208 read)", requests: cleanRequests + 2,
		},
		{
			name:  "page 2 hangs on every try, --request-timeout 500ms",
			fault: &faultproxy.Fault{Name: "hang", Match: later, Do: faultproxy.Hang()}, args: []string{"--request-timeout", "500ms"},
			code: exitError, stderr: "reading apps/v1 deployments: page 2, after 4 attempts: ", within: 10 * time.Second,
		},
		{
			name:  "page 2 hangs, --read-timeout 2s",
			fault: &faultproxy.Fault{Name: "hang", Match: later, Do: faultproxy.Hang()}, args: []string{"--read-timeout", "2s"},
			code: exitError, stderr: "reading apps/v1 deployments: page 2: the read timeout passed (2s)", within: 10 * time.Second,
		},
	}
	// Last, as a load balancer sees it: the apiserver killed as page 2 is
	// asked for, and started again; the proxy answers 502 until it is
	// back. A restart takes seconds, so this run waits longer.
	restarted := make(chan error, 1)
	var killed atomic.Bool
	cases = append(cases, cliFault{
		name: "apiserver killed and restarted as page 2 is asked for",
		fault: &faultproxy.Fault{Name: "kill", Match: later, Times: 1, Do: faultproxy.Before(func() {
			killed.Store(true)
			c.KillAPIServer()
			go func() { restarted <- c.StartAPIServer(context.Background()) }()
		})},
		retry:  cluster.Retry{Retries: 15, Backoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second},
		within: time.Minute,
	})
	var report []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy.Reset()
			proxy.Inject(tc.fault)
			if tc.retry.Retries > 0 {
				defer func(r cluster.Retry) { readRetry = r }(readRetry)
				readRetry = tc.retry
			}
			file := filepath.Join(dir, strings.NewReplacer(" ", "-", ",", "", "/", "-").Replace(tc.name)+".yaml")
			start := time.Now()
			r := runCLI(t, "", append([]string{"snapshot", "--kubeconfig", kc, "-f", file}, tc.args...)...)
			elapsed := time.Since(start)
			requests := proxy.Requests()
			report = append(report, fmt.Sprintf("  %-68s exit %d, %3d requests (%d broken, %d repeated), %s",
				tc.name, r.code, len(requests), proxy.Broken(), repeated(requests), elapsed.Round(10*time.Millisecond)))
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d with %q; stderr:\n%s", r.code, tc.code, tc.stderr, r.stderr)
			}
			if tc.within > 0 && elapsed > tc.within {
				t.Errorf("took %s, want at most %s", elapsed, tc.within)
			}
			if tc.requests > 0 && len(requests) != tc.requests {
				t.Errorf("%d requests, want %d:%s", len(requests), tc.requests, faultproxy.URIs(requests))
			}
			if tc.code != exitOK {
				return
			}
			checkSnapshotAgainstClean(t, file, clean, tc.incomplete)
		})
	}
	t.Logf("snapshot runs per fault (a clean one makes %d requests):\n%s", cleanRequests, strings.Join(report, "\n"))
	if killed.Load() {
		if err := <-restarted; err != nil {
			t.Fatalf("restarting the apiserver: %v", err)
		}
	}

	t.Run("plan and apply-labels read through the same faults", func(t *testing.T) {
		proxy.Reset()
		proxy.Inject(status(500, "InternalError", 0))
		if r := runCLI(t, "", "plan", "--kubeconfig", kc); r.code != exitError || !strings.Contains(r.stderr, "page 2, after 4 attempts") {
			t.Errorf("plan: exit %d: %s", r.code, r.stderr)
		}
		r := runCLI(t, "", "plan", "--kubeconfig", kc, "--allow-incomplete")
		if r.code != exitOK || !strings.Contains(r.stdout, "INCOMPLETE: apps/v1 deployments: page 2, after 4 attempts: injected InternalError (500 of 1208 read)") {
			t.Errorf("plan --allow-incomplete: exit %d, stdout:\n%.600s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		r = runCLI(t, "", "apply-labels", "--kubeconfig", kc, "--allow-incomplete", "--apply")
		if r.code != exitInput || !strings.Contains(r.stderr, "the plan is incomplete, so --apply is refused") {
			t.Errorf("apply-labels --apply on an incomplete read: exit %d: %s", r.code, r.stderr)
		}
	})
}

// checkSnapshotAgainstClean: a complete snapshot holds the clean one's
// objects, identical and in order; an incomplete one says what it lacks,
// holds nothing the clean one does not, and apply-labels refuses it.
func checkSnapshotAgainstClean(t *testing.T, file string, clean []manifest.Document, incomplete string) {
	t.Helper()
	got := snapshotItems(t, file)
	r := runCLI(t, "", "plan", "--from-snapshot", file, "-o", "json")
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || r.code != exitOK {
		t.Fatalf("plan --from-snapshot: exit %d, %v: %s", r.code, err, r.stderr)
	}
	if incomplete == "" {
		if len(p.Incomplete) > 0 {
			t.Errorf("incomplete %+v, want none", p.Incomplete)
		}
		if len(got) != len(clean) {
			t.Fatalf("%d objects, the clean snapshot %d", len(got), len(clean))
		}
		for i := range got {
			if got[i].Object() != clean[i].Object() || string(got[i].Raw) != string(clean[i].Raw) {
				t.Fatalf("object %d: %s, the clean snapshot has %s (or the content differs)", i, got[i].Object(), clean[i].Object())
			}
		}
		return
	}
	if read := clusterReadMessages(p.Incomplete); len(read) != 1 || !strings.Contains(read[0], incomplete) {
		t.Errorf("incomplete %+v, want one cluster-read entry containing %q", p.Incomplete, incomplete)
	}
	cleanRaw := map[string]string{}
	for _, d := range clean {
		cleanRaw[d.Object()] = string(d.Raw)
	}
	for _, d := range got {
		if cleanRaw[d.Object()] != string(d.Raw) {
			t.Errorf("%s is not as in the clean snapshot", d.Object())
		}
	}
	missing := len(clean) - len(got)
	if missing <= 0 {
		t.Errorf("an incomplete snapshot with %d objects, the clean one %d", len(got), len(clean))
	}
	r = runCLI(t, "", "apply-labels", "--from-snapshot", file, "--apply")
	if r.code != exitInput || !strings.Contains(r.stderr, "the plan is incomplete, so --apply is refused") {
		t.Errorf("apply-labels --from-snapshot --apply: exit %d: %s", r.code, r.stderr)
	}
}

// snapshotItems are the objects of a snapshot file, read as any command
// reads it.
func snapshotItems(t *testing.T, file string) []manifest.Document {
	t.Helper()
	docs, errs := manifest.Read([]string{file}, nil)
	if len(errs) > 0 {
		t.Fatalf("reading %s: %v", file, errs)
	}
	return docs
}

// repeated counts requests the proxy saw more than once, path and query
// alike: the retries.
func repeated(reqs []faultproxy.Request) int {
	seen := map[string]bool{}
	n := 0
	for _, r := range reqs {
		if seen[r.URI] {
			n++
		}
		seen[r.URI] = true
	}
	return n
}

// proxyKubeconfig writes a kubeconfig whose context "admin" is the proxy
// (plain HTTP, no credentials: the proxy has them).
func proxyKubeconfig(t *testing.T, server string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: server}
	cfg.AuthInfos["anonymous"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["admin"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "anonymous"}
	cfg.CurrentContext = "admin"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// createDemo creates testdata/demo on the cluster, namespaces first.
func createDemo(t *testing.T, cfg *rest.Config) {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NoWarnings{}
	dyn := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))
	docs, errs := manifest.Read([]string{demo}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	slices.SortStableFunc(docs, func(a, b manifest.Document) int {
		return boolOrder(a.Kind != "Namespace") - boolOrder(b.Kind != "Namespace")
	})
	for _, d := range docs {
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(d.Raw); err != nil {
			t.Fatalf("%s: %v", d.Source, err)
		}
		m, err := mapper.RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
		if err != nil {
			t.Fatalf("%s: %v", d.Object(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if d.Namespace != "" {
			ri = dyn.Resource(m.Resource).Namespace(d.Namespace)
		}
		if _, err := ri.Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", d.Object(), err)
		}
	}
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// createBulkDeployments creates n Deployments in a new namespace, eight
// at a time.
func createBulkDeployments(t *testing.T, cfg *rest.Config, n int) {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 1000, 1000
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	ns := testcluster.UniqueName("bulk")
	must(t, "create namespace", func() error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		return err
	})
	labels := map[string]string{"app": "bulk"}
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				d := &appsv1.Deployment{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%04d", i)},
					Spec: appsv1.DeploymentSpec{
						Selector: &metav1.LabelSelector{MatchLabels: labels},
						Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
							Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
						}},
					},
				}
				if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("create Deployment %s/%s: %w", ns, d.Name, err)
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}
