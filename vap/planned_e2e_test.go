package vap_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/plantest"

	"github.com/psp2psa/psp2psa/artifacts"
	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// TestPlannedPoliciesAdmitPatchedWorkloads applies what
// artifacts.AdmissionPolicies writes, with Deny, for the demo plan and for
// the corpus plan of fluentd-gcp and flannel, to a real v1.37 apiserver:
// every document is accepted, and in every bound namespace each workload's
// patched template is admitted without a warning, while a template the
// PSP filled values into is rejected as written.
func TestPlannedPoliciesAdmitPatchedWorkloads(t *testing.T) {
	cluster := testcluster.Get(t, "v1.37")
	config := cluster.AdminConfig()
	config.WarningHandler = rest.NoWarnings{}
	admin, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		paths []string
	}{
		{"demo", []string{"../testdata/demo"}},
		{"corpus fluentd-gcp and flannel", []string{
			corpusFile(t, "kubernetes__kubernetes__cluster_addons_fluentd-gcp_podsecuritypolicies_fluentd-gcp-psp.yaml"),
			corpusFile(t, "flannel-io__flannel__documentation_kube-flannel-psp.yml"),
			"../testdata/vap/corpus-workloads.yaml",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, policies := planOf(t, tc.paths)
			out, err := artifacts.AdmissionPolicies(p, policies, true)
			if err != nil {
				t.Fatal(err)
			}
			bound := apply(t, admin, out)
			if len(bound) == 0 {
				t.Fatal("no namespace bound")
			}
			rejectedAsWritten := 0
			for i := range p.Workloads {
				w := &p.Workloads[i]
				policy, ok := bound[w.Namespace]
				if !ok || w.OwnedBy != "" || w.Rejected() {
					continue
				}
				prepareNamespace(t, admin, w.Namespace, w.ServiceAccount)
				patched := podOf(w, w.PatchedTemplate())
				waitBound(t, admin, patched, policy)
				res := dryRun(admin, patched)
				if res.Error() != nil {
					t.Errorf("%s: the patched template is rejected: %v", w.Ref(), res.Error())
				}
				for _, warning := range res.Warnings() {
					if strings.Contains(warning.Text, "psp2psa-") {
						t.Errorf("%s: the patched template gets a warning: %s", w.Ref(), warning.Text)
					}
				}
				if err := dryRun(admin, podOf(w, w.Template())).Error(); err != nil {
					if !w.Mutated || !strings.Contains(err.Error(), "'"+policy+"'") {
						t.Errorf("%s: rejected as written, though %s did not fill anything in: %v", w.Ref(), w.AdmittedBy, err)
					}
					rejectedAsWritten++
				}
			}
			t.Logf("bound namespaces %v; %d workloads rejected as written, for want of what their PSP filled in", bound, rejectedAsWritten)
		})
	}
}

func corpusFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join("..", "..", "shared", "corpus", "psp", name)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: %v", path, err)
		}
		t.Skipf("%s not found; the shared corpus lives beside the repository", path)
	}
	return path
}

func planOf(t *testing.T, paths []string) (*plan.Plan, []psp.Policy) {
	t.Helper()
	p := plantest.Build(t, pss.Restricted, paths...)
	return p.Plan, p.Policies
}

// apply creates every document of the stream and returns the policy bound
// to each namespace.
func apply(t *testing.T, admin kubernetes.Interface, stream []byte) map[string]string {
	t.Helper()
	ctx := context.Background()
	bound := map[string]string{}
	for _, doc := range strings.Split(string(stream), "\n---\n") {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "ValidatingAdmissionPolicy":
			var policy admissionregistrationv1.ValidatingAdmissionPolicy
			if err := yaml.UnmarshalStrict([]byte(doc), &policy); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, &policy, metav1.CreateOptions{}); err != nil {
				t.Fatalf("the server refuses policy %s: %v", policy.Name, err)
			}
		case "ValidatingAdmissionPolicyBinding":
			var binding admissionregistrationv1.ValidatingAdmissionPolicyBinding
			if err := yaml.UnmarshalStrict([]byte(doc), &binding); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, &binding, metav1.CreateOptions{}); err != nil {
				t.Fatalf("the server refuses binding %s: %v", binding.Name, err)
			}
			for _, ns := range binding.Spec.MatchResources.NamespaceSelector.MatchExpressions[0].Values {
				bound[ns] = binding.Spec.PolicyName
			}
		default:
			t.Fatalf("unexpected document:\n%s", doc)
		}
	}
	return bound
}

// prepareNamespace creates the namespace and the service accounts its pods
// need, which no controller makes here.
func prepareNamespace(t *testing.T, admin kubernetes.Interface, ns string, accounts ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, sa := range slices.Compact(append([]string{"default"}, accounts...)) {
		obj := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}
		if _, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

// podOf is the pod a controller makes from the template. A mount without
// a volume names a StatefulSet's volume claim template, which the
// controller turns into a persistentVolumeClaim volume.
func podOf(w *plan.Workload, template *corev1.PodTemplateSpec) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: strings.ToLower(w.Kind + "-" + w.Name), Namespace: w.Namespace, Labels: template.Labels, Annotations: template.Annotations},
		Spec:       *template.Spec.DeepCopy(),
	}
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		for _, m := range c.VolumeMounts {
			if !slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name }) {
				pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: m.Name, VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: m.Name + "-" + w.Name + "-0"},
				}})
			}
		}
	}
	return pod
}

func dryRun(admin kubernetes.Interface, pod *corev1.Pod) rest.Result {
	return admin.CoreV1().RESTClient().Post().
		Namespace(pod.Namespace).Resource("pods").
		Param("dryRun", metav1.DryRunAll).
		Body(pod).Do(context.Background())
}

// waitBound dry-runs a copy of the pod with a hostPath volume at
// /psp2psa-probe, which no PSP of these plans allows, until the policy
// rejects it: policies and bindings take effect asynchronously.
func waitBound(t *testing.T, admin kubernetes.Interface, pod *corev1.Pod, policy string) {
	t.Helper()
	probe := pod.DeepCopy()
	probe.Spec.Volumes = append(probe.Spec.Volumes, corev1.Volume{
		Name:         "psp2psa-probe",
		VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/psp2psa-probe"}},
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := dryRun(admin, probe).Error()
		if err != nil && strings.Contains(err.Error(), "'"+policy+"'") {
			return
		}
		if apierrors.IsInvalid(err) {
			t.Fatalf("the server refuses the pod: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("policy %s does not reject a pod with a hostPath volume in %s within 30s (last answer: %v)", policy, pod.Namespace, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
