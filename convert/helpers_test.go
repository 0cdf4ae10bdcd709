package convert

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

// decodePSP decodes one PSP manifest.
func decodePSP(t *testing.T, manifest string) *psp.PodSecurityPolicy {
	t.Helper()
	var p psp.PodSecurityPolicy
	if err := yaml.UnmarshalStrict([]byte(manifest), &p); err != nil {
		t.Fatalf("decoding PSP: %v\n%s", err, manifest)
	}
	return &p
}

func readPSP(t *testing.T, path string) *psp.PodSecurityPolicy {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodePSP(t, string(data))
}

// sharedDir is ../shared beside the repository.
func sharedDir(t testing.TB) string { return testinputs.SharedDir(t) }

func version(t testing.TB, s string) api.Version {
	t.Helper()
	v, err := pss.ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// basePSP is a PSP that maps to restricted at every version: each rule's
// table starts from it and changes the field under test.
const basePSP = `
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: base
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: runtime/default
    seccomp.security.alpha.kubernetes.io/defaultProfileName: runtime/default
    apparmor.security.beta.kubernetes.io/allowedProfileNames: runtime/default
    apparmor.security.beta.kubernetes.io/defaultProfileName: runtime/default
spec:
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  volumes: [configMap, emptyDir, projected, secret, downwardAPI, persistentVolumeClaim]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: MustRunAs, seLinuxOptions: {type: container_t}}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
`

// ruleCase is one row of a rule's table: the base PSP with a merge patch
// (RFC 7386, in YAML; null deletes), converted at a version.
type ruleCase struct {
	name    string
	patch   string
	version string // "" means latest
	level   api.Level
	// findings are "field@level: check,check", exactly and in order.
	findings []string
	// mutations, gaps and notes list the field names of those that belong
	// to the rule under test (its field or a sub-field), exactly and in
	// order; nil leaves them unchecked.
	mutations, gaps, notes []string
	// messages are substrings the findings' messages must contain.
	messages []string
}

func runRuleCases(t *testing.T, field string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := patchedPSP(t, basePSP, tc.patch)
			v := "latest"
			if tc.version != "" {
				v = tc.version
			}
			got := Convert(p, version(t, v))
			checkResult(t, got, field, tc)
			checkAgainstAdmission(t, p, version(t, v))
		})
	}
}

func checkResult(t *testing.T, got PolicyResult, field string, tc ruleCase) {
	t.Helper()
	if got.Level != tc.level {
		t.Errorf("level = %s, want %s", got.Level, tc.level)
	}
	var findings, messages []string
	for _, f := range got.Findings {
		findings = append(findings, fmt.Sprintf("%s@%s: %s", f.Field, f.Level, strings.Join(f.Checks, ",")))
		messages = append(messages, f.Message)
	}
	if !slices.Equal(findings, tc.findings) {
		t.Errorf("findings = %q, want %q\nmessages: %q", findings, tc.findings, messages)
	}
	for _, want := range tc.messages {
		if !slices.ContainsFunc(messages, func(m string) bool { return strings.Contains(m, want) }) {
			t.Errorf("no finding message contains %q; messages: %q", want, messages)
		}
	}
	checkFields(t, "mutations", fieldsOf(got.Mutations, field, func(m Mutation) string { return m.Field }), tc.mutations)
	checkFields(t, "gaps", fieldsOf(got.Gaps, field, func(g Gap) string { return g.Field }), tc.gaps)
	checkFields(t, "notes", fieldsOf(got.Notes, field, func(n Note) string { return n.Field }), tc.notes)
	if t.Failed() {
		out, _ := json.MarshalIndent(got, "", "  ")
		t.Logf("result: %s", out)
	}
}

// fieldsOf lists the field names of the items that belong to the rule.
func fieldsOf[T any](items []T, rule string, field func(T) string) []string {
	out := []string{}
	for _, it := range items {
		if f := field(it); f == rule || strings.HasPrefix(f, rule+".") {
			out = append(out, f)
		}
	}
	return out
}

func checkFields(t *testing.T, what string, got, want []string) {
	t.Helper()
	if want != nil && !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// patchedPSP applies a YAML merge patch to a PSP manifest.
func patchedPSP(t *testing.T, base, patch string) *psp.PodSecurityPolicy {
	t.Helper()
	var doc, change map[string]any
	if err := yaml.Unmarshal([]byte(base), &doc); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(patch), &change); err != nil {
		t.Fatalf("patch: %v\n%s", err, patch)
	}
	merged, err := json.Marshal(mergePatch(doc, change))
	if err != nil {
		t.Fatal(err)
	}
	return decodePSP(t, string(merged))
}

func mergePatch(doc, patch map[string]any) map[string]any {
	if doc == nil {
		doc = map[string]any{}
	}
	for k, v := range patch {
		switch v := v.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			sub, _ := doc[k].(map[string]any)
			doc[k] = mergePatch(sub, v)
		default:
			doc[k] = v
		}
	}
	return doc
}

// templateOf is the pod's template: what a workload would carry.
func templateOf(pod *corev1.Pod) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{ObjectMeta: *pod.ObjectMeta.DeepCopy(), Spec: *pod.Spec.DeepCopy()}
}
