package psp

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validPSP is the docs' restricted policy, which a 1.24 apiserver accepts.
func validPSP() *PodSecurityPolicy {
	no := false
	return &PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "restricted"},
		Spec: PodSecurityPolicySpec{
			AllowPrivilegeEscalation: &no,
			RequiredDropCapabilities: []corev1.Capability{"ALL"},
			Volumes:                  []FSType{ConfigMap, EmptyDir, Projected, Secret, DownwardAPI, PersistentVolumeClaim},
			RunAsUser:                RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAsNonRoot},
			SELinux:                  SELinuxStrategyOptions{Rule: SELinuxStrategyRunAsAny},
			SupplementalGroups: SupplementalGroupsStrategyOptions{
				Rule: SupplementalGroupsStrategyMustRunAs, Ranges: []IDRange{{Min: 1, Max: 65535}},
			},
			FSGroup: FSGroupStrategyOptions{Rule: FSGroupStrategyMustRunAs, Ranges: []IDRange{{Min: 1, Max: 65535}}},
		},
	}
}

// fieldsAndTypes renders errors as "field: type" for comparison.
func fieldsAndTypes(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Field+": "+e.Type.String())
	}
	return out
}

func ptr[T any](v T) *T { return &v }

type validateCase struct {
	name   string
	mutate func(p *PodSecurityPolicy)
	// want lists "field: error type" in the order 1.24 reports them;
	// empty means the apiserver accepts the PSP.
	want []string
}

func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validPSP()
			tc.mutate(p)
			got := fieldsAndTypes(Validate(p))
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(got, want) {
				t.Errorf("errors:\n got %q\nwant %q\n(%v)", got, want, Validate(p))
			}
		})
	}
}

func TestValidateAcceptsTheRestrictedPolicy(t *testing.T) {
	if errs := Validate(validPSP()); len(errs) != 0 {
		t.Fatalf("restricted PSP rejected: %v", errs)
	}
}

func TestValidateMetadata(t *testing.T) { runValidateCases(t, validateMetadataCases()) }

func validateMetadataCases() []validateCase {
	return []validateCase{
		{
			name:   "name with an underscore is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Name = "no_host_pid" },
			want:   []string{"metadata.name: Invalid value"},
		},
		{
			name:   "name with a space is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Name = "my policy" },
			want:   []string{"metadata.name: Invalid value"},
		},
		{
			name:   "name with capitals is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Name = "Restricted" },
			want:   []string{"metadata.name: Invalid value"},
		},
		{
			name:   "name of 254 characters is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Name = strings.Repeat("a", 254) },
			want:   []string{"metadata.name: Invalid value"},
		},
		{
			name:   "dotted name is a valid DNS subdomain",
			mutate: func(p *PodSecurityPolicy) { p.Name = "gce.unprivileged-addon" },
		},
		{
			name:   "missing name is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Name = "" },
			want:   []string{"metadata.name: Required value"},
		},
		{
			name:   "generateName alone is accepted: the server makes the name",
			mutate: func(p *PodSecurityPolicy) { p.Name, p.GenerateName = "", "psp-" },
		},
		{
			name:   "namespace on a cluster-scoped PSP is cleared, not rejected",
			mutate: func(p *PodSecurityPolicy) { p.Namespace = "ingress-nginx" },
		},
		{
			name:   "label with an invalid key is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Labels = map[string]string{"bad key": "x"} },
			want:   []string{"metadata.labels: Invalid value"},
		},
		{
			name:   "finalizer without a domain is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Finalizers = []string{"finalizersValue"} },
			want:   []string{"metadata.finalizers[0]: Invalid value"},
		},
		{
			name:   "standard and domain-qualified finalizers are accepted",
			mutate: func(p *PodSecurityPolicy) { p.Finalizers = []string{"orphan", "example.com/cleanup"} },
		},
		{
			name: "invalid managedFields are ignored: the field manager rewrites them",
			mutate: func(p *PodSecurityPolicy) {
				p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "x", Operation: "operationValue"}}
			},
		},
	}
}

func TestValidateProfileAnnotations(t *testing.T) {
	runValidateCases(t, validateProfileAnnotationCases())
}

func validateProfileAnnotationCases() []validateCase {
	annotate := func(kv ...string) func(p *PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) {
			p.Annotations = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				p.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	const (
		seccompAllowed  = "metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: Invalid value"
		seccompDefault  = "metadata.annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]: Invalid value"
		appArmorAllowed = "metadata.annotations[apparmor.security.beta.kubernetes.io/allowedProfileNames]: Invalid value"
		appArmorDefault = "metadata.annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]: Invalid value"
	)
	return []validateCase{
		{
			name: "seccomp runtime/default, docker/default, unconfined, localhost and * are accepted",
			mutate: annotate(SeccompAllowedProfilesAnnotation, "runtime/default,docker/default,unconfined,localhost/profiles/audit.json,*",
				SeccompDefaultProfileAnnotation, "docker/default"),
		},
		{
			name:   "seccomp default profile that does not exist is rejected",
			mutate: annotate(SeccompDefaultProfileAnnotation, "not-good"),
			want:   []string{seccompDefault},
		},
		{
			name:   "seccomp default profile * is rejected",
			mutate: annotate(SeccompDefaultProfileAnnotation, "*"),
			want:   []string{seccompDefault},
		},
		{
			name:   "seccomp allowed list with an unknown profile is rejected",
			mutate: annotate(SeccompAllowedProfilesAnnotation, "runtime/default,not-good"),
			want:   []string{seccompAllowed},
		},
		{
			name:   "seccomp allowed list with a trailing comma is rejected: the empty profile is not valid",
			mutate: annotate(SeccompAllowedProfilesAnnotation, "runtime/default,"),
			want:   []string{seccompAllowed},
		},
		{
			name:   "seccomp localhost profile with an absolute path is rejected",
			mutate: annotate(SeccompAllowedProfilesAnnotation, "localhost//etc/profile.json"),
			want:   []string{seccompAllowed},
		},
		{
			name:   "seccomp localhost profile climbing out with .. is rejected",
			mutate: annotate(SeccompDefaultProfileAnnotation, "localhost/../profile.json"),
			want:   []string{seccompDefault},
		},
		{
			name:   "seccomp names are case-sensitive",
			mutate: annotate(SeccompDefaultProfileAnnotation, "Runtime/Default"),
			want:   []string{seccompDefault},
		},
		{
			name: "AppArmor runtime/default, unconfined and localhost profiles are accepted",
			mutate: annotate(AppArmorAllowedProfilesAnnotation, "runtime/default,unconfined,localhost/k8s-nginx",
				AppArmorDefaultProfileAnnotation, "runtime/default"),
		},
		{
			name:   "AppArmor allowed list with a trailing comma is accepted: the empty profile is valid",
			mutate: annotate(AppArmorAllowedProfilesAnnotation, "runtime/default,"),
		},
		{
			name:   "AppArmor default profile without localhost/ is rejected",
			mutate: annotate(AppArmorDefaultProfileAnnotation, "k8s-nginx"),
			want:   []string{appArmorDefault},
		},
		{
			name:   "AppArmor allowed list reports each bad profile",
			mutate: annotate(AppArmorAllowedProfilesAnnotation, "docker/default,*"),
			want:   []string{appArmorAllowed, appArmorAllowed},
		},
	}
}

func TestValidateStrategies(t *testing.T) { runValidateCases(t, validateStrategyCases()) }

func validateStrategyCases() []validateCase {
	return []validateCase{
		{
			name:   "runAsUser without a rule is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.RunAsUser = RunAsUserStrategyOptions{} },
			want:   []string{"spec.runAsUser.rule: Unsupported value"},
		},
		{
			name:   "runAsUser rule MustRunAsRange does not exist",
			mutate: func(p *PodSecurityPolicy) { p.Spec.RunAsUser.Rule = "MustRunAsRange" },
			want:   []string{"spec.runAsUser.rule: Unsupported value"},
		},
		{
			name:   "runAsUser MustRunAs without ranges passes validation",
			mutate: func(p *PodSecurityPolicy) { p.Spec.RunAsUser.Rule = RunAsUserStrategyMustRunAs },
		},
		{
			name: "runAsUser range with min greater than max is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: []IDRange{{Min: 1, Max: 10}, {Min: 20, Max: 10}}}
			},
			want: []string{"spec.runAsUser.ranges[1].min: Invalid value"},
		},
		{
			name: "runAsUser negative max is rejected twice: negative and below min",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: []IDRange{{Min: 0, Max: -1}}}
			},
			want: []string{"spec.runAsUser.ranges[0].max: Invalid value", "spec.runAsUser.ranges[0].min: Invalid value"},
		},
		{
			name: "runAsUser negative min is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyRunAsAny, Ranges: []IDRange{{Min: -5, Max: 5}}}
			},
			want: []string{"spec.runAsUser.ranges[0].min: Invalid value"},
		},
		{
			name: "runAsUser range with min 0 is accepted",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: []IDRange{{Min: 0, Max: 0}}}
			},
		},
		{
			name: "runAsGroup RunAsAny with ranges is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: RunAsGroupStrategyRunAsAny, Ranges: []IDRange{{Min: 1, Max: 2}}}
			},
			want: []string{"spec.runAsGroup.ranges: Invalid value"},
		},
		{
			name: "runAsGroup MustRunAs without ranges is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: RunAsGroupStrategyMustRunAs}
			},
			want: []string{"spec.runAsGroup.ranges: Invalid value"},
		},
		{
			name: "runAsGroup MayRunAs without ranges is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: RunAsGroupStrategyMayRunAs}
			},
			want: []string{"spec.runAsGroup.ranges: Invalid value"},
		},
		{
			name: "runAsGroup MayRunAs range with min greater than max is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: RunAsGroupStrategyMayRunAs, Ranges: []IDRange{{Min: 40, Max: 30}}}
			},
			want: []string{"spec.runAsGroup.ranges[0].min: Invalid value"},
		},
		{
			name:   "runAsGroup present without a rule is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{} },
			want:   []string{"spec.runAsGroup.rule: Unsupported value"},
		},
		{
			name:   "seLinux without a rule is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.SELinux = SELinuxStrategyOptions{} },
			want:   []string{"spec.seLinux.rule: Unsupported value"},
		},
		{
			name:   "seLinux MustRunAs without seLinuxOptions passes validation",
			mutate: func(p *PodSecurityPolicy) { p.Spec.SELinux.Rule = SELinuxStrategyMustRunAs },
		},
		{
			name:   "supplementalGroups without a rule is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.SupplementalGroups = SupplementalGroupsStrategyOptions{} },
			want:   []string{"spec.supplementalGroups.rule: Unsupported value"},
		},
		{
			name: "supplementalGroups MustRunAs without ranges passes validation",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.SupplementalGroups = SupplementalGroupsStrategyOptions{Rule: SupplementalGroupsStrategyMustRunAs}
			},
		},
		{
			name:   "fsGroup without a rule is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.FSGroup = FSGroupStrategyOptions{} },
			want:   []string{"spec.fsGroup.rule: Unsupported value"},
		},
		{
			name:   "fsGroup range with min greater than max is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.FSGroup.Ranges = []IDRange{{Min: 65535, Max: 1}} },
			want:   []string{"spec.fsGroup.ranges[0].min: Invalid value"},
		},
		{
			name: "all four required strategies missing, as in the Falco fixtures",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec = PodSecurityPolicySpec{HostPID: false}
			},
			want: []string{
				"spec.runAsUser.rule: Unsupported value", "spec.seLinux.rule: Unsupported value",
				"spec.supplementalGroups.rule: Unsupported value", "spec.fsGroup.rule: Unsupported value",
			},
		},
	}
}

func TestValidateVolumesAndHostAccess(t *testing.T) {
	runValidateCases(t, validateVolumeAndHostCases())
}

func validateVolumeAndHostCases() []validateCase {
	return []validateCase{
		{
			name:   "unknown volume type is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.Volumes = []FSType{Secret, "volumesValue"} },
			want:   []string{"spec.volumes: Unsupported value"},
		},
		{
			name:   "volume types are case-sensitive",
			mutate: func(p *PodSecurityPolicy) { p.Spec.Volumes = []FSType{"ConfigMap"} },
			want:   []string{"spec.volumes: Unsupported value"},
		},
		{
			name:   "volume * and ephemeral are accepted",
			mutate: func(p *PodSecurityPolicy) { p.Spec.Volumes = []FSType{All, Ephemeral, CSI} },
		},
		{
			name: "allowedHostPaths entry without a prefix is rejected, and checking stops there",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.AllowedHostPaths = []AllowedHostPath{{PathPrefix: "/ok"}, {}, {PathPrefix: "/a/../b"}}
			},
			want: []string{"spec.allowedHostPaths[1]: Required value"},
		},
		{
			name:   "allowedHostPaths prefix with a .. element is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.AllowedHostPaths = []AllowedHostPath{{PathPrefix: "/var/../etc"}} },
			want:   []string{"spec.allowedHostPaths[0]: Invalid value"},
		},
		{
			name: "allowedHostPaths prefix with ..foo is not a step up",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.AllowedHostPaths = []AllowedHostPath{{PathPrefix: "/var/..foo"}, {PathPrefix: "relative"}}
			},
		},
		{
			name: "allowedFlexVolumes entry without a driver is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.AllowedFlexVolumes = []AllowedFlexVolume{{Driver: "example/lvm"}, {}}
			},
			want: []string{"spec.allowedFlexVolumes[1].driver: Required value"},
		},
		{
			name: "allowedCSIDrivers name in capitals is accepted: it is checked lowercased",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.AllowedCSIDrivers = []AllowedCSIDriver{{Name: "Disk.CSI.Example.com"}}
			},
		},
		{
			name:   "allowedCSIDrivers empty name is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.AllowedCSIDrivers = []AllowedCSIDriver{{}} },
			want:   []string{"spec.allowedCSIDrivers[0].name: Required value", "spec.allowedCSIDrivers[0].name: Invalid value"},
		},
		{
			name:   "allowedCSIDrivers name with an underscore is rejected",
			mutate: func(p *PodSecurityPolicy) { p.Spec.AllowedCSIDrivers = []AllowedCSIDriver{{Name: "csi_driver"}} },
			want:   []string{"spec.allowedCSIDrivers[0].name: Invalid value"},
		},
		{
			name: "allowedCSIDrivers name of 64 characters is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.AllowedCSIDrivers = []AllowedCSIDriver{{Name: strings.Repeat("a", 64)}}
			},
			want: []string{"spec.allowedCSIDrivers[0].name: Too long"},
		},
		{
			name:   "hostPorts max 65536 is accepted: 1.24 does not validate host port ranges",
			mutate: func(p *PodSecurityPolicy) { p.Spec.HostPorts = []HostPortRange{{Min: 1, Max: 65536}} },
		},
		{
			name: "hostPorts range with min greater than max is accepted too",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.HostPorts = []HostPortRange{{Min: 200, Max: 100}, {Min: -1, Max: 0}}
			},
		},
	}
}

func TestValidateCapabilitiesAndEscalation(t *testing.T) {
	runValidateCases(t, validateCapabilityAndEscalationCases())
}

func validateCapabilityAndEscalationCases() []validateCase {
	caps := func(names ...corev1.Capability) []corev1.Capability { return names }
	return []validateCase{
		{
			name: "requiredDropCapabilities with allowedCapabilities * is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.AllowedCapabilities = caps("*")
			},
			want: []string{"spec.requiredDropCapabilities: Invalid value"},
		},
		{
			name: "allowedCapabilities * without required drops is accepted",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RequiredDropCapabilities, p.Spec.AllowedCapabilities = nil, caps("*")
			},
		},
		{
			name: "capability both dropped and allowed is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RequiredDropCapabilities, p.Spec.AllowedCapabilities = caps("NET_RAW", "SYS_ADMIN"), caps("CHOWN", "SYS_ADMIN")
			},
			want: []string{"spec.allowedCapabilities: Invalid value"},
		},
		{
			name: "capability both dropped and added by default is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RequiredDropCapabilities, p.Spec.DefaultAddCapabilities = caps("NET_RAW"), caps("NET_RAW")
			},
			want: []string{"spec.defaultAddCapabilities: Invalid value"},
		},
		{
			name: "dropping ALL does not conflict with allowing a named capability",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.AllowedCapabilities = caps("NET_BIND_SERVICE")
			},
		},
		{
			name: "capability names are compared as written: drop all, allow ALL",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.RequiredDropCapabilities, p.Spec.AllowedCapabilities = caps("all"), caps("ALL")
			},
		},
		{
			name: "defaultAllowPrivilegeEscalation true with allowPrivilegeEscalation false is rejected",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.DefaultAllowPrivilegeEscalation = ptr(true)
			},
			want: []string{"spec.defaultAllowPrivilegeEscalation: Invalid value"},
		},
		{
			name: "defaultAllowPrivilegeEscalation true with allowPrivilegeEscalation omitted is accepted: the server defaults it to true",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.DefaultAllowPrivilegeEscalation, p.Spec.AllowPrivilegeEscalation = ptr(true), nil
			},
		},
		{
			name: "defaultAllowPrivilegeEscalation false with allowPrivilegeEscalation false is accepted",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.DefaultAllowPrivilegeEscalation = ptr(false)
			},
		},
		{
			name: "allowedProcMountTypes with an unknown type is accepted: 1.24 drops the field before validation",
			mutate: func(p *PodSecurityPolicy) {
				p.Spec.AllowedProcMountTypes = []corev1.ProcMountType{"allowedProcMountTypesValue"}
			},
		},
	}
}

func TestValidateSysctls(t *testing.T) { runValidateCases(t, validateSysctlCases()) }

func validateSysctlCases() []validateCase {
	sysctls := func(allowed, forbidden []string) func(p *PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) { p.Spec.AllowedUnsafeSysctls, p.Spec.ForbiddenSysctls = allowed, forbidden }
	}
	list := func(s ...string) []string { return s }
	return []validateCase{
		{
			name:   "sysctl names and prefix patterns are accepted",
			mutate: sysctls(list("kernel.msg*", "net.core.somaxconn"), list("kernel.shm_rmid_forced", "vm.*")),
		},
		{
			name:   "empty sysctl is rejected",
			mutate: sysctls(list(""), nil),
			want:   []string{"spec.allowedUnsafeSysctls[0]: Invalid value"},
		},
		{
			name:   "sysctl in capitals is rejected",
			mutate: sysctls(nil, list("forbiddenSysctlsValue")),
			want:   []string{"spec.forbiddenSysctls[0]: Invalid value"},
		},
		{
			name:   "sysctl with a slash is rejected in a PSP",
			mutate: sysctls(list("net/ipv4/ip_forward"), nil),
			want:   []string{"spec.allowedUnsafeSysctls[0]: Invalid value"},
		},
		{
			name:   "* alone is accepted",
			mutate: sysctls(nil, list("*")),
		},
		{
			name:   "* with other sysctls is rejected",
			mutate: sysctls(nil, list("*", "kernel.msgmax")),
			want:   []string{"spec.forbiddenSysctls.items: Forbidden"},
		},
		{
			name:   "the same sysctl allowed and forbidden is rejected on the allowed side",
			mutate: sysctls(list("kernel.msgmax"), list("kernel.msgmax")),
			want:   []string{"spec.allowedUnsafeSysctls[0]: Invalid value"},
		},
		{
			name:   "allowed pattern covering a forbidden sysctl is rejected on the forbidden side",
			mutate: sysctls(list("kernel.*"), list("vm.swappiness", "kernel.msgmax")),
			want:   []string{"spec.forbiddenSysctls[1]: Invalid value"},
		},
		{
			name:   "forbidden pattern covering an allowed sysctl is rejected on the allowed side",
			mutate: sysctls(list("kernel.msgmax"), list("kernel.*")),
			want:   []string{"spec.allowedUnsafeSysctls[0]: Invalid value"},
		},
		{
			name:   "narrower allowed pattern inside a forbidden pattern is rejected on the allowed side",
			mutate: sysctls(list("kernel.msg*"), list("kernel.*")),
			want:   []string{"spec.allowedUnsafeSysctls[0]: Invalid value"},
		},
		{
			name:   "narrower forbidden pattern inside an allowed pattern is rejected on the forbidden side",
			mutate: sysctls(list("kernel.*"), list("kernel.msg*")),
			want:   []string{"spec.forbiddenSysctls[0]: Invalid value"},
		},
		{
			name:   "disjoint patterns are accepted",
			mutate: sysctls(list("kernel.msg*"), list("kernel.shm*")),
		},
	}
}

func TestValidateRuntimeClass(t *testing.T) { runValidateCases(t, validateRuntimeClassCases()) }

func validateRuntimeClassCases() []validateCase {
	rc := func(defaultName *string, allowed ...string) func(p *PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) {
			p.Spec.RuntimeClass = &RuntimeClassStrategyOptions{AllowedRuntimeClassNames: allowed, DefaultRuntimeClassName: defaultName}
		}
	}
	return []validateCase{
		{
			name:   "default runtime class that is allowed is accepted",
			mutate: rc(ptr("gvisor"), "gvisor", "kata"),
		},
		{
			name:   "empty allowed list without a default is accepted",
			mutate: rc(nil),
		},
		{
			name:   "default runtime class that is not allowed is rejected",
			mutate: rc(ptr("gvisor"), "kata"),
			want:   []string{"spec.runtimeClass.allowedRuntimeClassNames: Required value"},
		},
		{
			name:   "* allows any default",
			mutate: rc(ptr("gvisor"), "*"),
		},
		{
			name:   "* with other names is rejected",
			mutate: rc(nil, "*", "kata"),
			want:   []string{"spec.runtimeClass.allowedRuntimeClassNames: Invalid value"},
		},
		{
			name:   "duplicate runtime class name is rejected",
			mutate: rc(nil, "kata", "kata"),
			want:   []string{"spec.runtimeClass.allowedRuntimeClassNames[1]: Duplicate value"},
		},
		{
			name:   "runtime class names must be DNS subdomains",
			mutate: rc(ptr("Default_Class"), "Default_Class"),
			want: []string{
				"spec.runtimeClass.allowedRuntimeClassNames[0]: Invalid value",
				"spec.runtimeClass.defaultRuntimeClassName: Invalid value",
			},
		},
	}
}

func TestValidateDoesNotChangeThePolicy(t *testing.T) {
	p := validPSP()
	p.Namespace, p.Spec.AllowPrivilegeEscalation = "ns", nil
	p.Spec.AllowedProcMountTypes = []corev1.ProcMountType{corev1.UnmaskedProcMount}
	Validate(p)
	if p.Namespace != "ns" || p.Spec.AllowPrivilegeEscalation != nil || len(p.Spec.AllowedProcMountTypes) != 1 {
		t.Errorf("Validate changed the policy: %+v", p)
	}
}
