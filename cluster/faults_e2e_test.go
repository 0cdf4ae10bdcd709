package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/psp2psa/psp2psa/internal/faultproxy"
	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/manifest"
)

// bulkDeployments is how many Deployments the fault tests add to the
// demo: with the demo's own, the list spans three pages of 500.
const bulkDeployments = 1204

const deploymentsPath = "/apis/apps/v1/deployments"

// testRetry is the retry policy of the fault tests: few, short waits.
var testRetry = Retry{Retries: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}

// faultCase is one misbehaviour of the apiserver (or of what stands in
// front of it) and what a read through it must give.
type faultCase struct {
	name   string
	faults []*faultproxy.Fault
	// requestTimeout is the rest.Config's Timeout; opts adds to testRetry.
	requestTimeout time.Duration
	opts           Options
	// err is what a failed read's error must contain; "" for a read that
	// succeeds.
	err string
	// incomplete are what the entries of Incomplete must contain, one
	// each, in order; none for a read equal to the clean one.
	incomplete []string
	// missing is how many Deployments the incomplete read lacks.
	missing int
	// extra is the number of requests beyond a clean read's (negative:
	// fewer), checked for reads that succeed unless uncounted.
	extra             int
	uncounted         bool
	retries, restarts int
	// deploymentRequests, when set, is the number of Deployment list
	// requests, for failed reads whose other kinds were cut short.
	deploymentRequests int
	// within bounds the read's time.
	within time.Duration
}

// TestReadThroughFaultsV124 reads a real 1.24 apiserver holding the demo
// and 1,204 more Deployments through a proxy that breaks requests the way
// overloaded apiservers, load balancers and broken proxies do, and last
// kills and restarts the apiserver mid-read. Every read either equals the
// clean read object for object or names what it lacks, and every fault
// costs the requests and retries it should.
func TestReadThroughFaultsV124(t *testing.T) {
	c := testcluster.Private(t, "v1.24")
	start := time.Now()
	applyInOrder(t, c.AdminConfig(), readFile(t, repoPath("testdata", "demo")))
	createDeployments(t, c.AdminConfig(), testcluster.UniqueName("bulk"), bulkDeployments)
	t.Logf("created the demo and %d Deployments in %s", bulkDeployments, time.Since(start).Round(time.Millisecond))
	proxy := faultproxy.Start(t, c.AdminConfig())

	clean, cleanRequests := readThrough(t, proxy.Config(), Options{Retry: testRetry})
	if clean.err != nil || len(clean.res.Incomplete) > 0 || clean.res.Retries > 0 {
		t.Fatalf("the clean read: %v, incomplete %q, %d retries", clean.err, clean.res.Incomplete, clean.res.Retries)
	}
	deployments := countDocs(clean.res.Documents, "Deployment")
	pages := (deployments + DefaultPageSize - 1) / DefaultPageSize
	// The version, the API groups and admissionregistration's v1 (no
	// admission policies there), a list per kind and two more pages.
	if pages != 3 || cleanRequests != 1+2+len(resources)+2 {
		t.Fatalf("the clean read: %d Deployments in %d pages, %d requests; want 3 pages and %d requests", deployments, pages, cleanRequests, 1+2+len(resources)+2)
	}
	afterPage1 := deployments - DefaultPageSize
	t.Logf("clean read: %d objects, %d Deployments in %d pages, %d requests", len(clean.res.Documents), deployments, pages, cleanRequests)

	var report []string
	for _, tc := range faultCases(deployments, afterPage1) {
		t.Run(tc.name, func(t *testing.T) {
			proxy.Reset()
			proxy.Inject(tc.faults...)
			cfg := proxy.Config()
			cfg.Timeout = tc.requestTimeout
			opts := tc.opts
			opts.Retry = testRetry
			got, requests := readThrough(t, cfg, opts)
			checkFaultRead(t, tc, got, clean.res, requests, cleanRequests, proxy)
			report = append(report, got.summary(tc.name, requests, proxy.Broken()))
		})
	}
	t.Run("apiserver killed and restarted mid-read", func(t *testing.T) {
		got, requests := readWhileRestarting(t, c)
		if got.err != nil {
			t.Fatalf("read across the restart: %v", got.err)
		}
		sameDocuments(t, got.res.Documents, clean.res.Documents)
		// The page the kill broke is asked for again with its continue
		// token, which the restarted server still honours: no restart.
		if len(got.res.Incomplete) > 0 || got.res.Retries == 0 || got.res.Restarts > 0 || requests != cleanRequests+got.res.Retries {
			t.Errorf("incomplete %q, %d requests with %d retries and %d restarts; want complete, resumed, and %d requests plus one per retry",
				got.res.Incomplete, requests, got.res.Retries, got.res.Restarts, cleanRequests)
		}
		report = append(report, got.summary("apiserver killed and restarted mid-read (direct, no proxy)", requests, 0))
	})
	t.Logf("requests and retries per fault (a clean read makes %d requests):\n%s", cleanRequests, strings.Join(report, "\n"))
}

// faultCases are the faults, given the number of Deployments and how many
// come after the first page.
func faultCases(deployments, afterPage1 int) []faultCase {
	page1, later := faultproxy.List(deploymentsPath, false), faultproxy.List(deploymentsPath, true)
	of := func(read int) string { return fmt.Sprintf("(%d of %d read)", read, deployments) }
	return []faultCase{
		{name: "no fault"},
		{
			name:   "429 with Retry-After on page 1",
			faults: []*faultproxy.Fault{{Name: "429", Match: page1, Times: 1, Do: faultproxy.Status(429, "TooManyRequests", "too many requests, please try again later", 1)}},
			extra:  1, retries: 1,
		},
		{
			name:   "one 500 without Retry-After on page 2",
			faults: []*faultproxy.Fault{{Name: "500", Match: later, Times: 1, Do: faultproxy.Status(500, "InternalError", "etcdserver: leader changed", 0)}},
			extra:  1, retries: 1,
		},
		{
			name:   "page 2 cut off mid-body",
			faults: []*faultproxy.Fault{{Name: "truncated", Match: later, Times: 1, Do: faultproxy.Truncate()}},
			extra:  1, retries: 1,
		},
		{
			name:           "page 2 hangs once",
			faults:         []*faultproxy.Fault{{Name: "hang", Match: later, Times: 1, Do: faultproxy.Hang()}},
			requestTimeout: 2 * time.Second,
			extra:          1, retries: 1,
			within: 10 * time.Second,
		},
		{
			name:   "410 Expired on page 2: the list starts over, paged",
			faults: []*faultproxy.Fault{{Name: "410", Match: later, Times: 1, Do: faultproxy.Status(410, "Expired", "The provided continue parameter is too old", 0)}},
			extra:  2, restarts: 1,
		},
		{
			name:       "404 on page 2",
			faults:     []*faultproxy.Fault{{Name: "404", Match: later, Do: faultproxy.Status(404, "NotFound", "the server could not find the requested resource", 0)}},
			incomplete: []string{"apps/v1 deployments: page 2, after 4 attempts: answered 404 Not Found although page 1 was served (the server could not find the requested resource) " + of(DefaultPageSize)},
			missing:    afterPage1,
			extra:      2, retries: 3,
		},
		{
			name: "page 1 without continue while remainingItemCount says more remain",
			faults: []*faultproxy.Fault{{Name: "no continue", Match: page1, Do: faultproxy.Rewrite(func(list map[string]any) {
				delete(list["metadata"].(map[string]any), "continue")
			})}},
			incomplete: []string{fmt.Sprintf("apps/v1 deployments: page 1, after 4 attempts: the page has no continue token, yet the server says %d more items remain %s", afterPage1, of(DefaultPageSize))},
			missing:    afterPage1,
			extra:      1, retries: 3,
		},
		{
			name: "page 1 of another kind",
			faults: []*faultproxy.Fault{{Name: "wrong kind", Match: page1, Do: faultproxy.Rewrite(func(list map[string]any) {
				list["kind"] = "ReplicaSetList"
			})}},
			incomplete: []string{"apps/v1 deployments: page 1, after 4 attempts: the server answered with apps/v1 ReplicaSetList instead of apps/v1 DeploymentList (0 read)"},
			missing:    deployments,
			extra:      1, retries: 3,
		},
		{
			name:       "403 on Deployments",
			faults:     []*faultproxy.Fault{{Name: "403", Match: page1, Do: faultproxy.Impersonate("psp2psa-limited")}},
			incomplete: []string{"apps/v1 deployments: forbidden"},
			missing:    deployments,
			extra:      -2,
		},
		{
			name:               "500 on every try of page 2",
			faults:             []*faultproxy.Fault{{Name: "500", Match: later, Do: faultproxy.Status(500, "InternalError", "etcdserver: request timed out", 0)}},
			err:                "reading apps/v1 deployments: page 2, after 4 attempts: etcdserver: request timed out",
			deploymentRequests: 5, retries: 3,
		},
		{
			name:       "500 on every try of page 2, allowing an incomplete read",
			faults:     []*faultproxy.Fault{{Name: "500", Match: later, Do: faultproxy.Status(500, "InternalError", "etcdserver: request timed out", 0)}},
			opts:       Options{AllowIncomplete: true},
			incomplete: []string{"apps/v1 deployments: page 2, after 4 attempts: etcdserver: request timed out " + of(DefaultPageSize)},
			missing:    afterPage1,
			extra:      2, retries: 3,
		},
		{
			name:               "page 2 hangs on every try",
			faults:             []*faultproxy.Fault{{Name: "hang", Match: later, Do: faultproxy.Hang()}},
			requestTimeout:     500 * time.Millisecond,
			err:                "reading apps/v1 deployments: page 2, after 4 attempts: ",
			deploymentRequests: 5, retries: 3,
			within: 10 * time.Second,
		},
		{
			name:   "page 2 hangs past the read timeout",
			faults: []*faultproxy.Fault{{Name: "hang", Match: later, Do: faultproxy.Hang()}},
			opts:   Options{Timeout: 2 * time.Second},
			err:    "reading apps/v1 deployments: page 2: the read timeout passed (2s)",
			within: 10 * time.Second, deploymentRequests: 2,
		},
		{
			name:       "page 2 hangs past the read timeout, allowing an incomplete read",
			faults:     []*faultproxy.Fault{{Name: "hang", Match: later, Do: faultproxy.Hang()}},
			opts:       Options{Timeout: 2 * time.Second, AllowIncomplete: true},
			incomplete: []string{"apps/v1 deployments: page 2: the read timeout passed (2s) " + of(DefaultPageSize)},
			missing:    afterPage1,
			within:     10 * time.Second, uncounted: true,
		},
	}
}

// faultRead is the outcome of one read.
type faultRead struct {
	res     *Result
	err     error
	elapsed time.Duration
	log     *requestLog
}

func (r faultRead) summary(name string, requests, broken int) string {
	outcome := "complete"
	switch {
	case r.err != nil:
		outcome = "error"
	case len(r.res.Incomplete) > 0:
		outcome = "incomplete"
	}
	// A failed read has no Result to count its retries: the requests
	// sent again tell them.
	retries, restarts := countRetries(r.log), 0
	if r.res != nil {
		retries, restarts = r.res.Retries, r.res.Restarts
	}
	return fmt.Sprintf("  %-70s %-10s %3d requests (%d broken), %d retries, %d restarts, %s",
		name, outcome, requests, broken, retries, restarts, r.elapsed.Round(10*time.Millisecond))
}

// readThrough reads with cfg, counting the requests the client sends.
func readThrough(t *testing.T, cfg *rest.Config, opts Options) (faultRead, int) {
	t.Helper()
	log := &requestLog{}
	cfg.Wrap(log.wrap)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := Read(ctx, cfg, opts)
	got := faultRead{res: res, err: err, elapsed: time.Since(start), log: log}
	return got, len(log.matching("/"))
}

func checkFaultRead(t *testing.T, tc faultCase, got faultRead, clean *Result, requests, cleanRequests int, proxy *faultproxy.Proxy) {
	t.Helper()
	t.Logf("%d requests, %s", requests, got.elapsed.Round(time.Millisecond))
	if tc.within > 0 && got.elapsed > tc.within {
		t.Errorf("the read took %s, want at most %s", got.elapsed, tc.within)
	}
	deploymentRequests := len(got.log.matching(deploymentsPath + "?"))
	for _, u := range got.log.matching(deploymentsPath + "?") {
		if !strings.Contains(u, "limit=500") {
			t.Errorf("an unpaged Deployment list: %s", u)
		}
	}
	if tc.deploymentRequests > 0 && deploymentRequests != tc.deploymentRequests {
		t.Errorf("%d Deployment list requests, want %d:%s", deploymentRequests, tc.deploymentRequests, faultproxy.URIs(proxy.Requests()))
	}
	if tc.err != "" {
		if got.err == nil || !strings.Contains(got.err.Error(), tc.err) {
			t.Fatalf("error %v, want one containing %q", got.err, tc.err)
		}
		if tc.retries > 0 && !errors.Is(got.err, ErrReadTimeout) && tc.retries != countRetries(got.log) {
			t.Errorf("%d requests repeated, want %d", countRetries(got.log), tc.retries)
		}
		return
	}
	if got.err != nil {
		t.Fatalf("Read: %v%s", got.err, faultproxy.URIs(proxy.Requests()))
	}
	res := got.res
	if res.Retries != tc.retries || res.Restarts != tc.restarts {
		t.Errorf("%d retries, %d restarts; want %d and %d", res.Retries, res.Restarts, tc.retries, tc.restarts)
	}
	if !tc.uncounted {
		if want := cleanRequests + tc.extra; requests != want {
			t.Errorf("%d requests, want %d:%s", requests, want, faultproxy.URIs(proxy.Requests()))
		}
	}
	if len(res.Incomplete) != len(tc.incomplete) {
		t.Fatalf("incomplete %q, want entries containing %q", res.Incomplete, tc.incomplete)
	}
	for i, want := range tc.incomplete {
		if !strings.Contains(res.Incomplete[i], want) {
			t.Errorf("incomplete entry %q, want it to contain %q", res.Incomplete[i], want)
		}
	}
	if len(tc.incomplete) == 0 {
		sameDocuments(t, res.Documents, clean.Documents)
		return
	}
	// Whatever was read is as the clean read has it; only Deployments
	// are missing, as many as the entry says.
	want := slices.DeleteFunc(slices.Clone(clean.Documents), func(d manifest.Document) bool { return d.Kind == "Deployment" })
	have := slices.DeleteFunc(slices.Clone(res.Documents), func(d manifest.Document) bool { return d.Kind == "Deployment" })
	sameDocuments(t, have, want)
	if n := countDocs(clean.Documents, "Deployment") - countDocs(res.Documents, "Deployment"); n != tc.missing {
		t.Errorf("%d Deployments missing, want %d", n, tc.missing)
	}
	cleanByKey := map[string]string{}
	for _, d := range clean.Documents {
		cleanByKey[d.Object()] = string(d.Raw)
	}
	for _, d := range res.Documents {
		if cleanByKey[d.Object()] != string(d.Raw) {
			t.Errorf("%s differs from the clean read", d.Object())
		}
	}
}

// countRetries counts requests sent again with the same path and query.
func countRetries(log *requestLog) int {
	seen := map[string]bool{}
	n := 0
	for _, u := range log.matching("/") {
		if seen[u] {
			n++
		}
		seen[u] = true
	}
	return n
}

// sameDocuments compares two reads object for object: the same objects,
// in the same order, with the same content.
func sameDocuments(t *testing.T, got, want []manifest.Document) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d objects, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.APIVersion != w.APIVersion || g.Object() != w.Object() || string(g.Raw) != string(w.Raw) {
			t.Errorf("object %d: %s %s, want %s %s (or the content differs)", i, g.APIVersion, g.Object(), w.APIVersion, w.Object())
			return
		}
	}
}

func countDocs(docs []manifest.Document, kind string) int {
	n := 0
	for _, d := range docs {
		if d.Kind == kind {
			n++
		}
	}
	return n
}

// readWhileRestarting reads the apiserver directly and, as the request
// for the second page of Deployments goes out, kills it (SIGKILL) and
// starts it again: requests in flight break, new ones are refused until
// it is back.
func readWhileRestarting(t *testing.T, c *testcluster.Cluster) (faultRead, int) {
	t.Helper()
	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{}
	restarted := make(chan error, 1)
	var once sync.Once
	killed := false // written by the read's requests, read once it is over
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.URL.Path == deploymentsPath && req.URL.Query().Get("continue") != "" {
				once.Do(func() {
					killed = true
					c.KillAPIServer()
					go func() { restarted <- c.StartAPIServer(context.Background()) }()
				})
			}
			return rt.RoundTrip(req)
		})
	})
	// A restart takes seconds: enough retries, with waits up to 2s, to
	// outlast it.
	got, requests := readThrough(t, cfg, Options{Retry: Retry{Retries: 15, Backoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}})
	if !killed {
		t.Fatalf("the read never asked for page 2 of the Deployments: %v", got.err)
	}
	// StartAPIServer gives up after two minutes by itself.
	if err := <-restarted; err != nil {
		t.Fatalf("restarting the apiserver: %v", err)
	}
	return got, requests
}

// createDeployments creates n Deployments in a new namespace ns, a few at
// a time.
func createDeployments(t *testing.T, cfg *rest.Config, ns string, n int) {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 1000, 1000
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
	labels := map[string]string{"app": "bulk"}
	next := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				d := &appsv1.Deployment{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%04d", i)},
					Spec: appsv1.DeploymentSpec{
						Selector: &metav1.LabelSelector{MatchLabels: labels},
						Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec("default", nil)},
					},
				}
				if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("create Deployment %s/%s: %w", ns, d.Name, err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
