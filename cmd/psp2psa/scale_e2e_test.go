package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/scalegen"
	"github.com/psp2psa/psp2psa/internal/testcluster"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// liveBenchEnv turns on TestLiveScale: the number of workloads to create
// (in a tenth as many namespaces), or 1 for the default of 20,000.
const liveBenchEnv = "PSP2PSA_LIVE_BENCH"

// TestLiveScale is the live benchmark (make bench-live), never part of
// the normal suite: it creates a large cluster through the API of a
// private 1.24 apiserver (by default 20,000 workloads in 2,000
// namespaces, shaped as internal/scalegen shapes them), then reads it
// with plan and snapshot, counting the requests per resource. It checks
// that they are pages of the whole cluster (a few per kind), not a list
// per namespace; the time, the requests and the memory are logged.
func TestLiveScale(t *testing.T) {
	n := liveBenchSize(t)
	c := testcluster.Private(t, "v1.24")
	namespaces := max(1, n/10)
	created := createCluster(t, c.AdminConfig(), scalegen.NewIn(n, namespaces))
	runtime.GC() // the generated objects are not part of what is measured

	counter := &requestCounter{byResource: map[string]*atomic.Int64{}}
	wrapTransport = counter.wrap
	t.Cleanup(func() { wrapTransport = nil })
	kubeconfig := c.KubeconfigPath()

	start := time.Now()
	res := runCLI(t, "", "plan", "--kubeconfig", kubeconfig, "-o", "json")
	planTime := time.Since(start)
	if res.code != exitOK {
		t.Fatalf("plan: exit %d: %s", res.code, res.stderr)
	}
	var p struct {
		Workloads []json.RawMessage `json:"workloads"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Workloads) != n {
		t.Errorf("plan planned %d workloads, want %d", len(p.Workloads), n)
	}
	planRequests := counter.take()

	file := filepath.Join(t.TempDir(), "snapshot.yaml")
	peak := watchHeap()
	start = time.Now()
	res = runCLI(t, "", "snapshot", "--kubeconfig", kubeconfig, "-f", file)
	snapshotTime := time.Since(start)
	heapPeak, heapBefore := peak()
	if res.code != exitOK {
		t.Fatalf("snapshot: exit %d: %s", res.code, res.stderr)
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	snapshotRequests := counter.take()

	t.Logf("cluster: %d workloads in %d namespaces, %d objects created through the API", n, namespaces, sum(created))
	t.Logf("plan: %.1f s, %d requests; snapshot: %.1f s, %d requests, %d MB written, heap peak %d MB over the %d MB before",
		planTime.Seconds(), sum(planRequests), snapshotTime.Seconds(), sum(snapshotRequests), info.Size()>>20, (heapPeak-heapBefore)>>20, heapBefore>>20)
	t.Logf("%-24s %8s %14s %18s", "RESOURCE", "OBJECTS", "PLAN REQUESTS", "SNAPSHOT REQUESTS")
	for _, resource := range sortedKeysOf(planRequests, snapshotRequests) {
		t.Logf("%-24s %8d %14d %18d", resource, created[resource], planRequests[resource], snapshotRequests[resource])
		// A list per namespace would be thousands of requests; the reader
		// pages through the whole cluster, 500 objects a page.
		for what, requests := range map[string]map[string]int{"plan": planRequests, "snapshot": snapshotRequests} {
			if limit := created[resource]/500 + 2; requests[resource] > limit {
				t.Errorf("%s made %d requests for %s (%d objects): more than pages of 500", what, requests[resource], resource, created[resource])
			}
		}
	}
}

func liveBenchSize(t *testing.T) int {
	t.Helper()
	value := os.Getenv(liveBenchEnv)
	if value == "" {
		t.Skipf("the live benchmark runs with %s=1 (or the number of workloads): make bench-live", liveBenchEnv)
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a number of workloads", liveBenchEnv, value)
	}
	if n == 1 {
		n = 20000
	}
	return n
}

// createCluster creates every object of the generated cluster, cluster-
// scoped and namespaces first, and returns how many of each resource it
// created. Pods need their service account: "default" is created too (no
// controller-manager does it here).
func createCluster(t *testing.T, cfg *rest.Config, gen *scalegen.Cluster) map[string]int {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling
	cfg.WarningHandler = rest.NoWarnings{}
	dyn := dynamic.NewForConfigOrDie(cfg)
	var first, second, workloads []scalegen.Object
	first = append(append(first, gen.Policies...), gen.ClusterRBAC...)
	for _, ns := range gen.Namespaces {
		first = append(first, ns.Objects[0]) // the Namespace
		second = append(second, ns.Objects[1:]...)
		second = append(second, scalegen.Object{"apiVersion": "v1", "kind": "ServiceAccount",
			"metadata": scalegen.Object{"name": "default", "namespace": ns.Name}})
		workloads = append(workloads, ns.Workloads...)
	}
	created := map[string]int{}
	var mu sync.Mutex
	for _, phase := range [][]scalegen.Object{first, second, workloads} {
		var wg sync.WaitGroup
		next := atomic.Int64{}
		errs := make(chan error, 1)
		for range 32 {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < len(phase); i = int(next.Add(1)) - 1 {
					resource, err := create(dyn, phase[i])
					if err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
					mu.Lock()
					created[resource]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
	}
	return created
}

// resources are the plural names of the kinds the generated cluster holds.
var resources = map[string]string{
	"PodSecurityPolicy": "podsecuritypolicies", "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
	"RoleBinding": "rolebindings", "Namespace": "namespaces", "ServiceAccount": "serviceaccounts", "Pod": "pods",
	"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs",
}

func create(dyn dynamic.Interface, obj scalegen.Object) (string, error) {
	u := &unstructured.Unstructured{Object: jsonRoundTrip(obj)}
	gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
	if err != nil {
		return "", err
	}
	resource := resources[u.GetKind()]
	ri := dyn.Resource(gv.WithResource(resource))
	ctx := context.Background()
	if ns := u.GetNamespace(); ns != "" {
		_, err = ri.Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
	} else {
		_, err = ri.Create(ctx, u, metav1.CreateOptions{})
	}
	if err != nil {
		return "", fmt.Errorf("creating %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return resource, nil
}

// jsonRoundTrip turns the generator's data into what unstructured holds
// (int64 numbers, []any, map[string]any).
func jsonRoundTrip(obj scalegen.Object) map[string]any {
	data, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

// requestCounter counts the requests of cluster reads by resource (the
// last element of the path: /apis/apps/v1/deployments counts as
// deployments).
type requestCounter struct {
	mu         sync.Mutex
	byResource map[string]*atomic.Int64
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
		resource := parts[len(parts)-1]
		c.mu.Lock()
		n, ok := c.byResource[resource]
		if !ok {
			n = &atomic.Int64{}
			c.byResource[resource] = n
		}
		c.mu.Unlock()
		n.Add(1)
		return rt.RoundTrip(req)
	})
}

// take returns the counts so far and starts again from zero.
func (c *requestCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for resource, n := range c.byResource {
		out[resource] = int(n.Load())
	}
	c.byResource = map[string]*atomic.Int64{}
	return out
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// watchHeap samples the live heap until the returned function is called,
// which reports the peak and the heap when the watch began.
func watchHeap() func() (peak, before uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	before := read()
	var peak atomic.Uint64
	peak.Store(before)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		<-stopped
		return peak.Load(), before
	}
}

func sum(m map[string]int) int {
	total := 0
	for _, v := range m {
		total += v
	}
	return total
}

func sortedKeysOf(maps ...map[string]int) []string {
	set := map[string]bool{}
	for _, m := range maps {
		for k := range m {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
