package vap

import (
	"flag"
	"github.com/psp2psa/psp2psa/internal/gapcases"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// ruleSummary is what a table expects of one rule: its field and message.
type ruleSummary struct{ field, message string }

func summaries(rules []Rule) []ruleSummary {
	out := make([]ruleSummary, len(rules))
	for i, r := range rules {
		out[i] = ruleSummary{r.Field, r.Message}
	}
	return out
}

func TestForPolicy(t *testing.T) {
	ranges := []psp.IDRange{{Min: 1000, Max: 2000}, {Min: 5000, Max: 5000}}
	cases := []struct {
		name string
		edit func(s *psp.PodSecurityPolicySpec)
		want []ruleSummary
	}{
		{"a PSP restricting nothing has no rule", func(*psp.PodSecurityPolicySpec) {}, nil},
		{"allowedHostPaths, writable prefixes only: one rule",
			func(s *psp.PodSecurityPolicySpec) {
				s.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log"}, {PathPrefix: "/run/flannel"}}
			},
			[]ruleSummary{{"allowedHostPaths", "psp p: allowedHostPaths: hostPath volumes must be under /var/log, /run/flannel"}}},
		{"allowedHostPaths with a read-only prefix: a second rule for the mounts",
			func(s *psp.PodSecurityPolicySpec) {
				s.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log"}, {PathPrefix: "/etc/ssl", ReadOnly: true}}
			},
			[]ruleSummary{
				{"allowedHostPaths", "psp p: allowedHostPaths: hostPath volumes must be under /var/log, /etc/ssl"},
				{"allowedHostPaths", "psp p: allowedHostPaths: hostPath volumes under /etc/ssl must be mounted readOnly in every container"},
			}},
		{"allowedHostPaths without hostPath in volumes restricts nothing",
			func(s *psp.PodSecurityPolicySpec) {
				s.Volumes = []psp.FSType{psp.ConfigMap}
				s.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log"}}
			},
			[]ruleSummary{{"volumes", "psp p: volumes: volumes must be of the types configMap"}}},
		{"runAsUser MustRunAs ranges",
			func(s *psp.PodSecurityPolicySpec) {
				s.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: ranges}
			},
			[]ruleSummary{{"runAsUser", "psp p: runAsUser: every container must set runAsUser (container or pod) to a UID in 1000-2000, 5000"}}},
		{"runAsUser MustRunAs without ranges admits nothing: no rule",
			func(s *psp.PodSecurityPolicySpec) {
				s.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs}
			}, nil},
		{"runAsUser MustRunAsNonRoot",
			func(s *psp.PodSecurityPolicySpec) {
				s.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}
			},
			[]ruleSummary{{"runAsUser", "psp p: runAsUser: every container must run as non-root: runAsNonRoot: true or a non-zero runAsUser (container or pod), and never runAsNonRoot: false or runAsUser: 0"}}},
		{"runAsGroup MayRunAs",
			func(s *psp.PodSecurityPolicySpec) {
				s.RunAsGroup = &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategyMayRunAs, Ranges: ranges}
			},
			[]ruleSummary{{"runAsGroup", "psp p: runAsGroup: a container's runAsGroup (container or pod), when set, must be in 1000-2000, 5000"}}},
		{"fsGroup and supplementalGroups MustRunAs",
			func(s *psp.PodSecurityPolicySpec) {
				s.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: ranges[:1]}
				s.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMustRunAs, Ranges: ranges[:1]}
			},
			[]ruleSummary{
				{"supplementalGroups", "psp p: supplementalGroups: the pod must list securityContext.supplementalGroups, each in 1000-2000"},
				{"fsGroup", "psp p: fsGroup: the pod must set securityContext.fsGroup to a GID in 1000-2000"},
			}},
		{"readOnlyRootFilesystem",
			func(s *psp.PodSecurityPolicySpec) { s.ReadOnlyRootFilesystem = true },
			[]ruleSummary{{"readOnlyRootFilesystem", "psp p: readOnlyRootFilesystem: every container must set securityContext.readOnlyRootFilesystem: true"}}},
		{"capabilities: default adds may be added too, drops are required",
			func(s *psp.PodSecurityPolicySpec) {
				s.AllowedCapabilities = []corev1.Capability{"NET_ADMIN"}
				s.DefaultAddCapabilities = []corev1.Capability{"NET_RAW", "NET_ADMIN"}
				s.RequiredDropCapabilities = []corev1.Capability{"ALL"}
			},
			[]ruleSummary{
				{"requiredDropCapabilities", "psp p: requiredDropCapabilities: every container must drop the capabilities ALL"},
				{"allowedCapabilities", "psp p: allowedCapabilities: containers may add only the capabilities NET_ADMIN, NET_RAW"},
			}},
		{"no allowed capabilities",
			func(s *psp.PodSecurityPolicySpec) { s.AllowedCapabilities = nil },
			[]ruleSummary{{"allowedCapabilities", "psp p: allowedCapabilities: containers may not add capabilities"}}},
		{"volumes: an empty list allows no volume",
			func(s *psp.PodSecurityPolicySpec) { s.Volumes = nil },
			[]ruleSummary{{"volumes", "psp p: volumes: pods may not have volumes"}}},
		{"flexVolume and CSI drivers",
			func(s *psp.PodSecurityPolicySpec) {
				s.AllowedFlexVolumes = []psp.AllowedFlexVolume{{Driver: "example.com/lvm"}}
				s.AllowedCSIDrivers = []psp.AllowedCSIDriver{{Name: "a.csi.example.com"}, {Name: "b.csi.example.com"}}
			},
			[]ruleSummary{
				{"allowedFlexVolumes", "psp p: allowedFlexVolumes: flexVolume drivers must be one of example.com/lvm"},
				{"allowedCSIDrivers", "psp p: allowedCSIDrivers: inline CSI volumes must use one of the drivers a.csi.example.com, b.csi.example.com"},
			}},
		{"forbiddenSysctls *",
			func(s *psp.PodSecurityPolicySpec) { s.ForbiddenSysctls = []string{"kernel.*", "*"} },
			[]ruleSummary{{"forbiddenSysctls", "psp p: forbiddenSysctls: pods may not set sysctls"}}},
		{"runtimeClass allowing all: no rule",
			func(s *psp.PodSecurityPolicySpec) {
				s.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"*"}}
			}, nil},
		{"runtimeClass allowing none",
			func(s *psp.PodSecurityPolicySpec) {
				s.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{}}
			},
			[]ruleSummary{{"runtimeClass", "psp p: runtimeClass: pods may not set runtimeClassName"}}},
		{"host ports 80 and 8000-8080",
			func(s *psp.PodSecurityPolicySpec) {
				s.HostPorts = []psp.HostPortRange{{Min: 80, Max: 80}, {Min: 8000, Max: 8080}}
			},
			[]ruleSummary{{"hostPorts", "psp p: hostPorts: host ports must be in 80, 8000-8080"}}},
		{"seLinux MustRunAs",
			func(s *psp.PodSecurityPolicySpec) {
				s.SELinux = psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c1,c2"}}
			},
			[]ruleSummary{{"seLinux", "psp p: seLinux: the pod must set securityContext.seLinuxOptions to type container_t, level s0:c1,c2, and a container that sets its own must set the same"}}},
		{"no host ports",
			func(s *psp.PodSecurityPolicySpec) { s.HostPorts = nil },
			[]ruleSummary{{"hostPorts", "psp p: hostPorts: containers may not use host ports"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := gapcases.PSPWith("p", tc.edit)
			if got := summaries(ForPolicy(p)); !slices.Equal(got, tc.want) {
				t.Errorf("rules:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestVolumeFieldsFollowPSP: every VolumeSource field is either the field
// of the type psp.VolumeFSType names for it, or a source 1.24 did not
// know, which it counts as emptyDir. A new source in k8s.io/api fails here
// until it is listed.
func TestVolumeFieldsFollowPSP(t *testing.T) {
	st := reflect.TypeFor[corev1.VolumeSource]()
	seen := map[psp.FSType]bool{}
	for i := range st.NumField() {
		f := st.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		var v corev1.Volume
		reflect.ValueOf(&v.VolumeSource).Elem().Field(i).Set(reflect.New(f.Type.Elem()))
		fsType := psp.VolumeFSType(v)
		switch {
		case volumeFields[fsType] == name:
			seen[fsType] = true
		case fsType == psp.EmptyDir && slices.Contains(newerVolumeSources, name):
		default:
			t.Errorf("VolumeSource.%s (%s): psp.VolumeFSType says %s, volumeFields says %q", f.Name, name, fsType, volumeFields[fsType])
		}
	}
	if len(seen) != len(volumeFields) {
		t.Errorf("volumeFields has %d types, VolumeSource %d", len(volumeFields), len(seen))
	}
}

// celWords are the CEL names expressions use that are not Pod fields.
var celWords = []string{"object", "oldObject", "request", "all", "map", "filter", "orValue", "or", "hasValue", "value", "startsWith", "split", "size", "has", "in"}

// fieldSelection finds `.name` and `.?name` selections; string literals
// are removed first.
var (
	fieldSelection = regexp.MustCompile(`\.\??([A-Za-z_][A-Za-z0-9_]*)`)
	stringLiteral  = regexp.MustCompile(`'[^']*'|"(?:[^"\\]|\\.)*"`)
)

// TestExpressionsSelectPodFields guards against misspelt fields: on the
// server an absent field behind has() or `.?` is just unset, so a typo
// would silently allow everything. Every selected name must be a JSON
// field somewhere in the Pod type, or a CEL function or variable.
func TestExpressionsSelectPodFields(t *testing.T) {
	known := jsonFieldNames(reflect.TypeFor[corev1.Pod](), map[reflect.Type]bool{})
	var rules []Rule
	for _, tc := range gapcases.Cases() {
		rules = append(rules, ForPolicy(tc.PSP)...)
	}
	expressions := []string{changedPodsOnly.Expression}
	for _, r := range rules {
		expressions = append(expressions, r.Expression)
	}
	selected := 0
	for _, e := range expressions {
		for _, m := range fieldSelection.FindAllStringSubmatch(stringLiteral.ReplaceAllString(e, "''"), -1) {
			selected++
			if !known[m[1]] && !slices.Contains(celWords, m[1]) && m[1] != "operation" && m[1] != "spec" {
				t.Errorf("%q selects %q, which is no Pod field", e, m[1])
			}
		}
	}
	if selected < 100 {
		t.Fatalf("only %d selections checked; the pattern no longer matches the expressions", selected)
	}
}

func jsonFieldNames(t reflect.Type, visited map[reflect.Type]bool) map[string]bool {
	names := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || visited[t] {
			return
		}
		visited[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				names[name] = true
			}
			walk(f.Type)
		}
	}
	walk(t)
	return names
}

func TestForGaps(t *testing.T) {
	p := gapcases.PSPWith("p", func(s *psp.PodSecurityPolicySpec) {
		s.Volumes = []psp.FSType{psp.ConfigMap, psp.HostPath}
		s.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log"}}
		s.ReadOnlyRootFilesystem = true
	})
	gaps := []convert.Gap{
		{Field: "allowedHostPaths", Message: "allowedHostPaths limits hostPath volumes to /var/log"},
		{Field: "annotations[" + psp.AppArmorAllowedProfilesAnnotation + "]", Message: "apparmor …"},
		{Field: "annotations[" + psp.SeccompAllowedProfilesAnnotation + "]", Message: "seccomp …"},
	}
	rules, unexpressed := ForGaps(p, gaps)
	if got := summaries(rules); len(got) != 1 || got[0].field != "allowedHostPaths" {
		t.Errorf("rules for the gaps: %q; want allowedHostPaths only (volumes and readOnlyRootFilesystem are no gap here)", got)
	}
	if len(unexpressed) != 2 || unexpressed[0].Field != gaps[1].Field || unexpressed[1].Field != gaps[2].Field {
		t.Errorf("unexpressed gaps: %v; want the AppArmor and seccomp annotations", unexpressed)
	}
	for _, g := range unexpressed {
		if NotExpressed(g.Field) == "" {
			t.Errorf("NotExpressed(%s) gives no reason", g.Field)
		}
	}
	if NotExpressed("volumes") != "" {
		t.Error("NotExpressed(volumes) gives a reason, but volumes is expressed")
	}
}

// TestForGapsCoversConvertGaps: over the differential cases' PSPs, every
// gap convert reports on an expressed field gets a rule, and no rule is
// there without a gap.
func TestForGapsCoversConvertGaps(t *testing.T) {
	version, err := pss.ParseVersion("latest")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range gapcases.Cases() {
		result := convert.Convert(tc.PSP, version)
		rules, unexpressed := ForGaps(tc.PSP, result.Gaps)
		for _, g := range unexpressed {
			if slices.Contains(ExpressedFields(), g.Field) {
				t.Errorf("%s: gap %s (%s) has no rule", tc.Name, g.Field, g.Message)
			}
		}
		for _, r := range rules {
			if !slices.ContainsFunc(result.Gaps, func(g convert.Gap) bool { return g.Field == r.Field }) {
				t.Errorf("%s: rule for %s, which has no gap", tc.Name, r.Field)
			}
		}
	}
}

func TestPolicyAndBinding(t *testing.T) {
	rules := []Rule{{Field: "runAsUser", Expression: "true", Message: "psp p: runAsUser: m"}}
	policy := Policy("p", rules)
	if policy.Name != "psp2psa-p" || policy.Kind != "ValidatingAdmissionPolicy" || policy.APIVersion != "admissionregistration.k8s.io/v1" {
		t.Errorf("policy identity: %s %s %s", policy.APIVersion, policy.Kind, policy.Name)
	}
	if *policy.Spec.FailurePolicy != admissionregistrationv1.Fail {
		t.Error("failurePolicy is not Fail")
	}
	rule := policy.Spec.MatchConstraints.ResourceRules[0]
	if !slices.Equal(rule.Resources, []string{"pods"}) || !slices.Equal(rule.Operations, []admissionregistrationv1.OperationType{"CREATE", "UPDATE"}) {
		t.Errorf("match: %v %v; want pods, CREATE and UPDATE", rule.Resources, rule.Operations)
	}
	if v := policy.Spec.Validations[0]; v.Expression != "true" || v.Message != "psp p: runAsUser: m" || *v.Reason != "Forbidden" {
		t.Errorf("validation: %+v", v)
	}

	actions := slices.Clone(Observe)
	binding := Binding("p", []string{"shop", "batch"}, actions)
	actions[0] = admissionregistrationv1.Deny
	if binding.Name != "psp2psa-p" || binding.Spec.PolicyName != "psp2psa-p" {
		t.Errorf("binding %s names policy %s", binding.Name, binding.Spec.PolicyName)
	}
	if !slices.Equal(binding.Spec.ValidationActions, []admissionregistrationv1.ValidationAction{"Warn", "Audit"}) {
		t.Errorf("actions %v; want Warn, Audit, unaffected by the caller's slice", binding.Spec.ValidationActions)
	}
	sel := binding.Spec.MatchResources.NamespaceSelector.MatchExpressions[0]
	if sel.Key != "kubernetes.io/metadata.name" || sel.Operator != "In" || !slices.Equal(sel.Values, []string{"batch", "shop"}) {
		t.Errorf("namespace selector %+v", sel)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/var/log":     "'/var/log'",
		"it's":         `"it's"`,
		`C:\logs`:      `"C:\\logs"`,
		"line\nbreak":  `"line\nbreak"`,
		"kernel.msg*":  "'kernel.msg*'",
		"":             "''",
		"/srv/\"x\"/y": `'/srv/"x"/y'`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCoversEveryPort(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ranges []psp.HostPortRange
		want   bool
	}{
		{"none", nil, false},
		{"0-65535", []psp.HostPortRange{{Min: 0, Max: 65535}}, true},
		{"1-65535", []psp.HostPortRange{{Min: 1, Max: 65535}}, true},
		{"2-65535 leaves port 1 out", []psp.HostPortRange{{Min: 2, Max: 65535}}, false},
		{"1-65534 leaves port 65535 out", []psp.HostPortRange{{Min: 1, Max: 65534}}, false},
		{"adjacent ranges out of order", []psp.HostPortRange{{Min: 1001, Max: 65536}, {Min: 0, Max: 1000}}, true},
		{"a gap at 1001", []psp.HostPortRange{{Min: 1002, Max: 65535}, {Min: 0, Max: 1000}}, false},
	} {
		if got := coversEveryPort(tc.ranges); got != tc.want {
			t.Errorf("%s: coversEveryPort = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestBuildersFollowTheSpec: rules come out in PodSecurityPolicySpec field
// order, as convert's gaps do, and every builder names a spec field.
func TestBuildersFollowTheSpec(t *testing.T) {
	var specFields []string
	st := reflect.TypeFor[psp.PodSecurityPolicySpec]()
	for i := range st.NumField() {
		name, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
		specFields = append(specFields, name)
	}
	last := -1
	for _, field := range ExpressedFields() {
		i := slices.Index(specFields, field)
		if i < 0 {
			t.Errorf("builder %s names no spec field", field)
		}
		if i <= last {
			t.Errorf("builder %s is out of spec order", field)
		}
		last = i
	}
}
