package psp

import (
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// TestMutatedMatchesWholePodComparison: mutated compares only what
// MutatePod writes; on every corpus PSP and pod it must agree with the
// plugin's comparison of the whole pod.
func TestMutatedMatchesWholePodComparison(t *testing.T) {
	policies, pods := corpusPolicies(t), corpusPods(t)
	mutations := 0
	for _, p := range policies {
		for _, pod := range pods {
			a := Admit(p, pod)
			whole := a.Pod.DeepCopy()
			if whole.Annotations[ValidatedPSPAnnotation] != "" && pod.Annotations[ValidatedPSPAnnotation] == "" {
				delete(whole.Annotations, ValidatedPSPAnnotation)
				if len(whole.Annotations) == 0 && pod.Annotations == nil {
					whole.Annotations = nil
				}
			}
			want := !apiequality.Semantic.DeepEqual(pod, whole)
			if a.Mutated != want {
				t.Errorf("PSP %s, pod %s: Mutated = %v, whole-pod comparison says %v", p.Name, pod.Name, a.Mutated, want)
			}
			if want {
				mutations++
			}
		}
	}
	if mutations == 0 {
		t.Fatal("no corpus PSP mutated any corpus pod: the comparison was never exercised")
	}
	t.Logf("%d PSPs × %d pods, %d mutated", len(policies), len(pods), mutations)
}
