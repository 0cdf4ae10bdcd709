package artifacts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/pss"
	admissionapi "k8s.io/pod-security-admission/admission/api"
	"k8s.io/pod-security-admission/api"
)

func serverVersion(t *testing.T, s string) api.Version {
	t.Helper()
	v, err := api.ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// loadConfig reads the file back as the PodSecurity plugin does.
func loadConfig(t *testing.T, data []byte) *admissionapi.PodSecurityConfiguration {
	t.Helper()
	cfg, err := pss.ReadConfiguration(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return cfg
}

// TestAdmissionConfigGolden keeps the configuration proposed for the demo.
func TestAdmissionConfigGolden(t *testing.T) {
	p, _ := demoPlan(t)
	data, err := AdmissionConfig(p, ConfigOptions{Server: serverVersion(t, "v1.37")})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "config", "demo-v1.37.yaml")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(data) {
		t.Errorf("admission configuration differs from %s; run go test ./artifacts -update and review", golden)
	}
}

// TestAdmissionConfigDefaults: enforce baseline unless asked otherwise,
// audit and warn restricted, all at the plan's version.
func TestAdmissionConfigDefaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enforce api.Level
		want    admissionapi.PodSecurityDefaults
	}{
		{"enforce is baseline by default", "", admissionapi.PodSecurityDefaults{Enforce: "baseline", EnforceVersion: "v1.30",
			Audit: "restricted", AuditVersion: "v1.30", Warn: "restricted", WarnVersion: "v1.30"}},
		{"enforce restricted on request", pss.Restricted, admissionapi.PodSecurityDefaults{Enforce: "restricted", EnforceVersion: "v1.30",
			Audit: "restricted", AuditVersion: "v1.30", Warn: "restricted", WarnVersion: "v1.30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := AdmissionConfig(&plan.Plan{PSSVersion: "v1.30"}, ConfigOptions{Server: serverVersion(t, "v1.37"), Enforce: tc.enforce})
			if err != nil {
				t.Fatal(err)
			}
			if got := loadConfig(t, data).Defaults; got != tc.want {
				t.Errorf("defaults %+v, want %+v", got, tc.want)
			}
		})
	}
}

func systemNamespace(name string, labels, current map[string]string) plan.Namespace {
	if current == nil {
		current = map[string]string{}
	}
	if labels == nil {
		labels = map[string]string{}
	}
	return plan.Namespace{Name: name, System: true, Labels: labels, Current: current}
}

func TestAdmissionConfigExemptions(t *testing.T) {
	enforceLabel := pss.LevelLabel(pss.Enforce)
	planned := map[string]string{enforceLabel: "privileged"}
	for _, tc := range []struct {
		name       string
		namespaces []plan.Namespace
		requested  pss.Exemptions
		want       admissionapi.PodSecurityExemptions
		header     []string
	}{
		{name: "system namespaces the plan leaves unlabelled are exempt",
			namespaces: []plan.Namespace{systemNamespace("kube-system", nil, nil), systemNamespace("kube-public", nil, nil), systemNamespace("kube-node-lease", nil, nil)},
			want:       admissionapi.PodSecurityExemptions{Namespaces: []string{"kube-node-lease", "kube-public", "kube-system"}},
			header:     []string{"kube-system: a Kubernetes system namespace whose pods", "the plan leaves it unlabelled (plan --include-system labels it)."}},
		{name: "system namespaces missing from the input are exempt, since every cluster has them",
			want:   admissionapi.PodSecurityExemptions{Namespaces: []string{"kube-node-lease", "kube-public", "kube-system"}},
			header: []string{"kube-public: a Kubernetes system namespace; not in the plan's input"}},
		{name: "a system namespace the plan labels is not exempt",
			namespaces: []plan.Namespace{systemNamespace("kube-system", planned, nil)},
			want:       admissionapi.PodSecurityExemptions{Namespaces: []string{"kube-node-lease", "kube-public"}},
			header:     []string{"kube-system is not exempt: the plan labels it"}},
		{name: "a system namespace whose own label sets enforce is not exempt, so the exemption cannot loosen it",
			namespaces: []plan.Namespace{systemNamespace("kube-system", nil, map[string]string{enforceLabel: "baseline"})},
			want:       admissionapi.PodSecurityExemptions{Namespaces: []string{"kube-node-lease", "kube-public"}},
			header:     []string{"kube-system is not exempt: its own label pod-security.kubernetes.io/enforce=baseline decides"}},
		{name: "a system namespace labelled only for warn is still exempt",
			namespaces: []plan.Namespace{systemNamespace("kube-system", nil, map[string]string{pss.LevelLabel(pss.Warn): "baseline"})},
			want:       admissionapi.PodSecurityExemptions{Namespaces: []string{"kube-node-lease", "kube-public", "kube-system"}}},
		{name: "ordinary namespaces are never exempt by themselves",
			namespaces: []plan.Namespace{{Name: "shop", Labels: map[string]string{}, Current: map[string]string{}}},
			want:       admissionapi.PodSecurityExemptions{Namespaces: []string{"kube-node-lease", "kube-public", "kube-system"}}},
		{name: "requested exemptions are added once each",
			requested: pss.Exemptions{Namespaces: []string{"istio-system", "kube-system", "istio-system"}, Usernames: []string{"ci-deployer"}, RuntimeClasses: []string{"kata"}},
			want: admissionapi.PodSecurityExemptions{Namespaces: []string{"istio-system", "kube-node-lease", "kube-public", "kube-system"},
				Usernames: []string{"ci-deployer"}, RuntimeClasses: []string{"kata"}},
			header: []string{"namespace istio-system: exempt on request.", "user ci-deployer: exempt on request.", "runtime class kata: exempt on request."}},
		{name: "a requested namespace the plan labels is exempt as asked",
			namespaces: []plan.Namespace{systemNamespace("kube-system", planned, nil)},
			requested:  pss.Exemptions{Namespaces: []string{"kube-system"}},
			want:       admissionapi.PodSecurityExemptions{Namespaces: []string{"kube-node-lease", "kube-public", "kube-system"}},
			header:     []string{"kube-system is not exempt: the plan labels it", "namespace kube-system: exempt on request."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &plan.Plan{PSSVersion: "v1.37", Namespaces: tc.namespaces}
			data, err := AdmissionConfig(p, ConfigOptions{Server: serverVersion(t, "v1.37"), Exemptions: tc.requested})
			if err != nil {
				t.Fatal(err)
			}
			got := loadConfig(t, data).Exemptions
			if !slices.Equal(got.Namespaces, tc.want.Namespaces) || !slices.Equal(got.Usernames, tc.want.Usernames) ||
				!slices.Equal(got.RuntimeClasses, tc.want.RuntimeClasses) {
				t.Errorf("exemptions %+v, want %+v", got, tc.want)
			}
			for _, line := range tc.header {
				if !strings.Contains(string(data), line) {
					t.Errorf("header lacks %q:\n%s", line, data)
				}
			}
		})
	}
}

func TestAdmissionConfigFollowsTheServerVersion(t *testing.T) {
	data, err := AdmissionConfig(&plan.Plan{PSSVersion: "v1.24"}, ConfigOptions{Server: serverVersion(t, "v1.24")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "apiVersion: pod-security.admission.config.k8s.io/v1beta1") {
		t.Errorf("a 1.24 server needs v1beta1:\n%s", data)
	}
}

func TestAdmissionConfigRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		plan *plan.Plan
		opts ConfigOptions
		want string
	}{
		{"a plan without a PSS version", &plan.Plan{}, ConfigOptions{}, "PSS version"},
		{"an unknown enforce level", &plan.Plan{PSSVersion: "v1.37"}, ConfigOptions{Enforce: "strict"}, "defaults.enforce"},
		{"a requested namespace that cannot exist", &plan.Plan{PSSVersion: "v1.37"},
			ConfigOptions{Exemptions: pss.Exemptions{Namespaces: []string{"Not_A_Namespace"}}}, "exemptions.namespaces"},
		{"a server without PodSecurity", &plan.Plan{PSSVersion: "v1.37"}, ConfigOptions{Server: api.MajorMinorVersion(1, 21)}, "no PodSecurity admission"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Server == (api.Version{}) {
				tc.opts.Server = api.LatestVersion()
			}
			if _, err := AdmissionConfig(tc.plan, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestAdmissionConfigFileShowsWhatItReplaces(t *testing.T) {
	dir := t.TempDir()
	p := &plan.Plan{PSSVersion: "v1.37"}
	opts := ConfigOptions{Server: serverVersion(t, "v1.37")}
	f, err := AdmissionConfigFile(p, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path != filepath.Join(dir, AdmissionConfigName) || f.Old != nil || !f.Changed() {
		t.Fatalf("new file: path %s, old %q, changed %v", f.Path, f.Old, f.Changed())
	}
	if err := os.WriteFile(f.Path, f.New, 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := AdmissionConfigFile(p, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() {
		t.Error("rewriting the same configuration reports a change")
	}
}

func TestSystemNamespacesAreThePlansSystemNamespaces(t *testing.T) {
	for _, name := range systemNamespaces {
		if !plan.IsSystem(name) {
			t.Errorf("%s is not a system namespace to the plan", name)
		}
	}
}
