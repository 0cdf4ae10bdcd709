package psp

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
)

// restrictedYAML is a valid PSP; tests replace its lines to break it.
const restrictedYAML = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: restricted
spec:
  privileged: false
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  volumes: [configMap, emptyDir, projected, secret, downwardAPI, persistentVolumeClaim]
  runAsUser:
    rule: MustRunAsNonRoot
  seLinux:
    rule: RunAsAny
  supplementalGroups:
    rule: MustRunAs
    ranges:
    - {min: 1, max: 65535}
  fsGroup:
    rule: MustRunAs
    ranges:
    - {min: 1, max: 65535}
`

// loadString reads input as one stream and loads its PSPs.
func inputLoadString(t *testing.T, input string) Load {
	t.Helper()
	docs, errs := manifest.Read([]string{manifest.Stdin}, strings.NewReader(input))
	if len(errs) != 0 {
		t.Fatalf("reading the input: %v", errs)
	}
	return FromDocuments(docs)
}

func inputMessages(errs []error) []string {
	out := []string{}
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}

func inputPolicyNames(ps []Policy) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.APIVersion+" "+p.PSP.Name)
	}
	return out
}

func TestFromDocuments(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(restrictedYAML, old) {
			panic("test input lacks " + old)
		}
		return strings.Replace(restrictedYAML, old, new, 1)
	}
	const at = "<stdin>: document 0 (line 1): PodSecurityPolicy/restricted: "
	tests := []struct {
		name         string
		input        string
		wantPolicies []string
		wantErrors   []string
		wantWarnings []string
	}{
		{
			name:         "valid policy/v1beta1 PSP is returned",
			input:        restrictedYAML,
			wantPolicies: []string{"policy/v1beta1 restricted"},
		},
		{
			name:         "extensions/v1beta1 has the same schema and keeps its apiVersion",
			input:        replace("policy/v1beta1", "extensions/v1beta1"),
			wantPolicies: []string{"extensions/v1beta1 restricted"},
		},
		{
			name:       "PodSecurityPolicy in an apiVersion that never served it is an error",
			input:      replace("policy/v1beta1", "policy/v1"),
			wantErrors: []string{at + `apiVersion: PodSecurityPolicy was served as policy/v1beta1 or extensions/v1beta1, not "policy/v1"`},
		},
		{
			name:  "invalid PSP is reported per field and not returned",
			input: replace("rule: RunAsAny", "rule: MustRunAsRange"),
			wantErrors: []string{
				at + `spec.seLinux.rule: Unsupported value: "MustRunAsRange": supported values: "MustRunAs", "RunAsAny"`,
			},
		},
		{
			name:  "missing strategy names its field",
			input: replace("  seLinux:\n    rule: RunAsAny\n", ""),
			wantErrors: []string{
				at + `spec.seLinux.rule: Unsupported value: "": supported values: "MustRunAs", "RunAsAny"`,
			},
		},
		{
			name:  "value of the wrong type fails the PSP with the exact path",
			input: replace("- {min: 1, max: 65535}\n  fsGroup", "- {min: 1, max: 65535}\n    - {min: 70000, max: lots}\n  fsGroup"),
			wantErrors: []string{
				at + `spec.supplementalGroups.ranges[1].max: expected an integer, got a string ("lots")`,
			},
		},
		{
			name:         "unknown field is a warning: the apiserver dropped it",
			input:        replace("  privileged: false", "  privileged: false\n  hostNetwrk: true"),
			wantPolicies: []string{"policy/v1beta1 restricted"},
			wantWarnings: []string{at + "spec.hostNetwrk: unknown field, dropped by the apiserver"},
		},
		{
			name:         "keys are case-sensitive: a capitalised key is unknown",
			input:        replace("  privileged: false", "  Privileged: true"),
			wantPolicies: []string{"policy/v1beta1 restricted"},
			wantWarnings: []string{at + "spec.Privileged: unknown field, dropped by the apiserver"},
		},
		{
			name:         "namespace on the cluster-scoped PSP is a warning",
			input:        replace("  name: restricted", "  name: restricted\n  namespace: ingress-nginx"),
			wantPolicies: []string{"policy/v1beta1 restricted"},
			wantWarnings: []string{"<stdin>: document 0 (line 1): PodSecurityPolicy/ingress-nginx/restricted: metadata.namespace: ignored: PodSecurityPolicy is cluster-scoped"},
		},
		{
			name:         "allowedProcMountTypes is kept but warned about",
			input:        replace("  privileged: false", "  privileged: false\n  allowedProcMountTypes: [Unmasked]"),
			wantPolicies: []string{"policy/v1beta1 restricted"},
			wantWarnings: []string{at + "spec.allowedProcMountTypes: dropped by a 1.24 apiserver (ProcMountType feature gate off by default): pods asking for a procMount other than Default are refused"},
		},
		{
			name:         "runAsUser MustRunAs without ranges is stored, but the admission plugin cannot use it",
			input:        replace("rule: MustRunAsNonRoot", "rule: MustRunAs"),
			wantPolicies: []string{"policy/v1beta1 restricted"},
			wantWarnings: []string{at + "spec.runAsUser: the admission plugin cannot use this policy (MustRunAs requires at least one range): it admits no pod"},
		},
		{
			name:         "generateName instead of a name is a warning",
			input:        replace("  name: restricted", "  generateName: restricted-"),
			wantPolicies: []string{"policy/v1beta1 "},
			wantWarnings: []string{"<stdin>: document 0 (line 1): PodSecurityPolicy/<unnamed>: metadata.generateName: the apiserver names this PodSecurityPolicy restricted- and 5 random characters: its name, which RBAC grants refer to, is unknown here"},
		},
		{
			name:         "second PSP of the same name is a warning",
			input:        restrictedYAML + "---\n" + restrictedYAML,
			wantPolicies: []string{"policy/v1beta1 restricted", "policy/v1beta1 restricted"},
			wantWarnings: []string{`<stdin>: document 1 (line 23): PodSecurityPolicy/restricted: metadata.name: a PodSecurityPolicy named "restricted" was already read from <stdin>: document 0 (line 1); a cluster holds only one of them`},
		},
		{
			name:         "creationTimestamp that is not a time fails like any wrong type",
			input:        replace("  name: restricted", "  name: restricted\n  creationTimestamp: yesterday"),
			wantErrors:   []string{at + `metadata.creationTimestamp: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`},
			wantPolicies: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := inputLoadString(t, tt.input)
			if got, want := inputPolicyNames(load.Policies), inputOrEmpty(tt.wantPolicies); !slices.Equal(got, want) {
				t.Errorf("policies:\n got %q\nwant %q", got, want)
			}
			if got, want := inputMessages(load.Errors), inputOrEmpty(tt.wantErrors); !slices.Equal(got, want) {
				t.Errorf("errors:\n got %q\nwant %q", got, want)
			}
			if got, want := inputMessages(load.Warnings), inputOrEmpty(tt.wantWarnings); !slices.Equal(got, want) {
				t.Errorf("warnings:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func inputOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestFromDocumentsCountsOtherKinds(t *testing.T) {
	input := restrictedYAML + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: b}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: c}
`
	load := inputLoadString(t, input)
	want := map[string]int{"rbac.authorization.k8s.io/v1/ClusterRole": 2, "v1/ServiceAccount": 1}
	if len(load.Skipped) != len(want) {
		t.Errorf("Skipped = %v, want %v", load.Skipped, want)
	}
	for k, n := range want {
		if load.Skipped[k] != n {
			t.Errorf("Skipped[%s] = %d, want %d", k, load.Skipped[k], n)
		}
	}
	if len(load.Policies) != 1 || load.Policies[0].Source.Index != 0 || load.Policies[0].Source.Line != 1 {
		t.Errorf("policies = %+v", load.Policies)
	}
}

func TestFromDocumentsErrorsAreManifestErrors(t *testing.T) {
	load := inputLoadString(t, strings.Replace(restrictedYAML, "name: restricted", "name: no_good", 1))
	if len(load.Errors) != 1 {
		t.Fatalf("errors = %v", load.Errors)
	}
	var e *manifest.Error
	if !errors.As(load.Errors[0], &e) || e.Field != "metadata.name" || e.Object != "PodSecurityPolicy/no_good" || e.Source.File != manifest.StdinFile {
		t.Errorf("error = %#v", load.Errors[0])
	}
}

func TestDecodeDuplicateFieldIsAWarning(t *testing.T) {
	raw := []byte(`{"apiVersion":"policy/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"p"},"spec":{"privileged":true,"privileged":false}}`)
	p, typeErrs, strictErrs := Decode(raw)
	if p == nil || len(typeErrs) != 0 {
		t.Fatalf("Decode = %v, %v", p, typeErrs)
	}
	if p.Spec.Privileged {
		t.Errorf("privileged = true, want the last value (false)")
	}
	if len(strictErrs) != 1 || strictErrs[0].Field != "spec.privileged" || !strings.HasPrefix(strictErrs[0].Detail, "duplicate field") {
		t.Errorf("strict errors = %v", strictErrs)
	}
}

func TestDecodeTypeErrorsNameEveryBadValue(t *testing.T) {
	raw := []byte(`{"apiVersion":"policy/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"p","annotations":{"a":1}},
	"spec":{"privileged":"yes","runAsUser":{"rule":"MustRunAs","ranges":[{"min":1,"max":2},{"min":"x","max":1.5}]},
	"hostPorts":[{"min":1,"max":4294967296}],"volumes":"secret","seLinux":[]}}`)
	p, typeErrs, strictErrs := Decode(raw)
	if p != nil {
		t.Errorf("Decode returned a policy despite type errors")
	}
	want := []string{
		"metadata.annotations[a]: expected a string, got a number (1)",
		"spec.hostPorts[0].max: 4294967296 does not fit in a 32-bit integer",
		"spec.privileged: expected a boolean, got a string (\"yes\")",
		"spec.runAsUser.ranges[1].max: expected an integer, got a number (1.5)",
		"spec.runAsUser.ranges[1].min: expected an integer, got a string (\"x\")",
		"spec.seLinux: expected an object, got a list",
		"spec.volumes: expected a list, got a string (\"secret\")",
	}
	var got []string
	for _, e := range typeErrs {
		got = append(got, e.Field+": "+e.Detail)
	}
	if !slices.Equal(got, want) {
		t.Errorf("type errors:\n got %q\nwant %q", got, want)
	}
	if len(strictErrs) != 0 {
		t.Errorf("strict errors %v", strictErrs)
	}
}

func TestDeepCopySharesNothing(t *testing.T) {
	no := false
	p := &PodSecurityPolicy{Spec: PodSecurityPolicySpec{AllowPrivilegeEscalation: &no, Volumes: []FSType{Secret}}}
	p.Name = "x"
	c := p.DeepCopy()
	c.Spec.Volumes[0] = HostPath
	*c.Spec.AllowPrivilegeEscalation = true
	if p.Spec.Volumes[0] != Secret || *p.Spec.AllowPrivilegeEscalation || c.Name != "x" {
		t.Fatalf("DeepCopy shares state or loses fields: original %+v, copy %+v", p.Spec, c.Spec)
	}
}
