package psp

import corev1 "k8s.io/api/core/v1"

// effectiveSecurityContext reads a container's security settings the way
// 1.24's securitycontext.NewEffectiveContainerSecurityContextAccessor did:
// the container's value, else the pod's for the fields a pod can set.
// Capabilities, privileged, procMount, readOnlyRootFilesystem and
// allowPrivilegeEscalation exist on containers only.
type effectiveSecurityContext struct {
	pod       *corev1.PodSecurityContext // may be nil
	container *corev1.Container
}

func (e effectiveSecurityContext) sc() *corev1.SecurityContext {
	if e.container.SecurityContext == nil {
		return &corev1.SecurityContext{}
	}
	return e.container.SecurityContext
}

func (e effectiveSecurityContext) podSC() *corev1.PodSecurityContext {
	if e.pod == nil {
		return &corev1.PodSecurityContext{}
	}
	return e.pod
}

func (e effectiveSecurityContext) runAsUser() *int64 {
	return firstNonNil(e.sc().RunAsUser, e.podSC().RunAsUser)
}

func (e effectiveSecurityContext) runAsGroup() *int64 {
	return firstNonNil(e.sc().RunAsGroup, e.podSC().RunAsGroup)
}

func (e effectiveSecurityContext) runAsNonRoot() *bool {
	return firstNonNil(e.sc().RunAsNonRoot, e.podSC().RunAsNonRoot)
}

func (e effectiveSecurityContext) seLinuxOptions() *corev1.SELinuxOptions {
	return firstNonNil(e.sc().SELinuxOptions, e.podSC().SELinuxOptions)
}

func (e effectiveSecurityContext) capabilities() *corev1.Capabilities {
	return e.sc().Capabilities
}

func (e effectiveSecurityContext) privileged() *bool { return e.sc().Privileged }

func (e effectiveSecurityContext) readOnlyRootFilesystem() *bool {
	return e.sc().ReadOnlyRootFilesystem
}

func (e effectiveSecurityContext) allowPrivilegeEscalation() *bool {
	return e.sc().AllowPrivilegeEscalation
}

// procMount is Default when unset.
func (e effectiveSecurityContext) procMount() corev1.ProcMountType {
	if pm := e.sc().ProcMount; pm != nil {
		return *pm
	}
	return corev1.DefaultProcMount
}

func firstNonNil[T any](values ...*T) *T {
	for _, v := range values {
		if v != nil {
			return v
		}
	}
	return nil
}

// podSecurityContext returns the pod's security context, creating it only
// when a default is about to be written into it, so that a pod the PSP
// leaves alone stays equal to the original.
func podSecurityContext(pod *corev1.Pod) *corev1.PodSecurityContext {
	if pod.Spec.SecurityContext == nil {
		pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return pod.Spec.SecurityContext
}

// containerSecurityContext is podSecurityContext for a container.
func containerSecurityContext(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}
