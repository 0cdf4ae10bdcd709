package vap

import (
	"context"
	"fmt"
	"github.com/psp2psa/psp2psa/internal/gapcases"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/psp2psa/psp2psa/internal/testcluster"
)

func TestMain(m *testing.M) { os.Exit(testcluster.Main(m, "v1.37")) }

// server is the shared v1.37 apiserver with the objects every test needs.
type server struct {
	admin kubernetes.Interface
}

var (
	sharedServer     *server
	sharedServerErr  error
	sharedServerOnce sync.Once
)

// startServer returns the shared server, creating the RuntimeClasses the
// cases name on first use.
func startServer(t *testing.T) *server {
	t.Helper()
	cluster := testcluster.Get(t, "v1.37")
	sharedServerOnce.Do(func() {
		config := cluster.AdminConfig()
		// Warnings are read per request from the response; the default
		// handler would also log each one.
		config.WarningHandler = rest.NoWarnings{}
		config.QPS, config.Burst = 500, 1000
		admin, err := kubernetes.NewForConfig(config)
		if err != nil {
			sharedServerErr = err
			return
		}
		for _, name := range gapcases.RuntimeClasses {
			rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Handler: name}
			if _, err := admin.NodeV1().RuntimeClasses().Create(context.Background(), rc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				sharedServerErr = fmt.Errorf("creating RuntimeClass %s: %w", name, err)
				return
			}
		}
		sharedServer = &server{admin: admin}
	})
	if sharedServerErr != nil {
		t.Fatal(sharedServerErr)
	}
	return sharedServer
}

// namespace creates a fresh namespace with the default ServiceAccount,
// which the ServiceAccount admission plugin needs and no controller makes
// here.
func (s *server) namespace(t *testing.T, prefix string) string {
	t.Helper()
	ctx := context.Background()
	name := testcluster.UniqueName(prefix)
	if _, err := s.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := s.admin.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the default ServiceAccount in %s: %v", name, err)
	}
	return name
}

// install creates the policy and one binding per entry of bindings
// (binding name suffix → namespace and actions).
func (s *server) install(t *testing.T, policy *admissionregistrationv1.ValidatingAdmissionPolicy, bindings ...*admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.admin.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating policy %s: %v", policy.Name, err)
	}
	for _, b := range bindings {
		if _, err := s.admin.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating binding %s: %v", b.Name, err)
		}
	}
}

// bindingIn binds the PSP's policy to one namespace under its own name.
func bindingIn(pspName, ns string, actions []admissionregistrationv1.ValidationAction) *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
	b := Binding(pspName, []string{ns}, actions)
	b.Name = PolicyName(pspName) + "-" + strings.ToLower(string(actions[0]))
	return b
}

// verdict is the server's answer to one request.
type verdict struct {
	warnings []string
	err      error
}

func (s *server) dryRunCreate(ns string, pod *corev1.Pod) verdict {
	pod = pod.DeepCopy()
	pod.Namespace = ns
	res := s.admin.CoreV1().RESTClient().Post().
		Namespace(ns).Resource("pods").
		Param("dryRun", metav1.DryRunAll).
		Body(pod).Do(context.Background())
	return verdictOf(res)
}

func verdictOf(res rest.Result) verdict {
	v := verdict{err: res.Error()}
	for _, w := range res.Warnings() {
		v.warnings = append(v.warnings, w.Text)
	}
	return v
}

// policyWarnings keeps the warnings the PSP's policy gave.
func (v verdict) policyWarnings(pspName string) []string {
	var out []string
	for _, w := range v.warnings {
		if strings.Contains(w, "'"+PolicyName(pspName)+"'") {
			out = append(out, w)
		}
	}
	return out
}

// keys reads the validations the PSP's policy warned about.
func (v verdict) keys(t *testing.T, pspName string) []ruleKey {
	t.Helper()
	var keys []ruleKey
	for _, w := range v.policyWarnings(pspName) {
		k, ok := warningKey(w, pspName)
		if !ok {
			t.Errorf("unexpected warning %q", w)
			continue
		}
		keys = append(keys, k)
	}
	return sortedKeys(keys)
}

func sortedKeys(keys []ruleKey) []ruleKey {
	slices.Sort(keys)
	return slices.Compact(keys)
}

// canaryLabel marks the pod waitActive sends; withCanary adds to a policy
// under test a validation that fails for that pod only, so that the wait
// does not depend on the validations under test.
const canaryLabel = "psp2psa-canary"

func withCanary(policy *admissionregistrationv1.ValidatingAdmissionPolicy) *admissionregistrationv1.ValidatingAdmissionPolicy {
	policy.Spec.Validations = append(policy.Spec.Validations, admissionregistrationv1.Validation{
		Expression: "!('" + canaryLabel + "' in object.metadata.?labels.orValue({}))",
		Message:    "canary",
	})
	return policy
}

// waitActive dry-runs the canary pod until the policy answers for it: the
// admission plugin picks up new policies and bindings asynchronously.
func (s *server) waitActive(t *testing.T, ns, pspName string) {
	t.Helper()
	canary := gapcases.CleanPod()
	canary.Labels = map[string]string{canaryLabel: "true"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := s.dryRunCreate(ns, canary)
		if len(v.policyWarnings(pspName)) > 0 || (v.err != nil && strings.Contains(v.err.Error(), PolicyName(pspName))) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("policy %s did not take effect in %s within 30s (last answer: %+v)", PolicyName(pspName), ns, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
