package vap

import (
	"context"
	"github.com/psp2psa/psp2psa/internal/gapcases"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestUpdatesAndEphemeralContainers follows one pod through the updates a
// policy sees. The server refuses ephemeral containers on create, and the
// pods/ephemeralcontainers subresource, which 1.24 PSP never checked, is
// not matched; but an update that changes the spec is judged on the whole
// pod, ephemeral containers included, as PSP judged it. An update that
// leaves the spec alone (relabelling, garbage collection) is not judged.
func TestUpdatesAndEphemeralContainers(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	p := gapcases.PSPWith(testcluster.UniqueName("ephemeral"), func(s *psp.PodSecurityPolicySpec) {
		s.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1000, Max: 2000}}}
	})
	ns := srv.namespace(t, "ephemeral")
	srv.install(t, withCanary(Policy(p.Name, ForPolicy(p))), bindingIn(p.Name, ns, Enforce))
	srv.waitActive(t, ns, p.Name)
	pods := srv.admin.CoreV1().Pods(ns)

	pod := gapcases.CleanPod()
	gapcases.PodSecurity(pod).RunAsUser = new(int64(1000))
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a pod the PSP admits: %v", err)
	}

	rootDebugger := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Image: "registry.example/debug:1",
		SecurityContext: &corev1.SecurityContext{RunAsUser: new(int64(0))},
	}}
	created.Spec.EphemeralContainers = []corev1.EphemeralContainer{rootDebugger}
	withDebugger, err := pods.UpdateEphemeralContainers(ctx, created.Name, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("adding a root ephemeral container (the subresource is not matched): %v", err)
	}
	if adm := psp.Admit(p, withDebugger); adm.Admitted() {
		t.Fatal("the PSP admits the pod with a root ephemeral container; the test needs one it rejects")
	}

	relabelled := withDebugger.DeepCopy()
	relabelled.Labels = map[string]string{"team": "blue"}
	if _, err := pods.Update(ctx, relabelled, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("relabelling (spec unchanged) is denied: %v", err)
	}

	newImage := withDebugger.DeepCopy()
	newImage.Spec.Containers[0].Image = "registry.example/app:2"
	_, err = pods.Update(ctx, newImage, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
	want := message(p, "runAsUser", "")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("an image update of the pod with a root ephemeral container: got %v, want a denial naming %q", err, want)
	}

	clean := created.DeepCopy()
	clean.Spec.EphemeralContainers = nil
	clean.Name = "no-debugger"
	clean.ResourceVersion = ""
	clean, err = pods.Create(ctx, clean, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clean.Spec.Containers[0].Image = "registry.example/app:2"
	if _, err := pods.Update(ctx, clean, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("an image update of a pod the PSP admits is denied: %v", err)
	}
}
