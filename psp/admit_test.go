package psp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// permissivePSP is 1.24 provider_test.go's defaultPSP: every strategy
// RunAsAny, privilege escalation allowed, nothing else allowed.
func permissivePSP() *PodSecurityPolicy {
	return &PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "psp-sa", Annotations: map[string]string{}},
		Spec: PodSecurityPolicySpec{
			RunAsUser:                RunAsUserStrategyOptions{Rule: RunAsUserStrategyRunAsAny},
			RunAsGroup:               &RunAsGroupStrategyOptions{Rule: RunAsGroupStrategyRunAsAny},
			SELinux:                  SELinuxStrategyOptions{Rule: SELinuxStrategyRunAsAny},
			FSGroup:                  FSGroupStrategyOptions{Rule: FSGroupStrategyRunAsAny},
			SupplementalGroups:       SupplementalGroupsStrategyOptions{Rule: SupplementalGroupsStrategyRunAsAny},
			AllowPrivilegeEscalation: new(true),
		},
	}
}

// plainPod has one container named "app" and no security settings at all.
func plainPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pod", Namespace: "ns"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "nginx"}},
		},
	}
}

// admitCase is one PSP and one pod: what the PSP should write into the
// pod, and the errors it should report ("path: type: detail").
type admitCase struct {
	name     string
	psp      func(*PodSecurityPolicy) // applied to permissivePSP(); nil = as is
	pod      func(*corev1.Pod)        // applied to plainPod(); nil = as is
	defaults func(*corev1.Pod)        // the PSP's defaults, applied to the pod; nil = none
	errors   []string
	// invalidPolicy and invalidPod hold the message with which the 1.24
	// server refuses the PSP (policy validation) or the pod (core
	// validation, whatever the PSP), for the differential test.
	invalidPolicy, invalidPod string
}

// containerKinds are the fields a pod's containers can sit in.
var containerKinds = []string{"containers", "initContainers", "ephemeralContainers"}

// build returns the case's PSP and pod, the pod as the PSP should leave it
// (without the kubernetes.io/psp annotation), and the expected errors, all
// with the pod's containers moved to the given kind.
func (tc admitCase) build(kind string) (policy *PodSecurityPolicy, pod, want *corev1.Pod, wantErrors []string) {
	policy = permissivePSP()
	if tc.psp != nil {
		tc.psp(policy)
	}
	pod = plainPod()
	if tc.pod != nil {
		tc.pod(pod)
	}
	want = pod.DeepCopy()
	if tc.defaults != nil {
		tc.defaults(want)
	}
	return policy, moveContainers(pod, kind), moveContainers(want, kind), renameContainerPaths(tc.errors, kind)
}

// runAdmitCases runs each case three times: with the pod's containers as
// regular, init and ephemeral containers, since 1.24 treated them alike.
func runAdmitCases(t *testing.T, cases []admitCase) {
	t.Helper()
	for _, tc := range cases {
		for _, kind := range containerKinds {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				runAdmitCase(t, tc, kind)
			})
		}
	}
}

func runAdmitCase(t *testing.T, tc admitCase, kind string) {
	t.Helper()
	policy, pod, want, wantErrors := tc.build(kind)
	input, inputPolicy := pod.DeepCopy(), copyPSP(t, policy)
	got := Admit(policy, pod)
	if !reflect.DeepEqual(inputPolicy, copyPSP(t, policy)) {
		t.Errorf("Admit modified the PSP")
	}

	if !reflect.DeepEqual(input, pod) {
		t.Errorf("Admit modified its input pod:\n%s", yamlDiff(input, pod))
	}
	if gotErrors := describeErrors(got.Errors); !slices.Equal(gotErrors, wantErrors) {
		t.Errorf("errors:\n got %q\nwant %q", gotErrors, wantErrors)
	}
	wantMutated := !apiequality.Semantic.DeepEqual(pod, want)
	if got.Mutated != wantMutated {
		t.Errorf("Mutated = %v, want %v", got.Mutated, wantMutated)
	}
	if len(wantErrors) == 0 {
		metav1.SetMetaDataAnnotation(&want.ObjectMeta, ValidatedPSPAnnotation, policy.Name)
	}
	if !apiequality.Semantic.DeepEqual(got.Pod, want) {
		t.Errorf("admitted pod differs from the expected defaults:\n%s", yamlDiff(want, got.Pod))
	}
}

// moveContainers moves a pod's regular containers to the given kind, the
// way 1.24's moveContainersToEphemeral did.
func moveContainers(pod *corev1.Pod, kind string) *corev1.Pod {
	out := pod.DeepCopy()
	switch kind {
	case "initContainers":
		out.Spec.InitContainers, out.Spec.Containers = out.Spec.Containers, nil
	case "ephemeralContainers":
		for _, c := range out.Spec.Containers {
			out.Spec.EphemeralContainers = append(out.Spec.EphemeralContainers,
				corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon(c)})
		}
		out.Spec.Containers = nil
	}
	return out
}

func renameContainerPaths(errors []string, kind string) []string {
	var out []string
	for _, e := range errors {
		out = append(out, strings.ReplaceAll(e, "spec.containers[", "spec."+kind+"["))
	}
	return out
}

// describeErrors renders errors as "path: type: detail", leaving out the
// value, whose formatting is apimachinery's business.
func describeErrors(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s: %s: %s", e.Field, e.Type, e.Detail))
	}
	return out
}

func yamlDiff(want, got any) string {
	w, _ := yaml.Marshal(want)
	g, _ := yaml.Marshal(got)
	return "want:\n" + string(w) + "got:\n" + string(g)
}

// copyPSP deep-copies a PSP through JSON. (PodSecurityPolicy has no
// DeepCopy of its own: p.DeepCopy() is ObjectMeta's.)
func copyPSP(t *testing.T, p *PodSecurityPolicy) *PodSecurityPolicy {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var out PodSecurityPolicy
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// Helpers that set one security field on the first container or the pod.
func containerSC(pod *corev1.Pod) *corev1.SecurityContext {
	return containerSecurityContext(&pod.Spec.Containers[0])
}

func podSC(pod *corev1.Pod) *corev1.PodSecurityContext {
	return podSecurityContext(pod)
}

func TestAdmitLeavesPodAndPolicyAlone(t *testing.T) {
	// 1.24 TestMutatePodNonmutating and TestMutateContainerNonmutating: a
	// permissive PSP writes nothing, not even empty security contexts.
	for _, sc := range []*corev1.SecurityContext{nil, {RunAsNonRoot: new(false)}} {
		pod := plainPod()
		pod.Spec.Containers[0].SecurityContext = sc
		pod.Spec.SecurityContext = nil
		policy := permissivePSP()
		policy.Annotations[SeccompAllowedProfilesAnnotation] = "*"
		pod = moveContainers(pod, "containers")
		pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", SecurityContext: sc.DeepCopy()}}}
		wantPolicy := copyPSP(t, policy)

		got := Admit(policy, pod)
		if got.Mutated || !got.Admitted() {
			t.Errorf("securityContext %v: Mutated = %v, errors %v; want unmutated and admitted", sc, got.Mutated, got.Errors)
		}
		want := pod.DeepCopy()
		want.Annotations = map[string]string{ValidatedPSPAnnotation: "psp-sa"}
		if !reflect.DeepEqual(got.Pod, want) {
			t.Errorf("pod changed beyond the psp annotation:\n%s", yamlDiff(want, got.Pod))
		}
		if !reflect.DeepEqual(policy, wantPolicy) {
			t.Errorf("Admit modified the PSP")
		}
	}
}

func TestAdmitAnnotation(t *testing.T) {
	tests := []struct {
		name           string
		pod            func(*corev1.Pod)
		psp            func(*PodSecurityPolicy)
		wantAnnotation string // "" = absent
		wantMutated    bool
	}{
		{
			name:           "admitted pod is annotated with the PSP's name",
			wantAnnotation: "psp-sa",
		},
		{
			name:           "a stale psp annotation is replaced and is no mutation",
			pod:            func(p *corev1.Pod) { p.Annotations = map[string]string{ValidatedPSPAnnotation: "other"} },
			wantAnnotation: "psp-sa",
		},
		{
			name: "rejected pod is not annotated",
			pod:  func(p *corev1.Pod) { p.Spec.HostNetwork = true },
		},
		{
			name:           "mutated and admitted pod is annotated",
			psp:            func(p *PodSecurityPolicy) { p.Spec.ReadOnlyRootFilesystem = true },
			wantAnnotation: "psp-sa",
			wantMutated:    true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			policy, pod := permissivePSP(), plainPod()
			if tc.psp != nil {
				tc.psp(policy)
			}
			if tc.pod != nil {
				tc.pod(pod)
			}
			got := Admit(policy, pod)
			annotation, ok := got.Pod.Annotations[ValidatedPSPAnnotation]
			if annotation != tc.wantAnnotation || ok != (tc.wantAnnotation != "") {
				t.Errorf("annotation = %q (present %v), want %q", annotation, ok, tc.wantAnnotation)
			}
			if got.Mutated != tc.wantMutated {
				t.Errorf("Mutated = %v, want %v", got.Mutated, tc.wantMutated)
			}
		})
	}
}

func TestAdmitUnbuildablePolicy(t *testing.T) {
	// 1.24 skipped a PSP whose strategies its factory could not build.
	tests := []struct {
		name   string
		psp    func(*PodSecurityPolicy)
		errors []string
	}{
		{
			name:   "unknown runAsUser rule",
			psp:    func(p *PodSecurityPolicy) { p.Spec.RunAsUser.Rule = "MustRunAsRange" },
			errors: []string{"podSecurityPolicy.spec.runAsUser: Invalid value: Unrecognized RunAsUser strategy type MustRunAsRange"},
		},
		{
			name:   "runAsUser MustRunAs without ranges",
			psp:    func(p *PodSecurityPolicy) { p.Spec.RunAsUser.Rule = RunAsUserStrategyMustRunAs },
			errors: []string{"podSecurityPolicy.spec.runAsUser: Invalid value: MustRunAs requires at least one range"},
		},
		{
			name:   "unknown runAsGroup rule",
			psp:    func(p *PodSecurityPolicy) { p.Spec.RunAsGroup.Rule = "Any" },
			errors: []string{"podSecurityPolicy.spec.runAsGroup: Invalid value: Unrecognized RunAsGroup strategy type Any"},
		},
		{
			name:   "seLinux MustRunAs without options",
			psp:    func(p *PodSecurityPolicy) { p.Spec.SELinux.Rule = SELinuxStrategyMustRunAs },
			errors: []string{"podSecurityPolicy.spec.seLinux: Invalid value: MustRunAs requires SELinuxOptions"},
		},
		{
			name: "missing seLinux, fsGroup and supplementalGroups rules",
			psp: func(p *PodSecurityPolicy) {
				p.Spec.SELinux.Rule, p.Spec.FSGroup.Rule, p.Spec.SupplementalGroups.Rule = "", "", ""
			},
			errors: []string{
				"podSecurityPolicy.spec.seLinux: Invalid value: Unrecognized SELinuxContext strategy type ",
				"podSecurityPolicy.spec.fsGroup: Invalid value: Unrecognized FSGroup strategy type ",
				"podSecurityPolicy.spec.supplementalGroups: Invalid value: Unrecognized SupplementalGroups strategy type ",
			},
		},
		{
			name: "fsGroup MayRunAs and supplementalGroups MustRunAs without ranges",
			psp: func(p *PodSecurityPolicy) {
				p.Spec.FSGroup.Rule = FSGroupStrategyMayRunAs
				p.Spec.SupplementalGroups.Rule = SupplementalGroupsStrategyMustRunAs
			},
			errors: []string{
				"podSecurityPolicy.spec.fsGroup: Invalid value: ranges must be supplied for MayRunAs",
				"podSecurityPolicy.spec.supplementalGroups: Invalid value: ranges must be supplied for MustRunAs",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			policy := permissivePSP()
			tc.psp(policy)
			pod := plainPod()
			got := Admit(policy, pod)
			if gotErrors := describeErrors(got.Errors); !slices.Equal(gotErrors, tc.errors) {
				t.Errorf("errors:\n got %q\nwant %q", gotErrors, tc.errors)
			}
			if got.Mutated || !reflect.DeepEqual(got.Pod, pod) {
				t.Errorf("a PSP without a provider must not touch the pod")
			}
		})
	}
}

func fieldPath(root string) *field.Path { return field.NewPath(root) }

func assertStrings(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}
