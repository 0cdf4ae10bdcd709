package pss

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	admissionapi "k8s.io/pod-security-admission/admission/api"
	"k8s.io/pod-security-admission/admission/api/load"
	"k8s.io/pod-security-admission/admission/api/scheme"
	admissionv1 "k8s.io/pod-security-admission/admission/api/v1"
	admissionv1alpha1 "k8s.io/pod-security-admission/admission/api/v1alpha1"
	admissionv1beta1 "k8s.io/pod-security-admission/admission/api/v1beta1"
	"k8s.io/pod-security-admission/admission/api/validation"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

// Config is the cluster-wide configuration of the PodSecurity admission
// plugin: the policy for every mode a namespace's labels leave unset, and
// the requests it never checks.
type Config struct {
	// Defaults are the level and version of each mode (enforce, audit,
	// warn) for a namespace whose labels do not set that mode.
	Defaults api.Policy
	// Exemptions are requests PodSecurity does not evaluate at all.
	Exemptions Exemptions
}

// Exemptions name the requests PodSecurity lets through unchecked: those
// made by a user, in a namespace, or for a pod of a runtime class.
type Exemptions struct {
	Usernames      []string
	Namespaces     []string
	RuntimeClasses []string
}

// AdmissionConfiguration file identity, as kube-apiserver's
// --admission-control-config-file reads it.
const (
	admissionConfigAPIVersion = "apiserver.config.k8s.io/v1"
	admissionConfigKind       = "AdmissionConfiguration"
	// PluginName is the admission plugin the configuration is for.
	PluginName = "PodSecurity"
)

// PodSecurity admission first shipped, as alpha, in Kubernetes 1.22; its
// configuration went beta in 1.23 and v1 in 1.25.
const (
	firstMinor = 22
	betaMinor  = 23
	v1Minor    = 25
)

// ConfigAPIVersion returns the PodSecurityConfiguration apiVersion a
// kube-apiserver of the given Kubernetes version reads: v1 from 1.25,
// v1beta1 in 1.23 and 1.24, v1alpha1 in 1.22. "latest" means a current
// server. Older servers have no PodSecurity admission.
func ConfigAPIVersion(server api.Version) (schema.GroupVersion, error) {
	switch minor := server.Minor(); {
	case server.Latest() || minor >= v1Minor:
		return admissionv1.SchemeGroupVersion, nil
	case minor >= betaMinor:
		return admissionv1beta1.SchemeGroupVersion, nil
	case minor == firstMinor:
		return admissionv1alpha1.SchemeGroupVersion, nil
	default:
		return schema.GroupVersion{}, fmt.Errorf("kubernetes %s has no PodSecurity admission: it first shipped in v1.%d", server, firstMinor)
	}
}

// Validate checks the configuration with the PodSecurity plugin's own
// validation, which kube-apiserver runs when it starts and refuses to start
// on failure.
func (c Config) Validate() error {
	return validate(c.internal())
}

func validate(cfg *admissionapi.PodSecurityConfiguration) error {
	if errs := validation.ValidatePodSecurityConfiguration(cfg); len(errs) > 0 {
		return fmt.Errorf("invalid PodSecurity configuration: %w", errs.ToAggregate())
	}
	return nil
}

// internal is the library's internal form of c, the one its validation
// and the plugin read. Exemption lists are sorted so output is stable;
// duplicates are kept for validation to refuse.
func (c Config) internal() *admissionapi.PodSecurityConfiguration {
	d := c.Defaults
	return &admissionapi.PodSecurityConfiguration{
		Defaults: admissionapi.PodSecurityDefaults{
			Enforce: string(d.Enforce.Level), EnforceVersion: d.Enforce.Version.String(),
			Audit: string(d.Audit.Level), AuditVersion: d.Audit.Version.String(),
			Warn: string(d.Warn.Level), WarnVersion: d.Warn.Version.String(),
		},
		Exemptions: admissionapi.PodSecurityExemptions{
			Usernames:      sortedOrNil(c.Exemptions.Usernames),
			Namespaces:     sortedOrNil(c.Exemptions.Namespaces),
			RuntimeClasses: sortedOrNil(c.Exemptions.RuntimeClasses),
		},
	}
}

// sortedOrNil returns a sorted copy, nil when empty: an empty list and an
// absent one mean the same to the plugin and are written the same.
func sortedOrNil(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

// admissionConfiguration mirrors the two fields of kube-apiserver's
// apiserver.config.k8s.io/v1 AdmissionConfiguration that matter here;
// k8s.io/apiserver is not a dependency worth taking for one type.
type admissionConfiguration struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Plugins    []admissionPlugin `json:"plugins"`
}

type admissionPlugin struct {
	Name          string          `json:"name"`
	Path          string          `json:"path,omitempty"`
	Configuration json.RawMessage `json:"configuration,omitempty"`
}

// Configuration renders c as an AdmissionConfiguration file for a
// kube-apiserver of version server, with the PodSecurityConfiguration
// apiVersion that server reads and a header saying how to install it. It
// refuses a configuration the plugin would refuse, and checks that the
// file, read back as the plugin reads it, gives exactly c.
func Configuration(c Config, server api.Version) ([]byte, error) {
	gv, err := ConfigAPIVersion(server)
	if err != nil {
		return nil, err
	}
	want := c.internal()
	if err := validate(want); err != nil {
		return nil, err
	}
	versioned, err := scheme.Scheme.ConvertToVersion(want, gv)
	if err != nil {
		return nil, fmt.Errorf("converting the PodSecurity configuration to %s: %w", gv, err)
	}
	plugin, err := json.Marshal(versioned)
	if err != nil {
		return nil, fmt.Errorf("encoding the PodSecurity configuration: %w", err)
	}
	body, err := yaml.Marshal(admissionConfiguration{
		APIVersion: admissionConfigAPIVersion,
		Kind:       admissionConfigKind,
		Plugins:    []admissionPlugin{{Name: PluginName, Configuration: plugin}},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the admission configuration: %w", err)
	}
	out := append([]byte(configHeader(c.Defaults, server, gv)), body...)
	if err := readsBackAs(out, want); err != nil {
		return nil, err
	}
	return out, nil
}

// readsBackAs guards the encoding: the file must load, through the
// plugin's loader, into the configuration that was meant.
func readsBackAs(data []byte, want *admissionapi.PodSecurityConfiguration) error {
	got, err := ReadConfiguration(data)
	if err != nil {
		return fmt.Errorf("the rendered admission configuration does not load: %w", err)
	}
	if !reflect.DeepEqual(got.Defaults, want.Defaults) || !reflect.DeepEqual(got.Exemptions, want.Exemptions) {
		return fmt.Errorf("the rendered admission configuration loads as %+v, not %+v", *got, *want)
	}
	return nil
}

// configHeader says what the file is and how a cluster takes it in.
func configHeader(defaults api.Policy, server api.Version, gv schema.GroupVersion) string {
	lines := []string{
		"Pod Security admission: cluster-wide defaults and exemptions.",
		"Install: start kube-apiserver with --admission-control-config-file=<this file>",
		"and restart it to apply a change. A server reads only one such file: if yours",
		"has one already, move the PodSecurity entry under its plugins instead.",
		"The defaults apply to every mode (enforce, audit, warn) that a namespace's",
		"pod-security.kubernetes.io labels leave unset; exempt requests are not checked.",
		fmt.Sprintf("Written for Kubernetes %s (PodSecurityConfiguration %s).", serverName(server), gv),
	}
	switch gv {
	case admissionv1alpha1.SchemeGroupVersion:
		lines = append(lines, "PodSecurity is alpha in 1.22: also pass --feature-gates=PodSecurity=true.")
	case admissionv1beta1.SchemeGroupVersion:
		lines = append(lines, "PodSecurity is beta and on by default here; PodSecurityPolicy, if enabled,",
			"still admits or rejects pods independently of it.")
	}
	if pinsNewer(defaults, server) {
		lines = append(lines, "A default pins a Pod Security version newer than the server: until it is",
			"upgraded, the server evaluates that version with the newest checks it has.")
	}
	return "# " + strings.Join(lines, "\n# ") + "\n"
}

// pinsNewer reports whether a default names a PSS version newer than the
// server release.
func pinsNewer(defaults api.Policy, server api.Version) bool {
	for _, lv := range []api.LevelVersion{defaults.Enforce, defaults.Audit, defaults.Warn} {
		if !lv.Version.Latest() && server.Older(lv.Version) {
			return true
		}
	}
	return false
}

func serverName(server api.Version) string {
	if server.Latest() {
		return fmt.Sprintf("v1.%d and later", v1Minor)
	}
	return server.String()
}

// ReadConfiguration reads an AdmissionConfiguration file and returns the
// configuration of its PodSecurity entry as the plugin loads it: strictly
// decoded by the library's own loader (any of v1alpha1, v1beta1, v1),
// defaulted, and validated. Unlike kube-apiserver, which falls back to the
// plugin's defaults, it refuses a file without a PodSecurity entry or with
// one that points at a separate file (path), since a configuration this
// package writes has one embedded entry.
func ReadConfiguration(data []byte) (*admissionapi.PodSecurityConfiguration, error) {
	var ac admissionConfiguration
	if err := yaml.UnmarshalStrict(data, &ac); err != nil {
		return nil, fmt.Errorf("reading the admission configuration: %w", err)
	}
	if ac.APIVersion != admissionConfigAPIVersion || ac.Kind != admissionConfigKind {
		return nil, fmt.Errorf("want apiVersion %s, kind %s; got %q, %q", admissionConfigAPIVersion, admissionConfigKind, ac.APIVersion, ac.Kind)
	}
	var entries []admissionPlugin
	for _, p := range ac.Plugins {
		if p.Name == PluginName {
			entries = append(entries, p)
		}
	}
	switch {
	case len(entries) != 1:
		return nil, fmt.Errorf("want one %s plugin entry, have %d", PluginName, len(entries))
	case entries[0].Path != "" || len(entries[0].Configuration) == 0:
		return nil, fmt.Errorf("the %s entry must embed its configuration", PluginName)
	}
	cfg, err := load.LoadFromData(entries[0].Configuration)
	if err != nil {
		return nil, fmt.Errorf("loading the %s configuration: %w", PluginName, err)
	}
	if err := validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
