package pss

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	admissionapi "k8s.io/pod-security-admission/admission/api"
	"k8s.io/pod-security-admission/admission/api/scheme"
	admissionv1 "k8s.io/pod-security-admission/admission/api/v1"
	admissionv1alpha1 "k8s.io/pod-security-admission/admission/api/v1alpha1"
	admissionv1beta1 "k8s.io/pod-security-admission/admission/api/v1beta1"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

// migrationDefaults is the policy psp2psa proposes: enforce baseline,
// audit and warn restricted, all pinned.
func migrationDefaults(t *testing.T, version string) api.Policy {
	v := mustVersion(t, version)
	return api.Policy{
		Enforce: api.LevelVersion{Level: Baseline, Version: v},
		Audit:   api.LevelVersion{Level: Restricted, Version: v},
		Warn:    api.LevelVersion{Level: Restricted, Version: v},
	}
}

func TestConfigAPIVersionByServer(t *testing.T) {
	for _, tc := range []struct {
		server, want string
	}{
		{"v1.22", "pod-security.admission.config.k8s.io/v1alpha1"},
		{"v1.23", "pod-security.admission.config.k8s.io/v1beta1"},
		{"v1.24", "pod-security.admission.config.k8s.io/v1beta1"},
		{"v1.25", "pod-security.admission.config.k8s.io/v1"},
		{"v1.37", "pod-security.admission.config.k8s.io/v1"},
		{"latest", "pod-security.admission.config.k8s.io/v1"},
	} {
		t.Run(tc.server, func(t *testing.T) {
			gv, err := ConfigAPIVersion(mustVersion(t, tc.server))
			if err != nil {
				t.Fatal(err)
			}
			if gv.String() != tc.want {
				t.Errorf("apiVersion %s, want %s", gv, tc.want)
			}
		})
	}
}

func TestConfigAPIVersionRefusesServersWithoutPodSecurity(t *testing.T) {
	for _, server := range []string{"v1.21", "v1.8"} {
		if _, err := ConfigAPIVersion(mustVersion(t, server)); err == nil || !strings.Contains(err.Error(), "no PodSecurity admission") {
			t.Errorf("%s: want an error saying PodSecurity does not exist there, got %v", server, err)
		}
	}
}

// TestConfigurationDecodesIntoTheLibraryType decodes the embedded entry
// with the library's scheme, without conversion, to see that each server
// version gets its own Go type with every field set.
func TestConfigurationDecodesIntoTheLibraryType(t *testing.T) {
	cfg := Config{
		Defaults: migrationDefaults(t, "v1.37"),
		Exemptions: Exemptions{
			Usernames:      []string{"system:serviceaccount:ci:deployer"},
			Namespaces:     []string{"kube-system", "kube-node-lease"},
			RuntimeClasses: []string{"kata"},
		},
	}
	wantDefaults := map[string]string{"enforce": "baseline", "enforce-version": "v1.37", "audit": "restricted",
		"audit-version": "v1.37", "warn": "restricted", "warn-version": "v1.37"}
	for _, tc := range []struct {
		server string
		want   runtime.Object
	}{
		{"v1.22", &admissionv1alpha1.PodSecurityConfiguration{}},
		{"v1.24", &admissionv1beta1.PodSecurityConfiguration{}},
		{"v1.37", &admissionv1.PodSecurityConfiguration{}},
	} {
		t.Run(tc.server, func(t *testing.T) {
			data, err := Configuration(cfg, mustVersion(t, tc.server))
			if err != nil {
				t.Fatal(err)
			}
			entry := podSecurityEntry(t, data)
			obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(entry, nil, nil)
			if err != nil {
				t.Fatalf("the library cannot decode the entry: %v", err)
			}
			if reflect.TypeOf(obj) != reflect.TypeOf(tc.want) {
				t.Fatalf("decoded as %T, want %T", obj, tc.want)
			}
			var generic struct {
				APIVersion string              `json:"apiVersion"`
				Kind       string              `json:"kind"`
				Defaults   map[string]string   `json:"defaults"`
				Exemptions map[string][]string `json:"exemptions"`
			}
			if err := yaml.UnmarshalStrict(entry, &generic); err != nil {
				t.Fatal(err)
			}
			if generic.Kind != "PodSecurityConfiguration" || generic.APIVersion != obj.GetObjectKind().GroupVersionKind().GroupVersion().String() {
				t.Errorf("entry is %s %s", generic.APIVersion, generic.Kind)
			}
			if !reflect.DeepEqual(generic.Defaults, wantDefaults) {
				t.Errorf("defaults %v, want %v", generic.Defaults, wantDefaults)
			}
			wantExemptions := map[string][]string{"usernames": {"system:serviceaccount:ci:deployer"},
				"namespaces": {"kube-node-lease", "kube-system"}, "runtimeClasses": {"kata"}}
			if !reflect.DeepEqual(generic.Exemptions, wantExemptions) {
				t.Errorf("exemptions %v, want %v", generic.Exemptions, wantExemptions)
			}
		})
	}
}

// podSecurityEntry returns the PodSecurity plugin's embedded configuration.
func podSecurityEntry(t *testing.T, data []byte) []byte {
	t.Helper()
	var ac struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Plugins    []struct {
			Name          string         `json:"name"`
			Configuration map[string]any `json:"configuration"`
		} `json:"plugins"`
	}
	if err := yaml.UnmarshalStrict(data, &ac); err != nil {
		t.Fatal(err)
	}
	if ac.APIVersion != "apiserver.config.k8s.io/v1" || ac.Kind != "AdmissionConfiguration" {
		t.Fatalf("file is %s %s", ac.APIVersion, ac.Kind)
	}
	if len(ac.Plugins) != 1 || ac.Plugins[0].Name != "PodSecurity" {
		t.Fatalf("want one PodSecurity plugin entry, have %+v", ac.Plugins)
	}
	entry, err := yaml.Marshal(ac.Plugins[0].Configuration)
	if err != nil {
		t.Fatal(err)
	}
	return entry
}

func TestConfigurationReadsBackAsConfigured(t *testing.T) {
	cfg := Config{
		Defaults:   migrationDefaults(t, "v1.30"),
		Exemptions: Exemptions{Namespaces: []string{"kube-system"}, Usernames: []string{"admin"}},
	}
	cfg.Defaults.Warn.Version = api.LatestVersion()
	for _, server := range []string{"v1.22", "v1.23", "v1.24", "v1.25", "v1.37", "latest"} {
		t.Run(server, func(t *testing.T) {
			data, err := Configuration(cfg, mustVersion(t, server))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadConfiguration(data)
			if err != nil {
				t.Fatal(err)
			}
			policy, err := admissionapi.ToPolicy(got.Defaults)
			if err != nil {
				t.Fatal(err)
			}
			if policy != cfg.Defaults {
				t.Errorf("defaults load as %s, want %s", policy.String(), cfg.Defaults.String())
			}
			want := admissionapi.PodSecurityExemptions{Namespaces: []string{"kube-system"}, Usernames: []string{"admin"}}
			if !reflect.DeepEqual(got.Exemptions, want) {
				t.Errorf("exemptions load as %+v, want %+v", got.Exemptions, want)
			}
		})
	}
}

func TestConfigurationSortsExemptionsWithoutTouchingTheInput(t *testing.T) {
	namespaces := []string{"kube-system", "kube-node-lease", "kube-public"}
	data, err := Configuration(Config{Defaults: migrationDefaults(t, "v1.37"), Exemptions: Exemptions{Namespaces: namespaces}}, mustVersion(t, "v1.37"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadConfiguration(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"kube-node-lease", "kube-public", "kube-system"}; !slices.Equal(got.Exemptions.Namespaces, want) {
		t.Errorf("namespaces %q, want %q", got.Exemptions.Namespaces, want)
	}
	if namespaces[0] != "kube-system" {
		t.Errorf("the caller's slice was reordered: %q", namespaces)
	}
}

func TestConfigurationHeader(t *testing.T) {
	for _, tc := range []struct {
		name, server, pinned string
		want, not            []string
	}{
		{name: "says how to install it", server: "v1.37", pinned: "v1.37",
			want: []string{"--admission-control-config-file=", "Written for Kubernetes v1.37 (PodSecurityConfiguration pod-security.admission.config.k8s.io/v1)"},
			not:  []string{"feature-gates", "newer than the server"}},
		{name: "1.22 needs the feature gate", server: "v1.22", pinned: "v1.22",
			want: []string{"--feature-gates=PodSecurity=true"}},
		{name: "1.24 runs beside PodSecurityPolicy", server: "v1.24", pinned: "v1.24",
			want: []string{"PodSecurityPolicy"}, not: []string{"newer than the server"}},
		{name: "a version newer than the server is explained", server: "v1.24", pinned: "v1.37",
			want: []string{"newer than the server"}},
		{name: "latest is not newer than any server", server: "v1.24", pinned: "latest",
			not: []string{"newer than the server"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := Configuration(Config{Defaults: migrationDefaults(t, tc.pinned)}, mustVersion(t, tc.server))
			if err != nil {
				t.Fatal(err)
			}
			header, _, _ := strings.Cut(string(data), "apiVersion:")
			for _, w := range tc.want {
				if !strings.Contains(header, w) {
					t.Errorf("header lacks %q:\n%s", w, header)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(header, n) {
					t.Errorf("header has %q:\n%s", n, header)
				}
			}
		})
	}
}

// TestConfigurationRefusesWhatThePluginRefuses: each invalid input is
// stopped by the library's validation, naming the field, before any file
// exists.
func TestConfigurationRefusesWhatThePluginRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"unknown level", func(c *Config) { c.Defaults.Enforce.Level = "strict" }, "defaults.enforce"},
		{"unset version", func(c *Config) { c.Defaults.Audit.Version = api.Version{} }, "defaults.audit-version"},
		{"unset warn level", func(c *Config) { c.Defaults.Warn.Level = "" }, "defaults.warn"},
		{"namespace that is not a DNS label", func(c *Config) { c.Exemptions.Namespaces = []string{"Kube_System"} }, "exemptions.namespaces[0]"},
		{"duplicate namespace", func(c *Config) { c.Exemptions.Namespaces = []string{"a", "a"} }, "exemptions.namespaces[1]: Duplicate"},
		{"empty username", func(c *Config) { c.Exemptions.Usernames = []string{""} }, "exemptions.usernames[0]"},
		{"runtime class that is not a DNS subdomain", func(c *Config) { c.Exemptions.RuntimeClasses = []string{"gVisor sandbox"} }, "exemptions.runtimeClasses[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Defaults: migrationDefaults(t, "v1.37")}
			tc.mutate(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: want an error naming %s, got %v", tc.want, err)
			}
			data, err := Configuration(cfg, mustVersion(t, "v1.37"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Configuration: want an error naming %s, got %v", tc.want, err)
			}
			if data != nil {
				t.Errorf("Configuration returned a file with its error:\n%s", data)
			}
		})
	}
}

func TestConfigurationRefusesAServerWithoutPodSecurity(t *testing.T) {
	if _, err := Configuration(Config{Defaults: migrationDefaults(t, "v1.21")}, mustVersion(t, "v1.21")); err == nil {
		t.Error("want an error for a 1.21 server")
	}
}

const validEntry = `
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults:
      enforce: baseline
`

// TestReadConfiguration covers files written by hand: the library
// defaults what they omit and refuses what the plugin refuses.
func TestReadConfiguration(t *testing.T) {
	head := "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n"
	t.Run("omitted defaults are privileged at latest, as the plugin defaults them", func(t *testing.T) {
		got, err := ReadConfiguration([]byte(head + "- name: PodSecurity" + validEntry))
		if err != nil {
			t.Fatal(err)
		}
		want := admissionapi.PodSecurityDefaults{Enforce: "baseline", EnforceVersion: "latest",
			Audit: "privileged", AuditVersion: "latest", Warn: "privileged", WarnVersion: "latest"}
		if got.Defaults != want {
			t.Errorf("defaults %+v, want %+v", got.Defaults, want)
		}
	})
	t.Run("other plugins' entries are ignored", func(t *testing.T) {
		other := "- name: EventRateLimit\n  path: eventconfig.yaml\n"
		if _, err := ReadConfiguration([]byte(head + other + "- name: PodSecurity" + validEntry)); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name, file, want string
	}{
		{"unknown field in the PodSecurity configuration", head + "- name: PodSecurity" + validEntry + "    exemption: {}\n", `unknown field "exemption"`},
		{"unknown field in the admission configuration", head + "- name: PodSecurity" + validEntry + "  config: {}\n", `unknown field "config"`},
		{"invalid level", head + "- name: PodSecurity" + strings.Replace(validEntry, "baseline", "strict", 1), "defaults.enforce"},
		{"unknown PodSecurityConfiguration version", head + "- name: PodSecurity" + strings.Replace(validEntry, "/v1\n", "/v2\n", 1), "v2"},
		{"wrong kind", strings.Replace(head, "AdmissionConfiguration", "Configuration", 1) + "- name: PodSecurity" + validEntry, "want apiVersion"},
		{"no PodSecurity entry", head + "- name: EventRateLimit\n  path: x.yaml\n", "want one PodSecurity plugin entry, have 0"},
		{"two PodSecurity entries", head + "- name: PodSecurity" + validEntry + "- name: PodSecurity" + validEntry, "have 2"},
		{"configuration in a separate file", head + "- name: PodSecurity\n  path: podsecurity.yaml\n", "must embed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadConfiguration([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}
