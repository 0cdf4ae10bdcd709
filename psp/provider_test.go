package psp

import (
	"fmt"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAdmitHostNamespaces(t *testing.T) { runAdmitCases(t, hostNamespacesCases()) }

func hostNamespacesCases() []admitCase {
	return []admitCase{
		{
			name: "host namespaces are rejected by default, at 1.24's internal paths",
			pod:  func(p *corev1.Pod) { p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true },
			errors: []string{
				"spec.securityContext.hostNetwork: Invalid value: Host network is not allowed to be used",
				"spec.securityContext.hostPID: Invalid value: Host PID is not allowed to be used",
				"spec.securityContext.hostIPC: Invalid value: Host IPC is not allowed to be used",
			},
		},
		{
			name: "each PSP field allows its namespace",
			psp: func(p *PodSecurityPolicy) {
				p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true
			},
			pod: func(p *corev1.Pod) { p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true },
		},
		{
			// 1.24 never looked at windowsOptions.hostProcess; pod
			// validation only wants hostNetwork beside it.
			name: "hostNetwork admits a Windows HostProcess pod unchanged",
			psp:  func(p *PodSecurityPolicy) { p.Spec.HostNetwork = true },
			pod: func(p *corev1.Pod) {
				p.Spec.HostNetwork = true
				podSC(p).WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: new(true)}
			},
		},
		{
			name: "a Windows HostProcess pod is rejected for hostNetwork alone",
			pod: func(p *corev1.Pod) {
				p.Spec.HostNetwork = true
				podSC(p).WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: new(true)}
			},
			errors: []string{"spec.securityContext.hostNetwork: Invalid value: Host network is not allowed to be used"},
		},
		{
			name:   "hostPID alone does not allow hostIPC",
			psp:    func(p *PodSecurityPolicy) { p.Spec.HostPID = true },
			pod:    func(p *corev1.Pod) { p.Spec.HostPID, p.Spec.HostIPC = true, true },
			errors: []string{"spec.securityContext.hostIPC: Invalid value: Host IPC is not allowed to be used"},
		},
	}
}

func TestAdmitHostPorts(t *testing.T) { runAdmitCases(t, hostPortsCases()) }

func hostPortsCases() []admitCase {
	ports := func(ps ...int32) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			for _, port := range ps {
				p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{ContainerPort: 80, HostPort: port})
			}
		}
	}
	ranges := func(rs ...HostPortRange) func(*PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) { p.Spec.HostPorts = rs }
	}
	return []admitCase{
		{
			name: "container ports without host ports need nothing",
			pod:  ports(0),
		},
		{
			name:   "no ranges allow no host port",
			pod:    ports(1),
			errors: []string{"spec.containers[0].hostPort: Invalid value: Host port 1 is not allowed to be used. Allowed ports: []"},
		},
		{
			name: "a port inside a range is allowed, ends included",
			psp:  ranges(HostPortRange{Min: 80, Max: 80}, HostPortRange{Min: 8000, Max: 8080}),
			pod:  ports(80, 8000, 8080),
		},
		{
			name: "each port outside every range is reported",
			psp:  ranges(HostPortRange{Min: 80, Max: 80}, HostPortRange{Min: 8000, Max: 8080}),
			pod:  ports(79, 443, 8081),
			errors: []string{
				"spec.containers[0].hostPort: Invalid value: Host port 79 is not allowed to be used. Allowed ports: [80,8000-8080]",
				"spec.containers[0].hostPort: Invalid value: Host port 443 is not allowed to be used. Allowed ports: [80,8000-8080]",
				"spec.containers[0].hostPort: Invalid value: Host port 8081 is not allowed to be used. Allowed ports: [80,8000-8080]",
			},
		},
		{
			name: "ranges are used as written, even past 65535",
			psp:  ranges(HostPortRange{Min: 0, Max: 65536}),
			pod:  ports(65535),
		},
	}
}

func TestAdmitPrivilegedAndProcMount(t *testing.T) { runAdmitCases(t, privilegedAndProcMountCases()) }

func privilegedAndProcMountCases() []admitCase {
	privileged := func(v bool) func(*corev1.Pod) {
		return func(p *corev1.Pod) { containerSC(p).Privileged = new(v) }
	}
	procMount := func(v corev1.ProcMountType) func(*corev1.Pod) {
		return func(p *corev1.Pod) { containerSC(p).ProcMount = new(v) }
	}
	return []admitCase{
		{
			name:   "privileged container is rejected",
			pod:    privileged(true),
			errors: []string{"spec.containers[0].securityContext.privileged: Invalid value: Privileged containers are not allowed"},
		},
		{
			name: "privileged: false is fine",
			pod:  privileged(false),
		},
		{
			name: "privileged PSP allows privileged containers",
			psp:  func(p *PodSecurityPolicy) { p.Spec.Privileged = true },
			pod:  privileged(true),
		},
		{
			name: "procMount Default is fine",
			pod:  procMount(corev1.DefaultProcMount),
		},
		{
			name:   "procMount Unmasked is rejected",
			pod:    procMount(corev1.UnmaskedProcMount),
			errors: []string{"spec.containers[0].securityContext.procMount: Invalid value: ProcMountType is not allowed"},
		},
		{
			// The 1.24 server dropped allowedProcMountTypes (feature gate off).
			name: "procMount Unmasked is rejected even when the PSP lists it",
			psp: func(p *PodSecurityPolicy) {
				p.Spec.AllowedProcMountTypes = []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount}
			},
			pod:    procMount(corev1.UnmaskedProcMount),
			errors: []string{"spec.containers[0].securityContext.procMount: Invalid value: ProcMountType is not allowed"},
		},
	}
}

func TestAdmitReadOnlyRootFilesystem(t *testing.T) { runAdmitCases(t, readOnlyRootFilesystemCases()) }

func readOnlyRootFilesystemCases() []admitCase {
	// 1.24 TestGenerateContainerSecurityContextReadOnlyRootFS and the
	// readOnlyRootFilesystem cases of TestValidateContainer*.
	readOnlyPSP := func(p *PodSecurityPolicy) { p.Spec.ReadOnlyRootFilesystem = true }
	readOnly := func(v bool) func(*corev1.Pod) {
		return func(p *corev1.Pod) { containerSC(p).ReadOnlyRootFilesystem = new(v) }
	}
	return []admitCase{
		{name: "false PSP, unset", pod: nil},
		{name: "false PSP, false", pod: readOnly(false)},
		{name: "false PSP, true", pod: readOnly(true)},
		{name: "true PSP, unset is defaulted to true", psp: readOnlyPSP, defaults: readOnly(true)},
		{
			name:   "true PSP, false is kept and rejected",
			psp:    readOnlyPSP,
			pod:    readOnly(false),
			errors: []string{"spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: ReadOnlyRootFilesystem must be set to true"},
		},
		{name: "true PSP, true", psp: readOnlyPSP, pod: readOnly(true)},
	}
}

func TestAdmitAllowPrivilegeEscalation(t *testing.T) {
	runAdmitCases(t, allowPrivilegeEscalationCases())
}

func allowPrivilegeEscalationCases() []admitCase {
	// 1.24 TestAllowPrivilegeEscalation: every valid combination of the
	// PSP's allowPrivilegeEscalation (APE), defaultAllowPrivilegeEscalation
	// (DAPE) and the container's APE. A nil PSP APE means true.
	tests := []struct {
		pspAPE    *bool
		pspDAPE   *bool
		podAPE    *bool
		expectErr bool
		expectAPE *bool
	}{
		{new(true), nil, nil, false, nil},
		{new(true), nil, new(false), false, new(false)},
		{new(true), nil, new(true), false, new(true)},
		{new(true), new(false), nil, false, new(false)},
		{new(true), new(false), new(false), false, new(false)},
		{new(true), new(false), new(true), false, new(true)},
		{new(true), new(true), nil, false, new(true)},
		{new(true), new(true), new(false), false, new(false)},
		{new(true), new(true), new(true), false, new(true)},
		{new(false), nil, nil, false, new(false)},
		{new(false), nil, new(false), false, new(false)},
		{new(false), nil, new(true), true, new(true)},
		{new(false), new(false), nil, false, new(false)},
		{new(false), new(false), new(false), false, new(false)},
		{new(false), new(false), new(true), true, new(true)},
		{nil, nil, nil, false, nil},
		{nil, new(false), nil, false, new(false)},
	}
	var cases []admitCase
	for _, tc := range tests {
		var errors []string
		if tc.expectErr {
			errors = []string{"spec.containers[0].securityContext.allowPrivilegeEscalation: Invalid value: Allowing privilege escalation for containers is not allowed"}
		}
		cases = append(cases, admitCase{
			name: fmt.Sprintf("pspAPE:%s pspDAPE:%s podAPE:%s", fmtBool(tc.pspAPE), fmtBool(tc.pspDAPE), fmtBool(tc.podAPE)),
			psp: func(p *PodSecurityPolicy) {
				p.Spec.AllowPrivilegeEscalation = tc.pspAPE
				p.Spec.DefaultAllowPrivilegeEscalation = tc.pspDAPE
			},
			pod: func(p *corev1.Pod) {
				if tc.podAPE != nil {
					containerSC(p).AllowPrivilegeEscalation = new(*tc.podAPE)
				}
			},
			defaults: func(p *corev1.Pod) {
				if tc.expectAPE != nil {
					containerSC(p).AllowPrivilegeEscalation = new(*tc.expectAPE)
				}
			},
			errors: errors,
		})
	}
	return cases
}

func fmtBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	return strconv.FormatBool(*b)
}

func TestAdmitCoreValidationConflicts(t *testing.T) { runAdmitCases(t, coreValidationConflictsCases()) }

func coreValidationConflictsCases() []admitCase {
	const (
		privilegedConflict = "spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
		sysAdminConflict   = "spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"
	)
	noEscalation := func(p *PodSecurityPolicy) {
		p.Spec.Privileged = true
		p.Spec.AllowPrivilegeEscalation = new(false)
		p.Spec.AllowedCapabilities = caps("*")
	}
	return []admitCase{
		{
			// The PSP writes allowPrivilegeEscalation: false into the
			// privileged container, which core validation then rejects: such
			// a PSP admits no privileged pod.
			name:     "privileged PSP without escalation rejects privileged pods it defaults",
			psp:      noEscalation,
			pod:      func(p *corev1.Pod) { containerSC(p).Privileged = new(true) },
			defaults: func(p *corev1.Pod) { containerSC(p).AllowPrivilegeEscalation = new(false) },
			errors:   []string{privilegedConflict},
		},
		{
			name: "privileged pod asking for escalation is rejected by the PSP instead",
			psp:  noEscalation,
			pod: func(p *corev1.Pod) {
				containerSC(p).Privileged = new(true)
				containerSC(p).AllowPrivilegeEscalation = new(true)
			},
			errors: []string{"spec.containers[0].securityContext.allowPrivilegeEscalation: Invalid value: Allowing privilege escalation for containers is not allowed"},
		},
		{
			name:     "CAP_SYS_ADMIN spelled with the prefix conflicts with no escalation",
			psp:      noEscalation,
			pod:      capabilities(caps("CAP_SYS_ADMIN"), nil),
			defaults: func(p *corev1.Pod) { containerSC(p).AllowPrivilegeEscalation = new(false) },
			errors:   []string{sysAdminConflict},
		},
		{
			name:     "SYS_ADMIN without the prefix does not",
			psp:      noEscalation,
			pod:      capabilities(caps("SYS_ADMIN"), nil),
			defaults: func(p *corev1.Pod) { containerSC(p).AllowPrivilegeEscalation = new(false) },
		},
		{
			name: "the conflict is rejected even under a PSP that allows everything",
			psp:  func(p *PodSecurityPolicy) { p.Spec.Privileged = true },
			pod: func(p *corev1.Pod) {
				containerSC(p).Privileged = new(true)
				containerSC(p).AllowPrivilegeEscalation = new(false)
			},
			errors: []string{privilegedConflict},
		},
	}
}

func TestAdmitRuntimeClass(t *testing.T) { runAdmitCases(t, runtimeClassCases()) }

func runtimeClassCases() []admitCase {
	// 1.24 TestDefaultRuntimeClassName and TestAllowedRuntimeClassNames.
	strategy := func(allowed []string, defaultName *string) func(*PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) {
			p.Spec.RuntimeClass = &RuntimeClassStrategyOptions{AllowedRuntimeClassNames: allowed, DefaultRuntimeClassName: defaultName}
		}
	}
	runtimeClass := func(name string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.RuntimeClassName = new(name) }
	}
	return []admitCase{
		{name: "no strategy allows any class", pod: runtimeClass("bad")},
		{name: "empty strategy allows an unset class", psp: strategy([]string{}, nil)},
		{
			name:   "empty strategy rejects any class",
			psp:    strategy([]string{}, nil),
			pod:    runtimeClass("good"),
			errors: []string{"spec.runtimeClassName: Invalid value: "},
		},
		{name: "named class is allowed", psp: strategy([]string{"good"}, nil), pod: runtimeClass("good")},
		{
			name:   "other class is rejected",
			psp:    strategy([]string{"good"}, nil),
			pod:    runtimeClass("bad"),
			errors: []string{"spec.runtimeClassName: Invalid value: "},
		},
		{name: "* allows any class", psp: strategy([]string{"*"}, new("foo")), pod: runtimeClass("bad")},
		{name: "default is written into an unset class", psp: strategy([]string{"*"}, new("foo")), defaults: runtimeClass("foo")},
		{name: "default does not replace a set class", psp: strategy([]string{"*"}, new("foo")), pod: runtimeClass("tim")},
		{
			// 1.24 did not check the default against the allowed list
			// before writing it (policy validation did, on PSP create).
			name:          "a default outside the allowed list is written and rejected",
			psp:           strategy([]string{"good"}, new("foo")),
			defaults:      runtimeClass("foo"),
			errors:        []string{"spec.runtimeClassName: Invalid value: "},
			invalidPolicy: `default "foo" must be allowed`,
		},
	}
}

func TestAdmitSysctls(t *testing.T) { runAdmitCases(t, sysctlsCases()) }

func sysctlsCases() []admitCase {
	sysctls := func(names ...string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			for _, n := range names {
				podSC(p).Sysctls = append(podSC(p).Sysctls, corev1.Sysctl{Name: n, Value: "1"})
			}
		}
	}
	return []admitCase{
		{name: "safe sysctls are allowed by default", pod: sysctls(SafeSysctls()...)},
		{
			name:   "unsafe sysctls are rejected by default",
			pod:    sysctls("kernel.sem"),
			errors: []string{`pod.spec.securityContext.sysctls[0]: Forbidden: unsafe sysctl "kernel.sem" is not allowed`},
		},
		{
			// Added to the kubelet's safe list after 1.24.
			name:   "net.ipv4.ip_local_reserved_ports was not safe in 1.24",
			pod:    sysctls("net.ipv4.ip_local_reserved_ports"),
			errors: []string{`pod.spec.securityContext.sysctls[0]: Forbidden: unsafe sysctl "net.ipv4.ip_local_reserved_ports" is not allowed`},
		},
		{
			name: "allowedUnsafeSysctls by name and by prefix",
			psp:  func(p *PodSecurityPolicy) { p.Spec.AllowedUnsafeSysctls = []string{"kernel.sem", "net.core.*"} },
			pod:  sysctls("kernel.sem", "net.core.somaxconn"),
		},
		{
			name: "allowedUnsafeSysctls * allows everything",
			psp:  func(p *PodSecurityPolicy) { p.Spec.AllowedUnsafeSysctls = []string{"*"} },
			pod:  sysctls("kernel.sem", "kernel.shm_rmid_forced"),
		},
		{
			name: "forbiddenSysctls rejects even a safe sysctl",
			psp:  func(p *PodSecurityPolicy) { p.Spec.ForbiddenSysctls = []string{"kernel.shm_rmid_forced"} },
			pod:  sysctls("net.ipv4.tcp_syncookies", "kernel.shm_rmid_forced"),
			errors: []string{
				`pod.spec.securityContext.sysctls[1]: Forbidden: sysctl "kernel.shm_rmid_forced" is not allowed`,
			},
		},
		{
			name: "forbiddenSysctls * rejects everything, before allowedUnsafe",
			psp: func(p *PodSecurityPolicy) {
				p.Spec.ForbiddenSysctls = []string{"*"}
				p.Spec.AllowedUnsafeSysctls = []string{"kernel.sem"}
			},
			pod: sysctls("kernel.shm_rmid_forced", "kernel.sem"),
			errors: []string{
				`pod.spec.securityContext.sysctls[0]: Forbidden: sysctl "kernel.shm_rmid_forced" is not allowed`,
				`pod.spec.securityContext.sysctls[1]: Forbidden: sysctl "kernel.sem" is not allowed`,
			},
			invalidPolicy: `"kernel.sem": sysctl overlaps with *`,
		},
	}
}
