package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"

	"github.com/psp2psa/psp2psa/manifest"
)

// smallCluster is a 1.24-like API with one object of several kinds.
func smallCluster() *fakeAPI {
	return &fakeAPI{
		version: "v1.24.17",
		served: map[string][]map[string]any{
			"policy/v1beta1/podsecuritypolicies":               {object("", "restricted", map[string]any{"spec": map[string]any{"privileged": false}})},
			"rbac.authorization.k8s.io/v1/clusterroles":        {object("", "psp-user", nil)},
			"rbac.authorization.k8s.io/v1/clusterrolebindings": {},
			"rbac.authorization.k8s.io/v1/roles":               {},
			"rbac.authorization.k8s.io/v1/rolebindings":        {object("team", "use-psp", nil)},
			"v1/namespaces":             {object("", "team", nil), object("", "other", nil)},
			"v1/serviceaccounts":        {object("team", "default", nil), object("other", "default", nil)},
			"v1/pods":                   {object("team", "web", nil)},
			"v1/replicationcontrollers": {},
			"apps/v1/deployments":       {object("team", "api", nil), object("other", "db", nil)},
			"apps/v1/replicasets":       {},
			"apps/v1/statefulsets":      {},
			"apps/v1/daemonsets":        {},
			"batch/v1/jobs":             {},
			"batch/v1/cronjobs":         {object("team", "nightly", nil)},
			"v1/secrets":                {object("team", "token", nil)},
		},
	}
}

func TestReadEveryKindInOrderAsDocuments(t *testing.T) {
	api := smallCluster()
	res, err := Read(context.Background(), api.start(t), Options{Source: "cluster test"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"policy/v1beta1 PodSecurityPolicy/restricted",
		"rbac.authorization.k8s.io/v1 ClusterRole/psp-user",
		"rbac.authorization.k8s.io/v1 RoleBinding/team/use-psp",
		"v1 Namespace/team",
		"v1 Namespace/other",
		"v1 ServiceAccount/team/default",
		"v1 ServiceAccount/other/default",
		"v1 Pod/team/web",
		"apps/v1 Deployment/team/api",
		"apps/v1 Deployment/other/db",
		"batch/v1 CronJob/team/nightly",
	}
	if got := objectKeys(res.Documents); !slices.Equal(got, want) {
		t.Errorf("documents:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, d := range res.Documents {
		if d.Source != (manifest.Source{File: "cluster test", Index: i}) {
			t.Errorf("%s: Source %+v, want index %d", d.Object(), d.Source, i)
		}
		var obj struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   map[string]any
		}
		if err := json.Unmarshal(d.Raw, &obj); err != nil {
			t.Fatal(err)
		}
		if obj.APIVersion != d.APIVersion || obj.Kind != d.Kind {
			t.Errorf("%s: the JSON says %s %s", d.Object(), obj.APIVersion, obj.Kind)
		}
		if _, ok := obj.Metadata["managedFields"]; ok {
			t.Errorf("%s: managedFields kept", d.Object())
		}
	}
	if res.ServerVersion != "v1.24.17" || len(res.Incomplete) > 0 || len(res.Warnings) > 0 {
		t.Errorf("ServerVersion %q, Incomplete %q, Warnings %q", res.ServerVersion, res.Incomplete, res.Warnings)
	}
}

// TestReadOnlyGetsAndListsNeverSecrets: whatever the server offers, the
// reader asks only for the kinds it plans with, and only reads.
func TestReadOnlyGetsAndListsNeverSecrets(t *testing.T) {
	api := smallCluster()
	for _, opts := range []Options{{}, {Namespace: "team"}, {PoliciesOnly: true}} {
		if _, err := Read(context.Background(), api.start(t), opts); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range api.requested() {
		if !strings.HasPrefix(r, "GET ") || strings.Contains(r, "secrets") {
			t.Errorf("request %s", r)
		}
	}
}

func TestReadNamespaceGetsOnlyThatNamespace(t *testing.T) {
	api := smallCluster()
	res, err := Read(context.Background(), api.start(t), Options{Namespace: "team"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Documents {
		if d.Namespace == "other" || d.Kind == "Namespace" && d.Name != "team" {
			t.Errorf("read %s outside namespace team", d.Object())
		}
	}
	if !slices.Contains(api.requested(), "GET /api/v1/namespaces/team") {
		t.Errorf("the namespace was not fetched by name: %v", api.requested())
	}
	_, err = Read(context.Background(), api.start(t), Options{Namespace: "missing"})
	if !errors.Is(err, ErrNamespaceNotFound) || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("a missing namespace: got %v", err)
	}
}

func TestReadPoliciesOnly(t *testing.T) {
	res, err := Read(context.Background(), smallCluster().start(t), Options{PoliciesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := objectKeys(res.Documents); !slices.Equal(got, []string{"policy/v1beta1 PodSecurityPolicy/restricted"}) {
		t.Errorf("documents %v", got)
	}
}

func TestReadFallsBackToOlderGroupVersions(t *testing.T) {
	api := smallCluster()
	delete(api.served, "policy/v1beta1/podsecuritypolicies")
	delete(api.served, "batch/v1/cronjobs")
	api.served["extensions/v1beta1/podsecuritypolicies"] = []map[string]any{object("", "old", nil)}
	api.served["batch/v1beta1/cronjobs"] = []map[string]any{object("team", "nightly", nil)}
	res, err := Read(context.Background(), api.start(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := objectKeys(res.Documents)
	for _, want := range []string{"extensions/v1beta1 PodSecurityPolicy/old", "batch/v1beta1 CronJob/team/nightly"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %s in %v", want, got)
		}
	}
}

func TestReadPSPNotServedPointsToSnapshots(t *testing.T) {
	api := smallCluster()
	api.version = "v1.25.0"
	delete(api.served, "policy/v1beta1/podsecuritypolicies")
	res, err := Read(context.Background(), api.start(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "(v1.25.0) no longer serves PodSecurityPolicy") ||
		!strings.Contains(res.Warnings[0], "--from-snapshot FILE") {
		t.Errorf("Warnings = %q", res.Warnings)
	}
	if !slices.Equal(res.Incomplete, []string{"podsecuritypolicies: not served by this cluster (v1.25.0)"}) {
		t.Errorf("Incomplete = %q", res.Incomplete)
	}
}

func TestReadForbiddenKindIsIncomplete(t *testing.T) {
	api := smallCluster()
	api.status = map[string]int{"v1/pods": http.StatusForbidden}
	res, err := Read(context.Background(), api.start(t), Options{Namespace: "team"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Incomplete, []string{"v1 pods in namespace team: forbidden"}) {
		t.Errorf("Incomplete = %q", res.Incomplete)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `User "tester" cannot list`) {
		t.Errorf("Warnings = %q, want the server's reason", res.Warnings)
	}
	if slices.ContainsFunc(res.Documents, func(d manifest.Document) bool { return d.Kind == "Pod" }) {
		t.Error("read pods that were forbidden")
	}
}

// fastRetry keeps unit tests that exhaust the retries quick.
var fastRetry = Retry{Retries: 2, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}

func TestReadServerErrorFailsNamingTheResourceAndPage(t *testing.T) {
	api := smallCluster()
	api.status = map[string]int{"apps/v1/daemonsets": http.StatusInternalServerError}
	res, err := Read(context.Background(), api.start(t), Options{Retry: fastRetry})
	if err == nil || !strings.Contains(err.Error(), "reading apps/v1 daemonsets: page 1, after 3 attempts: ") {
		t.Errorf("got %v, want an error naming apps/v1 daemonsets, the page and the attempts", err)
	}
	if n := countRequests(api, "GET /apis/apps/v1/daemonsets"); n != 3 {
		t.Errorf("%d requests for daemonsets, want the first and 2 retries", n)
	}

	res, err = Read(context.Background(), api.start(t), Options{Retry: fastRetry, AllowIncomplete: true})
	if err != nil {
		t.Fatalf("with AllowIncomplete: %v", err)
	}
	if len(res.Incomplete) != 1 || !strings.HasPrefix(res.Incomplete[0], "apps/v1 daemonsets: page 1, after 3 attempts: ") ||
		!strings.HasSuffix(res.Incomplete[0], " (0 read)") {
		t.Errorf("Incomplete = %q", res.Incomplete)
	}
	if res.Retries != 2 || len(res.Documents) != 11 {
		t.Errorf("%d retries, %d documents; want 2 and the other kinds' 11", res.Retries, len(res.Documents))
	}
}

// TestReadPageThatContradictsItsCountIsIncomplete: a last page while the
// server's own count says more remain is asked for again, then named.
func TestReadPageThatContradictsItsCountIsIncomplete(t *testing.T) {
	api := smallCluster()
	var accounts []map[string]any
	for _, name := range strings.Fields("a b c d e f g") {
		accounts = append(accounts, object("team", name, nil))
	}
	api.served["v1/serviceaccounts"] = accounts
	api.dropContinue = map[string]bool{"v1/serviceaccounts": true}
	res, err := Read(context.Background(), api.start(t), Options{PageSize: 5, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"v1 serviceaccounts: page 1, after 3 attempts: the page has no continue token, yet the server says 2 more items remain (5 of 7 read)"}
	if !slices.Equal(res.Incomplete, want) {
		t.Errorf("Incomplete = %q, want %q", res.Incomplete, want)
	}
	var got []string
	for _, d := range res.Documents {
		if d.Kind == "ServiceAccount" {
			got = append(got, d.Name)
		}
	}
	if strings.Join(got, " ") != "a b c d e" {
		t.Errorf("service accounts %v: want the good page kept", got)
	}
}

func TestRetryWaits(t *testing.T) {
	r := Retry{Retries: 6, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	var got []time.Duration
	for n := range 6 {
		got = append(got, r.wait(n, errors.New("reset")))
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	busy := apierrors.NewTooManyRequests("busy", 3)
	if got := r.wait(0, busy); got != 3*time.Second {
		t.Errorf("after a 429 with Retry-After 3: wait %v, want the server's 3s", got)
	}
	if got := r.wait(0, apierrors.NewTooManyRequests("busy", 3600)); got != maxServerDelay {
		t.Errorf("after Retry-After 3600: wait %v, want the cap %v", got, maxServerDelay)
	}
}

func countRequests(api *fakeAPI, prefix string) int {
	n := 0
	for _, r := range api.requested() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func TestReadUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = Read(context.Background(), &rest.Config{Host: "http://" + addr}, Options{})
	if err == nil || !strings.Contains(err.Error(), "connecting to the cluster") || !strings.Contains(err.Error(), addr) {
		t.Errorf("got %v, want a connection error naming %s", err, addr)
	}
}

func TestReadPagesAndRestartsAnExpiredList(t *testing.T) {
	api := smallCluster()
	var accounts []map[string]any
	for _, name := range strings.Fields("a b c d e f g h i j k l") {
		accounts = append(accounts, object("team", name, nil))
	}
	api.served["v1/serviceaccounts"] = accounts
	api.expireOnce = map[string]bool{"v1/serviceaccounts": true}
	res, err := Read(context.Background(), api.start(t), Options{Namespace: "team", PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range res.Documents {
		if d.Kind == "ServiceAccount" {
			got = append(got, d.Name)
		}
	}
	if strings.Join(got, " ") != "a b c d e f g h i j k l" {
		t.Errorf("service accounts %v: want each once, in order", got)
	}
	var lists []string
	for _, r := range api.requested() {
		if strings.HasPrefix(r, "GET /api/v1/namespaces/team/serviceaccounts") {
			lists = append(lists, strings.TrimPrefix(r, "GET /api/v1/namespaces/team/serviceaccounts"))
		}
	}
	want := []string{"?limit=5", "?continue=5&limit=5", "?limit=5", "?continue=5&limit=5", "?continue=10&limit=5"}
	if !slices.Equal(lists, want) {
		t.Errorf("list requests %q, want a first page, the expired second page, then the list again, paged %q", lists, want)
	}
	if res.Restarts != 1 || res.Retries != 0 {
		t.Errorf("%d restarts, %d retries; want 1 and 0", res.Restarts, res.Retries)
	}
}

func TestReadKeepsServerWarningsOnce(t *testing.T) {
	api := smallCluster()
	msg := "policy/v1beta1 PodSecurityPolicy is deprecated in v1.21+, unavailable in v1.25+"
	api.warnings = map[string]string{"policy/v1beta1/podsecuritypolicies": msg}
	api.served["policy/v1beta1/podsecuritypolicies"] = []map[string]any{object("", "a", nil), object("", "b", nil)}
	res, err := Read(context.Background(), api.start(t), Options{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Warnings, []string{"the server warns: " + msg}) {
		t.Errorf("Warnings = %q", res.Warnings)
	}
}

func TestReadDrawsProgressAndClearsIt(t *testing.T) {
	var out bytes.Buffer
	if _, err := Read(context.Background(), smallCluster().start(t), Options{Progress: &out, Concurrency: 1}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.HasPrefix(s, "\rreading podsecuritypolicies 1/1 (0 of 15 kinds done)\x1b[K") || !strings.HasSuffix(s, "\r\x1b[K") || strings.Contains(s, "\n") {
		t.Errorf("progress output %q", s)
	}
}

// TestReaderRoleGrantsExactlyWhatReadLists keeps deploy/psp2psa-reader.yaml
// and the resources tables in step: get and list on every group/resource
// read (every Constraint kind: its group's "*"), nothing more (no
// secrets, no use, no writes).
func TestReaderRoleGrantsExactlyWhatReadLists(t *testing.T) {
	want := map[string]bool{constraintsGroup + "/*": true}
	for _, r := range append(resources[:len(resources):len(resources)], admissionPolicies...) {
		for _, gvr := range r.groupVersionResources() {
			want[gvr.Group+"/"+gvr.Resource] = true
		}
	}
	docs, errs := manifest.Read([]string{repoPath("deploy", "psp2psa-reader.yaml")}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := map[string]bool{}
	for _, d := range docs {
		if d.Kind != "ClusterRole" {
			continue
		}
		var role rbacv1.ClusterRole
		if err := json.Unmarshal(d.Raw, &role); err != nil {
			t.Fatal(err)
		}
		for _, rule := range role.Rules {
			if !slices.Equal(rule.Verbs, []string{"get", "list"}) || len(rule.ResourceNames) > 0 || len(rule.NonResourceURLs) > 0 {
				t.Errorf("rule %+v: want exactly get and list, on all names", rule)
			}
			for _, g := range rule.APIGroups {
				for _, r := range rule.Resources {
					got[g+"/"+r] = true
				}
			}
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("the reader role does not grant %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("the reader role grants %s, which Read does not list", k)
		}
	}
}

func TestReadCancelledFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, smallCluster().start(t), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
