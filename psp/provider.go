package psp

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// provider is one PSP ready to default and check pods: the 1.24
// simpleProvider with the strategies its factory built
// (pkg/security/podsecuritypolicy/provider.go and factory.go).
type provider struct {
	spec               *PodSecurityPolicySpec
	runAsUser          userStrategy
	runAsGroup         groupStrategy
	fsGroup            groupStrategy
	supplementalGroups groupStrategy
	seLinux            seLinuxStrategy
	seccomp            seccompStrategy
	appArmor           appArmorStrategy
	capabilities       capabilitiesStrategy
	sysctls            sysctlStrategy
}

// newProvider builds the strategies of a PSP. A PSP whose strategies cannot
// be built (unknown rule, MustRunAs without ranges or options) never got a
// provider in 1.24: the plugin skipped it. The errors name the PSP field,
// under a "podSecurityPolicy" root to keep them apart from pod paths.
func newProvider(p *PodSecurityPolicy) (*provider, field.ErrorList) {
	spec := &p.Spec
	root := field.NewPath("podSecurityPolicy", "spec")
	var errs field.ErrorList
	fail := func(path *field.Path, value any, err error) {
		if err != nil {
			errs = append(errs, field.Invalid(path, value, err.Error()))
		}
	}

	prov := &provider{
		spec:         spec,
		seccomp:      newSeccompStrategy(p),
		appArmor:     newAppArmorStrategy(p),
		capabilities: newCapabilitiesStrategy(spec),
		sysctls:      newSysctlStrategy(spec),
	}
	var err error
	prov.runAsUser, err = newUserStrategy(spec.RunAsUser)
	fail(root.Child("runAsUser"), spec.RunAsUser, err)
	prov.runAsGroup, err = newRunAsGroupStrategy(spec.RunAsGroup)
	fail(root.Child("runAsGroup"), spec.RunAsGroup, err)
	prov.seLinux, err = newSELinuxStrategy(spec.SELinux)
	fail(root.Child("seLinux"), spec.SELinux, err)
	prov.fsGroup, err = newGroupStrategy("FSGroup", string(spec.FSGroup.Rule), spec.FSGroup.Ranges)
	fail(root.Child("fsGroup"), spec.FSGroup, err)
	prov.supplementalGroups, err = newGroupStrategy("SupplementalGroups", string(spec.SupplementalGroups.Rule), spec.SupplementalGroups.Ranges)
	fail(root.Child("supplementalGroups"), spec.SupplementalGroups, err)
	if len(errs) > 0 {
		return nil, errs
	}
	return prov, nil
}

// mutatePod writes the PSP's defaults into the pod: pod-level values
// first, then every container (1.24 MutatePod).
func (p *provider) mutatePod(pod *corev1.Pod) {
	sc := pod.Spec.SecurityContext
	// 1.24 tested for nil, but an empty list never reached it from a
	// controller or a typed client: protobuf and omitempty turn it into nil.
	if sc == nil || len(sc.SupplementalGroups) == 0 {
		if groups := p.supplementalGroups.generate(); len(groups) > 0 {
			podSecurityContext(pod).SupplementalGroups = groups
		}
	}
	if sc == nil || sc.FSGroup == nil {
		if gid := p.fsGroup.generateSingle(); gid != nil {
			podSecurityContext(pod).FSGroup = gid
		}
	}
	if sc == nil || sc.SELinuxOptions == nil {
		if options := p.seLinux.generate(); options != nil {
			podSecurityContext(pod).SELinuxOptions = options
		}
	}

	// Seccomp is defaulted at pod level only; containers inherit it.
	if profile := p.seccomp.generate(pod); profile != "" {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[SeccompPodAnnotation] = profile
	}

	mutateRuntimeClass(p.spec.RuntimeClass, pod)

	visitContainers(&pod.Spec, func(c *corev1.Container, _ *field.Path) {
		p.mutateContainer(pod, c)
	})
}

// mutateContainer writes the PSP's defaults into a container wherever its
// effective value (container, else pod) is unset (1.24 mutateContainer).
func (p *provider) mutateContainer(pod *corev1.Pod, c *corev1.Container) {
	eff := effectiveSecurityContext{pod: pod.Spec.SecurityContext, container: c}

	if eff.runAsUser() == nil {
		if uid := p.runAsUser.generate(); uid != nil {
			containerSecurityContext(c).RunAsUser = uid
		}
	}
	if eff.runAsGroup() == nil {
		if gid := p.runAsGroup.generateSingle(); gid != nil {
			containerSecurityContext(c).RunAsGroup = gid
		}
	}
	if eff.seLinuxOptions() == nil {
		if options := p.seLinux.generate(); options != nil {
			containerSecurityContext(c).SELinuxOptions = options
		}
	}

	p.appArmor.generate(pod, c)

	// runAsNonRoot: true tells the kubelet to check the image's user when
	// no UID is set.
	if eff.runAsNonRoot() == nil && eff.runAsUser() == nil && p.spec.RunAsUser.Rule == RunAsUserStrategyMustRunAsNonRoot {
		containerSecurityContext(c).RunAsNonRoot = new(true)
	}

	if caps := p.capabilities.generate(c); !reflect.DeepEqual(eff.capabilities(), caps) {
		containerSecurityContext(c).Capabilities = caps
	}

	if p.spec.ReadOnlyRootFilesystem && eff.readOnlyRootFilesystem() == nil {
		containerSecurityContext(c).ReadOnlyRootFilesystem = new(true)
	}

	if p.spec.DefaultAllowPrivilegeEscalation != nil && eff.allowPrivilegeEscalation() == nil {
		containerSecurityContext(c).AllowPrivilegeEscalation = new(*p.spec.DefaultAllowPrivilegeEscalation)
	}
	if !p.spec.AllowPrivilegeEscalationOrDefault() && eff.allowPrivilegeEscalation() == nil {
		containerSecurityContext(c).AllowPrivilegeEscalation = new(false)
	}
}

// validatePod checks the pod and every container against the PSP (1.24
// ValidatePod). The paths are 1.24's, which used the internal pod type:
// hostNetwork, hostPID and hostIPC sit under spec.securityContext there.
func (p *provider) validatePod(pod *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	scPath := field.NewPath("spec", "securityContext")
	sc := pod.Spec.SecurityContext
	if sc == nil {
		sc = &corev1.PodSecurityContext{}
	}

	var fsGroups []int64
	if sc.FSGroup != nil {
		fsGroups = []int64{*sc.FSGroup}
	}
	errs = append(errs, p.fsGroup.validate(scPath.Child("fsGroup"), fsGroups)...)
	errs = append(errs, p.supplementalGroups.validate(scPath.Child("supplementalGroups"), sc.SupplementalGroups)...)
	errs = append(errs, p.seccomp.validatePod(pod)...)
	errs = append(errs, p.seLinux.validate(scPath.Child("seLinuxOptions"), sc.SELinuxOptions)...)
	errs = append(errs, p.validateHostNamespaces(pod, scPath)...)
	errs = append(errs, p.sysctls.validate(pod)...)
	errs = append(errs, p.validateVolumes(pod)...)
	errs = append(errs, validateRuntimeClass(p.spec.RuntimeClass, pod)...)

	visitContainers(&pod.Spec, func(c *corev1.Container, path *field.Path) {
		errs = append(errs, p.validateContainer(pod, c, path)...)
	})
	return errs
}

// validateHostNamespaces checks spec.hostNetwork, spec.hostPID and
// spec.hostIPC: each needs the PSP field of the same name.
func (p *provider) validateHostNamespaces(pod *corev1.Pod, scPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !p.spec.HostNetwork && pod.Spec.HostNetwork {
		errs = append(errs, field.Invalid(scPath.Child("hostNetwork"), true, "Host network is not allowed to be used"))
	}
	if !p.spec.HostPID && pod.Spec.HostPID {
		errs = append(errs, field.Invalid(scPath.Child("hostPID"), true, "Host PID is not allowed to be used"))
	}
	if !p.spec.HostIPC && pod.Spec.HostIPC {
		errs = append(errs, field.Invalid(scPath.Child("hostIPC"), true, "Host IPC is not allowed to be used"))
	}
	return errs
}

// validateContainer checks one container's effective security context
// (1.24 validateContainer).
func (p *provider) validateContainer(pod *corev1.Pod, c *corev1.Container, containerPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	eff := effectiveSecurityContext{pod: pod.Spec.SecurityContext, container: c}
	scPath := containerPath.Child("securityContext")

	errs = append(errs, p.runAsUser.validate(scPath, eff.runAsNonRoot(), eff.runAsUser())...)
	var runAsGroups []int64
	if gid := eff.runAsGroup(); gid != nil {
		runAsGroups = []int64{*gid}
	}
	// 1.24 reported runAsGroup errors at the securityContext itself.
	errs = append(errs, p.runAsGroup.validate(scPath, runAsGroups)...)
	errs = append(errs, p.seLinux.validate(scPath.Child("seLinuxOptions"), eff.seLinuxOptions())...)
	errs = append(errs, p.appArmor.validate(pod, c)...)
	errs = append(errs, p.seccomp.validateContainer(pod, c)...)

	if privileged := eff.privileged(); !p.spec.Privileged && privileged != nil && *privileged {
		errs = append(errs, field.Invalid(scPath.Child("privileged"), *privileged, "Privileged containers are not allowed"))
	}
	errs = append(errs, validateProcMount(scPath, eff.procMount())...)
	errs = append(errs, p.capabilities.validate(scPath.Child("capabilities"), eff.capabilities())...)
	errs = append(errs, validateHostPorts(p.spec.HostPorts, c, containerPath)...)
	errs = append(errs, p.validateReadOnlyRootFilesystem(scPath, eff.readOnlyRootFilesystem())...)

	allowEscalation := eff.allowPrivilegeEscalation()
	if !p.spec.AllowPrivilegeEscalationOrDefault() && (allowEscalation == nil || *allowEscalation) {
		errs = append(errs, field.Invalid(scPath.Child("allowPrivilegeEscalation"), allowEscalation, "Allowing privilege escalation for containers is not allowed"))
	}
	return errs
}

// validateProcMount allows only the Default proc mount. The 1.24 server
// had the ProcMountType feature gate off and dropped
// spec.allowedProcMountTypes when it stored a PSP, so whatever the PSP
// says, every procMount: Unmasked container was rejected.
func validateProcMount(scPath *field.Path, procMount corev1.ProcMountType) field.ErrorList {
	if procMount == corev1.DefaultProcMount {
		return nil
	}
	return field.ErrorList{field.Invalid(scPath.Child("procMount"), procMount, "ProcMountType is not allowed")}
}

func (p *provider) validateReadOnlyRootFilesystem(scPath *field.Path, readOnly *bool) field.ErrorList {
	if !p.spec.ReadOnlyRootFilesystem {
		return nil
	}
	path := scPath.Child("readOnlyRootFilesystem")
	if readOnly == nil {
		return field.ErrorList{field.Invalid(path, readOnly, "ReadOnlyRootFilesystem may not be nil and must be set to true")}
	}
	if !*readOnly {
		return field.ErrorList{field.Invalid(path, *readOnly, "ReadOnlyRootFilesystem must be set to true")}
	}
	return nil
}

// visitContainers calls visit for every init, regular and ephemeral
// container, in that order, with its field path (1.24
// pods.VisitContainersWithPath with the EphemeralContainers gate on, as it
// was by default).
func visitContainers(spec *corev1.PodSpec, visit func(c *corev1.Container, path *field.Path)) {
	specPath := field.NewPath("spec")
	for i := range spec.InitContainers {
		visit(&spec.InitContainers[i], specPath.Child("initContainers").Index(i))
	}
	for i := range spec.Containers {
		visit(&spec.Containers[i], specPath.Child("containers").Index(i))
	}
	for i := range spec.EphemeralContainers {
		visit((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon), specPath.Child("ephemeralContainers").Index(i))
	}
}
