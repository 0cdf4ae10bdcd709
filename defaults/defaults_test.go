package defaults

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/gapcases"
	"github.com/psp2psa/psp2psa/psp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestForPolicy: which defaults each PSP writes, and none for a PSP that
// writes nothing or only unconfined profiles.
func TestForPolicy(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(p *psp.PodSecurityPolicy)
		want []string
	}{
		{"nothing", func(*psp.PodSecurityPolicy) {}, nil},
		{"unconfined profiles", func(p *psp.PodSecurityPolicy) {
			p.Annotations = map[string]string{psp.SeccompDefaultProfileAnnotation: "unconfined", psp.AppArmorDefaultProfileAnnotation: "unconfined"}
		}, nil},
		{"MayRunAs groups", func(p *psp.PodSecurityPolicy) {
			r := []psp.IDRange{{Min: 1, Max: 2}}
			p.Spec.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMayRunAs, Ranges: r}
			p.Spec.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMayRunAs, Ranges: r}
		}, nil},
		{"everything", func(p *psp.PodSecurityPolicy) {
			r := []psp.IDRange{{Min: 5, Max: 9}}
			p.Spec.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: r}
			p.Spec.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMustRunAs, Ranges: r}
			p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: r}
			p.Spec.RunAsGroup = &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategyMustRunAs, Ranges: r}
			p.Spec.DefaultAddCapabilities = []corev1.Capability{"CHOWN"}
			p.Spec.ReadOnlyRootFilesystem = true
			p.Spec.AllowPrivilegeEscalation = new(false)
			p.Annotations = map[string]string{psp.SeccompDefaultProfileAnnotation: "docker/default", psp.AppArmorDefaultProfileAnnotation: "runtime/default"}
		}, []string{"supplementalGroups", "capabilities", "fsGroup", "annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]",
			"runAsUser", "runAsGroup", "annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]", "readOnlyRootFilesystem", "defaultAllowPrivilegeEscalation"}},
	} {
		p := gapcases.PSPWith("p", func(*psp.PodSecurityPolicySpec) {})
		tc.edit(p)
		var got []string
		for _, d := range ForPolicy(p) {
			got = append(got, d.Field)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: defaults %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPolicyAndBinding: pods on create, JSON patches and apply
// configurations as the defaults say, bound by namespace name.
func TestPolicyAndBinding(t *testing.T) {
	policy := Policy("p", []Default{{Expression: "[]", JSONPatch: true}, {Expression: "Object{}"}})
	if policy.Name != "psp2psa-defaults-p" || policy.Kind != "MutatingAdmissionPolicy" || policy.APIVersion != "admissionregistration.k8s.io/v1" {
		t.Errorf("identity %s %s %s", policy.APIVersion, policy.Kind, policy.Name)
	}
	rule := policy.Spec.MatchConstraints.ResourceRules[0]
	if rule.Resources[0] != "pods" || len(rule.Operations) != 1 || rule.Operations[0] != admissionregistrationv1.Create {
		t.Errorf("match %+v", rule)
	}
	m := policy.Spec.Mutations
	if m[0].PatchType != admissionregistrationv1.PatchTypeJSONPatch || m[1].PatchType != admissionregistrationv1.PatchTypeApplyConfiguration {
		t.Errorf("mutations %+v", m)
	}
	b := Binding("p", []string{"shop", "batch"})
	if b.Spec.PolicyName != policy.Name || strings.Join(b.Spec.MatchResources.NamespaceSelector.MatchExpressions[0].Values, ",") != "batch,shop" {
		t.Errorf("binding %+v", b.Spec)
	}
}

// TestCorpusGolden keeps the defaults of every valid corpus PSP in
// testdata/defaults/corpus-defaults.golden, to be reviewed like code; the
// e2e test applies each on a real apiserver.
func TestCorpusGolden(t *testing.T) {
	var b strings.Builder
	for _, pol := range gapcases.CorpusPolicies(t) {
		fmt.Fprintf(&b, "=== %s (%s)\n", pol.PSP.Name, filepath.Base(pol.Source.File))
		for _, d := range ForPolicy(pol.PSP) {
			fmt.Fprintf(&b, "%s: %s\n  %s\n", d.Field, d.Sets, strings.ReplaceAll(d.Expression, "\n", "\n  "))
		}
	}
	path := filepath.Join("..", "testdata", "defaults", "corpus-defaults.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != b.String() {
		t.Errorf("output differs from %s; run go test ./defaults -update and review the diff", path)
	}
}
