package convert

import (
	"slices"
	"testing"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/pod-security-admission/api"
)

// checkAgainstAdmission ties every rule's analysis of p to the 1.24
// admission simulation, psp.Admit:
//   - each witness, on a clean pod that also carries what the other fields
//     require, is admitted, and the pod admission returns (after the PSP's
//     defaults) still fails every check the witness is charged with: each
//     finding is backed by a pod the PSP really admits; a witness the
//     PSP's defaults make is sent as written, and admission must make it;
//   - each restriction is rejected, or admission overrides it: each gap is
//     something the PSP really enforces;
//   - a PSP said to admit nothing rejects the clean pod.
func checkAgainstAdmission(t *testing.T, p *psp.PodSecurityPolicy, version api.Version) {
	t.Helper()
	fields := analyzeAll(p)
	if slices.ContainsFunc(fields, func(f fieldAnalysis) bool { return f.admitsNothing }) {
		if adm := psp.Admit(p, requiredPod(fields, -1)); adm.Admitted() {
			t.Errorf("%s: said to admit no pod, but admits the clean pod", p.Name)
		}
		return
	}
	if adm := psp.Admit(p, requiredPod(fields, -1)); !adm.Admitted() {
		t.Errorf("%s: rejects the clean pod with every field's required values: %v", p.Name, adm.Errors)
	}
	for i, f := range fields {
		for _, c := range append(slices.Clone(f.witnesses), f.restrictions...) {
			checkRestrictedImpliesBaseline(t, c, version)
		}
		for _, w := range f.witnesses {
			pod := requiredPod(fields, i)
			if w.written != nil {
				w.written(pod)
			} else {
				w.apply(pod)
			}
			adm := psp.Admit(p, pod)
			if !adm.Admitted() {
				t.Errorf("%s: %s witness %q is rejected: %v", p.Name, f.field, w.name, adm.Errors)
				continue
			}
			if w.written != nil {
				checkDefaultsMake(t, p.Name+": "+f.field, w, adm.Pod)
			}
			charged, got := judge(w, version), judgePod(adm.Pod, pod, version)
			if !subset(charged.baseline, got.baseline) || !subset(charged.restricted, got.restricted) {
				t.Errorf("%s: %s witness %q is charged with %v but the admitted pod fails only %v", p.Name, f.field, w.name, charged, got)
			}
		}
		for _, r := range f.restrictions {
			pod := requiredPod(fields, i)
			r.apply(pod)
			adm := psp.Admit(p, pod)
			if !adm.Admitted() {
				continue
			}
			again := adm.Pod.DeepCopy()
			r.apply(again)
			if equality.Semantic.DeepEqual(again, adm.Pod) {
				t.Errorf("%s: %s restriction %q is admitted unchanged", p.Name, f.field, r.name)
			}
		}
	}
}

// checkRestrictedImpliesBaseline backs judgePod's shortcut: a pod that
// passes restricted is not evaluated at baseline.
func checkRestrictedImpliesBaseline(t *testing.T, c podChange, version api.Version) {
	t.Helper()
	pod := cleanPod()
	c.apply(pod)
	written := c.writtenPod()
	restricted := governableFailures(pod, written, api.LevelRestricted, version)
	baseline := governableFailures(pod, written, api.LevelBaseline, version)
	if len(restricted) == 0 && len(baseline) > 0 {
		t.Errorf("%s at %s: passes restricted but fails baseline %v", c.name, version, baseline)
	}
}

// checkDefaultsMake backs a witness the PSP's defaults make: admission
// of the pod as written already holds the change.
func checkDefaultsMake(t *testing.T, what string, w podChange, admitted *corev1.Pod) {
	t.Helper()
	again := admitted.DeepCopy()
	w.apply(again)
	if !equality.Semantic.DeepEqual(again, admitted) {
		t.Errorf("%s witness %q: admission does not make the change; admitted %v", what, w.name, admitted.Spec)
	}
}

// requiredPod is the clean pod with the required witness of every field
// but the one at index skip.
func requiredPod(fields []fieldAnalysis, skip int) *corev1.Pod {
	pod := cleanPod()
	for i, f := range fields {
		for _, w := range f.witnesses {
			if w.required && i != skip {
				w.apply(pod)
			}
		}
	}
	return pod
}

func subset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}
