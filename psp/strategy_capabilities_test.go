package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func capabilities(add, drop []corev1.Capability) func(*corev1.Pod) {
	return func(p *corev1.Pod) { containerSC(p).Capabilities = &corev1.Capabilities{Add: add, Drop: drop} }
}

func caps(names ...corev1.Capability) []corev1.Capability { return names }

func TestAdmitCapabilities(t *testing.T) { runAdmitCases(t, capabilitiesCases()) }

func capabilitiesCases() []admitCase {
	requiredDrop := func(names ...corev1.Capability) func(*PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) { p.Spec.RequiredDropCapabilities = names }
	}
	return []admitCase{
		{
			name: "no capability fields leave containers alone",
		},
		{
			name:   "adding a capability needs it allowed",
			pod:    capabilities(caps("foo"), nil),
			errors: []string{"spec.containers[0].securityContext.capabilities.add: Invalid value: capability may not be added"},
		},
		{
			name: "allowedCapabilities allows an add",
			psp:  func(p *PodSecurityPolicy) { p.Spec.AllowedCapabilities = caps("foo") },
			pod:  capabilities(caps("foo"), nil),
		},
		{
			name: "defaultAddCapabilities allows an add without allowedCapabilities",
			psp:  func(p *PodSecurityPolicy) { p.Spec.DefaultAddCapabilities = caps("foo") },
			pod:  capabilities(caps("foo"), nil),
		},
		{
			name: "allowedCapabilities * allows any add and skips required drops",
			psp: func(p *PodSecurityPolicy) {
				p.Spec.AllowedCapabilities = caps("*")
				p.Spec.DefaultAddCapabilities = caps("NET_ADMIN")
			},
			pod:      capabilities(caps("SYS_ADMIN"), nil),
			defaults: capabilities(caps("NET_ADMIN", "SYS_ADMIN"), nil),
		},
		{
			name:     "requiredDrop is written into a container without capabilities",
			psp:      requiredDrop("ALL"),
			defaults: capabilities(nil, caps("ALL")),
		},
		{
			name: "requiredDrop already dropped leaves the container alone",
			psp:  requiredDrop("ALL"),
			pod:  capabilities(nil, caps("ALL")),
		},
		{
			name:     "requiredDrop is merged with the container's drops, sorted",
			psp:      requiredDrop("SETUID", "NET_RAW"),
			pod:      capabilities(nil, caps("SYS_PTRACE", "NET_RAW")),
			defaults: capabilities(nil, caps("NET_RAW", "SETUID", "SYS_PTRACE")),
		},
		{
			name:     "capability names are case sensitive: dropping all still gets ALL",
			psp:      requiredDrop("ALL"),
			pod:      capabilities(nil, caps("all")),
			defaults: capabilities(nil, caps("ALL", "all")),
		},
		{
			name:     "defaultAddCapabilities is added to every container",
			psp:      func(p *PodSecurityPolicy) { p.Spec.DefaultAddCapabilities = caps("NET_ADMIN", "CHOWN") },
			defaults: capabilities(caps("CHOWN", "NET_ADMIN"), nil),
		},
		{
			name:     "a default add the container drops is not added",
			psp:      func(p *PodSecurityPolicy) { p.Spec.DefaultAddCapabilities = caps("NET_ADMIN", "CHOWN") },
			pod:      capabilities(nil, caps("CHOWN")),
			defaults: capabilities(caps("NET_ADMIN"), caps("CHOWN")),
		},
		{
			name: "a rewritten add list is deduplicated and sorted, and is still checked",
			psp: func(p *PodSecurityPolicy) {
				p.Spec.RequiredDropCapabilities = caps("ALL")
				p.Spec.AllowedCapabilities = caps("NET_BIND_SERVICE")
			},
			pod:      capabilities(caps("SYS_TIME", "NET_BIND_SERVICE", "SYS_TIME"), nil),
			defaults: capabilities(caps("NET_BIND_SERVICE", "SYS_TIME"), caps("ALL")),
			errors:   []string{"spec.containers[0].securityContext.capabilities.add: Invalid value: capability may not be added"},
		},
	}
}

func TestCapabilitiesStrategyValidate(t *testing.T) {
	// The checks the defaults normally make unreachable (1.24
	// capabilities_test.go TestValidateAdds and TestValidateDrops).
	tests := []struct {
		name   string
		spec   PodSecurityPolicySpec
		caps   *corev1.Capabilities
		errors []string
	}{
		{
			name: "no required capabilities and none set",
		},
		{
			name:   "required drops but no capabilities",
			spec:   PodSecurityPolicySpec{RequiredDropCapabilities: caps("ALL")},
			errors: []string{"caps: Invalid value: required capabilities are not set on the securityContext"},
		},
		{
			name:   "default adds but no capabilities",
			spec:   PodSecurityPolicySpec{DefaultAddCapabilities: caps("CHOWN")},
			errors: []string{"caps: Invalid value: required capabilities are not set on the securityContext"},
		},
		{
			name: "a missing required drop is reported per capability",
			spec: PodSecurityPolicySpec{RequiredDropCapabilities: caps("NET_RAW", "SETUID")},
			caps: &corev1.Capabilities{Drop: caps("NET_RAW")},
			errors: []string{
				"caps.drop: Invalid value: SETUID is required to be dropped but was not found",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCapabilitiesStrategy(&tc.spec)
			assertStrings(t, describeErrors(s.validate(fieldPath("caps"), tc.caps)), tc.errors)
		})
	}
}
