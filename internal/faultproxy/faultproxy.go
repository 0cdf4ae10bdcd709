// Package faultproxy is a reverse proxy for end-to-end tests: it stands
// between a client and a real kube-apiserver and breaks chosen requests
// the way overloaded servers, load balancers and half-broken proxies do
// (error statuses, hangs, bodies cut off, rewritten lists), and records
// every request it saw.
//
// Clients talk plain HTTP to the proxy without credentials; the proxy
// talks to the apiserver with the rest.Config it was given.
package faultproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// maxHang bounds a Hang even when the client never gives up.
const maxHang = 2 * time.Minute

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's address, e.g. "http://127.0.0.1:41234".
	URL string

	rp *httputil.ReverseProxy

	mu       sync.Mutex
	faults   []*Fault
	requests []Request
}

// Request is one request the proxy received.
type Request struct {
	// URI is the path and query, e.g. "/apis/apps/v1/deployments?limit=500".
	URI string
	// Fault is the name of the fault applied to it; "" when forwarded as is.
	Fault string
}

// Fault breaks the requests it matches.
type Fault struct {
	// Name is recorded with every request it breaks.
	Name string
	// Match selects the requests to break.
	Match func(*http.Request) bool
	// Times is how many matching requests it breaks; 0 breaks all.
	Times int
	// Do answers a request instead of the plain forwarding.
	Do Action

	hits int
}

// Action answers one broken request.
type Action func(p *Proxy, w http.ResponseWriter, r *http.Request)

// Start runs a proxy to the apiserver cfg points at, using cfg's
// credentials, until the test ends.
func Start(t testing.TB, cfg *rest.Config) *Proxy {
	t.Helper()
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatalf("faultproxy: apiserver URL %q: %v", cfg.Host, err)
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatalf("faultproxy: transport to %s: %v", cfg.Host, err)
	}
	p := &Proxy{}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// The proxy's own transport then negotiates compression and
			// hands ModifyResponse a plain body to rewrite.
			pr.Out.Header.Del("Accept-Encoding")
		},
		Transport: transport,
		// Write each chunk through at once, so that a body cut off
		// mid-way reaches the client as far as it got.
		FlushInterval: -1,
		// A body cut off on purpose is no news.
		ErrorLog: log.New(io.Discard, "", 0),
		ModifyResponse: func(resp *http.Response) error {
			if modify, ok := resp.Request.Context().Value(modifyKey{}).(func(*http.Response) error); ok {
				return modify(resp)
			}
			return nil
		},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Config is a client config for the proxy (no TLS, no credentials).
func (p *Proxy) Config() *rest.Config {
	return &rest.Config{Host: p.URL, QPS: 100, Burst: 200}
}

// Inject adds faults after those already there; the first fault that
// matches a request and has breaks left applies to it.
func (p *Proxy) Inject(faults ...*Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, faults...)
}

// Reset removes every fault and forgets the requests seen.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults, p.requests = nil, nil
}

// Requests are the requests received since the last Reset, in order.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Broken counts the requests a fault was applied to.
func (p *Proxy) Broken() int {
	n := 0
	for _, r := range p.Requests() {
		if r.Fault != "" {
			n++
		}
	}
	return n
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := p.take(r)
	if f == nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	f.Do(p, w, r)
}

// take records the request and returns the fault that applies, if any.
func (p *Proxy) take(r *http.Request) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	req := Request{URI: r.URL.RequestURI()}
	var applied *Fault
	for _, f := range p.faults {
		if (f.Times == 0 || f.hits < f.Times) && f.Match(r) {
			f.hits++
			applied, req.Fault = f, f.Name
			break
		}
	}
	p.requests = append(p.requests, req)
	return applied
}

// List matches list requests for the resource path (e.g.
// "/apis/apps/v1/deployments"): page 1 (no continue token) when later is
// false, the following pages when it is true.
func List(path string, later bool) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == http.MethodGet && r.URL.Path == path && (r.URL.Query().Get("continue") != "") == later
	}
}

// Status answers with an error status as the apiserver writes it: a
// metav1.Status body; retryAfter > 0 adds a Retry-After header and
// details.retryAfterSeconds, as priority and fairness does for 429.
func Status(code int, reason, message string, retryAfter int) Action {
	return func(_ *Proxy, w http.ResponseWriter, _ *http.Request) {
		status := map[string]any{
			"apiVersion": "v1", "kind": "Status", "status": "Failure",
			"code": code, "reason": reason, "message": message,
		}
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
			status["details"] = map[string]any{"retryAfterSeconds": retryAfter}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(status)
	}
}

// Hang answers nothing until the client gives up (at most maxHang).
func Hang() Action {
	return func(_ *Proxy, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(maxHang):
		}
	}
}

// Truncate forwards the request and cuts the response body off halfway,
// after promising all of it in Content-Length.
func Truncate() Action {
	return forwardModified(func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		resp.Header.Del("Transfer-Encoding")
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:len(body)/2]), failingReader{}))
		return nil
	})
}

// Rewrite forwards the request and lets edit change the JSON object the
// apiserver answered (a list: its "metadata", "kind", "items").
func Rewrite(edit func(obj map[string]any)) Action {
	return forwardModified(func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			return fmt.Errorf("faultproxy: the answer to %s is not a JSON object: %w", resp.Request.URL, err)
		}
		edit(obj)
		if body, err = json.Marshal(obj); err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		resp.Header.Del("Transfer-Encoding")
		return nil
	})
}

// Impersonate forwards the request as user (with no groups beyond
// system:authenticated), so that the apiserver's own RBAC answers it.
func Impersonate(user string) Action {
	return func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.Header.Set("Impersonate-User", user)
		p.rp.ServeHTTP(w, r)
	}
}

// Before runs f, then forwards the request as it is: for a server killed
// just as a request arrives, say.
func Before(f func()) Action {
	return func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		f()
		p.rp.ServeHTTP(w, r)
	}
}

type modifyKey struct{}

func forwardModified(modify func(*http.Response) error) Action {
	return func(p *Proxy, w http.ResponseWriter, r *http.Request) {
		p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), modifyKey{}, modify)))
	}
}

// failingReader fails the copy of a truncated body, which makes the
// server drop the connection instead of ending the response.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// URIs lists the requests one a line, with the fault applied, for test
// messages.
func URIs(reqs []Request) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString("\n  " + r.URI)
		if r.Fault != "" {
			b.WriteString("  [" + r.Fault + "]")
		}
	}
	return b.String()
}
