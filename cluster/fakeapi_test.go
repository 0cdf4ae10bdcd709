package cluster

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
)

// fakeAPI is a small apiserver over HTTP: enough of discovery, list and
// get for the reader, so that unit tests go through the real client
// (paging parameters, status codes, Warning headers) without a cluster.
type fakeAPI struct {
	version string
	// served maps "group/version/resource" ("v1/pods" for the core group)
	// to its objects, without apiVersion and kind, as the wire has them.
	served map[string][]map[string]any
	// status answers every request for a resource with this HTTP status.
	status map[string]int
	// expireOnce fails the first request with a continue token with 410.
	expireOnce map[string]bool
	// dropContinue leaves the continue token out of the resource's
	// pages, keeping remainingItemCount.
	dropContinue map[string]bool
	// warnings are sent as Warning headers on every list of the resource.
	warnings map[string]string
	// kinds names the kind of a served resource the reader has no entry
	// for (a Gatekeeper Constraint's), by its plural.
	kinds map[string]string

	mu       sync.Mutex
	requests []string
}

func (f *fakeAPI) start(t *testing.T) *rest.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}
}

// object makes an item with the given metadata (and managedFields, which
// the reader must drop).
func object(namespace, name string, extra map[string]any) map[string]any {
	meta := map[string]any{"name": name, "managedFields": []any{map[string]any{"manager": "kubectl"}}}
	if namespace != "" {
		meta["namespace"] = namespace
	}
	obj := map[string]any{"metadata": meta}
	for k, v := range extra {
		obj[k] = v
	}
	return obj
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.mu.Unlock()
	if r.URL.Path == "/version" {
		writeJSON(w, http.StatusOK, map[string]any{"gitVersion": f.version})
		return
	}
	if f.discover(w, r.URL.Path) {
		return
	}
	key, namespace, name, ok := parsePath(r.URL.Path)
	items, served := f.served[key]
	if !ok || !served {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if code := f.status[key]; code != 0 {
		writeStatus(w, code, http.StatusText(code), fmt.Sprintf("%s: User \"tester\" cannot list resource", key))
		return
	}
	if msg := f.warnings[key]; msg != "" {
		w.Header().Add("Warning", `299 - "`+msg+`"`)
	}
	var inScope []map[string]any
	for _, item := range items {
		meta := item["metadata"].(map[string]any)
		if namespace != "" && meta["namespace"] != namespace {
			continue
		}
		if name != "" && meta["name"] == name {
			// A get, unlike a list item, carries apiVersion and kind; the
			// reader sets both itself either way.
			writeJSON(w, http.StatusOK, withType(item, key))
			return
		}
		inScope = append(inScope, item)
	}
	if name != "" {
		writeStatus(w, http.StatusNotFound, "NotFound", name+" not found")
		return
	}
	f.list(w, r, key, inScope)
}

func (f *fakeAPI) list(w http.ResponseWriter, r *http.Request, key string, items []map[string]any) {
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("continue"))
	if q.Get("continue") != "" && f.expireOnce[key] {
		f.mu.Lock()
		f.expireOnce[key] = false
		f.mu.Unlock()
		writeStatus(w, http.StatusGone, "Expired", "The provided continue parameter is too old")
		return
	}
	end := len(items)
	if limit, _ := strconv.Atoi(q.Get("limit")); limit > 0 && start+limit < end {
		end = start + limit
	}
	meta := map[string]any{"resourceVersion": "1"}
	if end < len(items) {
		if !f.dropContinue[key] {
			meta["continue"] = strconv.Itoa(end)
		}
		meta["remainingItemCount"] = len(items) - end
	}
	gv, plural := key[:strings.LastIndex(key, "/")], key[strings.LastIndex(key, "/")+1:]
	kind := listKind(plural)
	if k := f.kinds[plural]; k != "" {
		kind = k + "List"
	}
	writeJSON(w, http.StatusOK, map[string]any{"apiVersion": gv, "kind": kind, "metadata": meta, "items": items[start:end]})
}

// listKind is the kind of a list of plural, as a real server names it
// ("DeploymentList").
func listKind(plural string) string {
	if r, ok := knownResource(plural); ok {
		return r.kind + "List"
	}
	return "List"
}

// knownResource is the reader's entry for plural, if it has one.
func knownResource(plural string) (resource, bool) {
	for _, r := range append(resources[:len(resources):len(resources)], admissionPolicies...) {
		if r.plural == plural {
			return r, true
		}
	}
	return resource{}, false
}

// discover answers the discovery requests of API groups (/apis) and of
// one group/version's resources (/apis/G/V) from what is served; it
// reports false for any other path.
func (f *fakeAPI) discover(w http.ResponseWriter, path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if parts[0] != "apis" || len(parts) == 2 || len(parts) > 3 {
		return false
	}
	groups := map[string][]any{}
	var resources []any
	for key := range f.served {
		gvr := strings.Split(key, "/")
		if len(gvr) != 3 {
			continue // the core group is not under /apis
		}
		versions := groups[gvr[0]]
		if !slices.ContainsFunc(versions, func(v any) bool { return v.(map[string]any)["version"] == gvr[1] }) {
			groups[gvr[0]] = append(versions, map[string]any{"groupVersion": gvr[0] + "/" + gvr[1], "version": gvr[1]})
		}
		if len(parts) == 3 && gvr[0] == parts[1] && gvr[1] == parts[2] {
			r, _ := knownResource(gvr[2])
			kind := r.kind
			if kind == "" {
				kind = f.kinds[gvr[2]]
			}
			resources = append(resources, map[string]any{"name": gvr[2], "kind": kind, "namespaced": r.namespaced, "verbs": []any{"get", "list"}})
		}
	}
	if len(parts) == 1 {
		var list []any
		for name, versions := range groups {
			list = append(list, map[string]any{"name": name, "versions": versions})
		}
		writeJSON(w, http.StatusOK, map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": list})
		return true
	}
	if resources == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return true
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": parts[1] + "/" + parts[2], "resources": resources})
	return true
}

// parsePath splits /api/v1/[namespaces/NS/]RES[/NAME] and the /apis/G/V
// form into "gv/RES", the namespace and the name.
func parsePath(path string) (key, namespace, name string, ok bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var gv string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		gv, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		gv, parts = parts[1]+"/"+parts[2], parts[3:]
	default:
		return "", "", "", false
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		namespace, parts = parts[1], parts[2:]
	}
	switch len(parts) {
	case 1:
		return gv + "/" + parts[0], namespace, "", true
	case 2:
		return gv + "/" + parts[0], namespace, parts[1], true
	}
	return "", "", "", false
}

func withType(item map[string]any, key string) map[string]any {
	kind := strings.TrimSuffix(listKind(key[strings.LastIndex(key, "/")+1:]), "List")
	out := map[string]any{"apiVersion": key[:strings.LastIndex(key, "/")], "kind": kind}
	for k, v := range item {
		out[k] = v
	}
	return out
}

func writeStatus(w http.ResponseWriter, code int, reason, message string) {
	writeJSON(w, code, map[string]any{
		"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": code, "reason": reason, "message": message,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) requested() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}
