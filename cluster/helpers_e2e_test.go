package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
)

// Identity of the kubeconfig's limited user (internal/testcluster).
const (
	limitedUser  = "psp2psa-limited"
	limitedGroup = "psp2psa:limited"
)

func TestMain(m *testing.M) {
	os.Exit(testcluster.Main(m, "v1.24", "v1.37"))
}

// admin is a cluster-admin's clients; the PSP API's deprecation warning is
// expected and silenced.
type admin struct {
	cs  kubernetes.Interface
	dyn dynamic.Interface
	cfg *rest.Config
}

func newAdmin(t *testing.T, c *testcluster.Cluster) *admin {
	t.Helper()
	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{}
	return &admin{cs: kubernetes.NewForConfigOrDie(cfg), dyn: dynamic.NewForConfigOrDie(cfg), cfg: cfg}
}

// namespace creates a fresh namespace with the service accounts named (no
// controller-manager creates "default" here).
func (a *admin) namespace(t *testing.T, accounts ...*corev1.ServiceAccount) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testcluster.UniqueName("read")}}
	if _, err := a.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	for _, sa := range accounts {
		if _, err := a.cs.CoreV1().ServiceAccounts(ns.Name).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create service account %s/%s: %v", ns.Name, sa.Name, err)
		}
	}
	return ns.Name
}

func (a *admin) clusterRole(t *testing.T, name string, rules ...rbacv1.PolicyRule) string {
	t.Helper()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	if _, err := a.cs.RbacV1().ClusterRoles().Create(context.Background(), role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRole %s: %v", name, err)
	}
	return name
}

func (a *admin) roleBinding(t *testing.T, ns, clusterRole string, subjects ...rbacv1.Subject) {
	t.Helper()
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: clusterRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   subjects,
	}
	if _, err := a.cs.RbacV1().RoleBindings(ns).Create(context.Background(), rb, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create RoleBinding %s/%s: %v", ns, clusterRole, err)
	}
}

func (a *admin) clusterRoleBinding(t *testing.T, clusterRole string, subjects ...rbacv1.Subject) {
	t.Helper()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: testcluster.UniqueName(clusterRole)},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   subjects,
	}
	if _, err := a.cs.RbacV1().ClusterRoleBindings().Create(context.Background(), crb, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRoleBinding for %s: %v", clusterRole, err)
	}
}

// apply creates the documents as they are, leaving alone any that exist.
func (a *admin) apply(t *testing.T, docs []manifest.Document) {
	t.Helper()
	for _, d := range docs {
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(d.Raw); err != nil {
			t.Fatalf("%s: %v", d.Source, err)
		}
		gvk := obj.GroupVersionKind()
		gvr := gvk.GroupVersion().WithResource(map[string]string{
			"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
			"ValidatingAdmissionPolicy": "validatingadmissionpolicies",
		}[gvk.Kind])
		_, err := a.dyn.Resource(gvr).Create(context.Background(), obj, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %s: %v", d.Object(), err)
		}
	}
}

// waitAllowed polls until RBAC, which reads bindings through an informer,
// lets the user do what attrs say.
func (a *admin) waitAllowed(t *testing.T, user string, groups []string, attrs authorizationv1.ResourceAttributes) {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: append(groups, "system:authenticated"), ResourceAttributes: &attrs,
	}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		review, err := a.cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
		if err == nil && review.Status.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never allowed %+v: err=%v", user, attrs, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// repoPath is a path relative to the repository root, from this package.
func repoPath(elem ...string) string {
	return filepath.Join(append([]string{".."}, elem...)...)
}

// corpusPath locates the shared corpus beside the repository; tests skip
// without it unless CI is set.
func corpusPath(t *testing.T, elem ...string) string {
	t.Helper()
	path := filepath.Join(append([]string{"..", "..", "shared", "corpus"}, elem...)...)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: %v", path, err)
		}
		t.Skipf("%s not found; the shared corpus lives beside the repository", path)
	}
	return path
}

// readFile reads manifests the way the CLI does and fails on any problem.
func readFile(t *testing.T, path string) []manifest.Document {
	t.Helper()
	docs, errs := manifest.Read([]string{path}, nil)
	if len(errs) > 0 {
		t.Fatalf("reading %s: %v", path, errs)
	}
	return docs
}

// planOf builds the plan the CLI's plan command builds from documents, and
// fails on any input problem: what a cluster returns must always decode.
func planOf(t *testing.T, docs []manifest.Document) *plan.Plan {
	t.Helper()
	load := psp.FromDocuments(docs)
	inv, errs := inventory.FromDocuments(docs, "")
	if problems := append(load.Errors, errs...); len(problems) > 0 {
		t.Fatalf("the cluster's objects do not decode: %v", problems)
	}
	return plan.Build(plan.Input{Policies: load.Policies, Inventory: inv}, plan.Options{
		Version:             pss.NewestVersion(),
		EmptyNamespaceLevel: pss.Baseline,
		ControllerIdentity:  "serviceaccounts",
	})
}

// planJSON is the plan as JSON without any "source": where an object was
// read is the one thing a snapshot changes on purpose.
func planJSON(t *testing.T, p *plan.Plan) string {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", " ")
	if err := enc.Encode(dropKey(v, "source")); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func dropKey(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, key)
		for k, x := range v {
			v[k] = dropKey(x, key)
		}
	case []any:
		for i, x := range v {
			v[i] = dropKey(x, key)
		}
	}
	return v
}

// objectKeys are the documents' "apiVersion Kind namespace/name", in order.
func objectKeys(docs []manifest.Document) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.APIVersion + " " + d.Object()
	}
	return out
}

// requestLog records the path and query of every request a client makes.
type requestLog struct {
	mu   sync.Mutex
	urls []string
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.urls = append(l.urls, req.URL.RequestURI())
		l.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

func (l *requestLog) matching(prefix string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, u := range l.urls {
		if strings.HasPrefix(u, prefix) {
			out = append(out, u)
		}
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
