package psp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	"github.com/psp2psa/psp2psa/manifest"
)

// sharedPath locates a file of the shared directory that sits beside the
// repository; tests skip without it unless CI is set.
func sharedPath(t *testing.T, elem ...string) string {
	t.Helper()
	path := filepath.Join(append([]string{"..", "..", "shared"}, elem...)...)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: %v", path, err)
		}
		t.Skipf("%s not found; the shared directory lives beside the repository", path)
	}
	return path
}

func TestAdmitSeedRestrictedPSP(t *testing.T) {
	raw, err := os.ReadFile(sharedPath(t, "seed-restricted-psp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var policy PodSecurityPolicy
	if err := yaml.Unmarshal(raw, &policy); err != nil {
		t.Fatalf("decode seed PSP: %v", err)
	}

	// The seven defaults the restricted PSP writes into a plain pod.
	withDefaults := func(p *corev1.Pod) {
		p.Annotations = map[string]string{
			SeccompPodAnnotation:                      "runtime/default",
			AppArmorContainerAnnotationPrefix + "app": "runtime/default",
		}
		p.Spec.SecurityContext = &corev1.PodSecurityContext{SupplementalGroups: []int64{1}, FSGroup: new(int64(1))}
		p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			AllowPrivilegeEscalation: new(false),
			RunAsNonRoot:             new(true),
		}
	}

	tests := []struct {
		name        string
		pod         func(*corev1.Pod)
		wantMutated bool
	}{
		{name: "plain nginx pod gets the seven defaults", pod: func(*corev1.Pod) {}, wantMutated: true},
		{name: "a pod that already carries the defaults is admitted unchanged", pod: withDefaults, wantMutated: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := plainPod()
			tc.pod(pod)
			got := Admit(&policy, pod)
			if !got.Admitted() {
				t.Fatalf("not admitted: %v", got.Errors)
			}
			if got.Mutated != tc.wantMutated {
				t.Errorf("Mutated = %v, want %v", got.Mutated, tc.wantMutated)
			}
			want := plainPod()
			withDefaults(want)
			want.Annotations[ValidatedPSPAnnotation] = "restricted"
			if !reflect.DeepEqual(got.Pod, want) {
				t.Errorf("admitted pod:\n%s", yamlDiff(want, got.Pod))
			}
		})
	}
}

// TestAdmitCorpusIsAFixedPoint runs every corpus PSP over every corpus
// workload's pod template. An admitted pod must come back unchanged when
// admitted again: the 1.24 plugin relied on that when it re-validated the
// stored pod without allowing mutation.
func TestAdmitCorpusIsAFixedPoint(t *testing.T) {
	policies := corpusPolicies(t)
	pods := corpusPods(t)
	if len(policies) == 0 || len(pods) == 0 {
		t.Fatalf("corpus yielded %d PSPs and %d pod templates", len(policies), len(pods))
	}
	admitted, mutated := 0, 0
	for _, policy := range policies {
		for _, pod := range pods {
			input := pod.DeepCopy()
			first := Admit(policy, pod)
			if !reflect.DeepEqual(input, pod) {
				t.Fatalf("%s on %s: Admit modified its input", policy.Name, pod.Name)
			}
			if !first.Admitted() {
				continue
			}
			admitted++
			if first.Mutated {
				mutated++
			}
			again := Admit(policy, first.Pod)
			if !again.Admitted() || again.Mutated || !apiequality.Semantic.DeepEqual(again.Pod, first.Pod) {
				t.Errorf("%s on %s: admitting the admitted pod again gives Mutated=%v errors=%v\n%s",
					policy.Name, pod.Name, again.Mutated, again.Errors, yamlDiff(first.Pod, again.Pod))
			}
		}
	}
	t.Logf("%d PSPs × %d pod templates: %d admitted, %d of them mutated", len(policies), len(pods), admitted, mutated)
}

// corpusPolicies decodes every PodSecurityPolicy of the corpus.
func corpusPolicies(t *testing.T) []*PodSecurityPolicy {
	t.Helper()
	var policies []*PodSecurityPolicy
	for _, doc := range readCorpus(t, "psp") {
		if doc.Kind != Kind {
			continue
		}
		var p PodSecurityPolicy
		if err := json.Unmarshal(doc.Raw, &p); err != nil {
			t.Fatalf("%s: %v", doc.Source, err)
		}
		policies = append(policies, &p)
	}
	return policies
}

// corpusPods returns the pod of every bare Pod and the pod template of
// every controller in the corpus, named after its object.
func corpusPods(t *testing.T) []*corev1.Pod {
	t.Helper()
	var pods []*corev1.Pod
	for _, doc := range readCorpus(t, "workloads") {
		var obj struct {
			Spec struct {
				corev1.PodSpec
				Template    *corev1.PodTemplateSpec `json:"template"`
				JobTemplate *struct {
					Spec struct {
						Template corev1.PodTemplateSpec `json:"template"`
					} `json:"spec"`
				} `json:"jobTemplate"`
			} `json:"spec"`
		}
		pod := &corev1.Pod{}
		switch doc.Kind {
		case "Pod":
			if err := json.Unmarshal(doc.Raw, pod); err != nil {
				t.Fatalf("%s: %v", doc.Source, err)
			}
		case "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob":
			if err := json.Unmarshal(doc.Raw, &obj); err != nil {
				t.Fatalf("%s: %v", doc.Source, err)
			}
			template := obj.Spec.Template
			if obj.Spec.JobTemplate != nil {
				template = &obj.Spec.JobTemplate.Spec.Template
			}
			if template == nil {
				t.Fatalf("%s: %s without a pod template", doc.Source, doc.Kind)
			}
			pod.ObjectMeta, pod.Spec = template.ObjectMeta, template.Spec
		default:
			continue
		}
		pod.Name, pod.Namespace = doc.Object(), doc.Namespace
		pods = append(pods, pod)
	}
	return pods
}

func readCorpus(t *testing.T, sub string) []manifest.Document {
	t.Helper()
	docs, errs := manifest.Read([]string{sharedPath(t, "corpus", sub)}, nil)
	for _, err := range errs {
		t.Logf("corpus: %v", err)
	}
	return docs
}
