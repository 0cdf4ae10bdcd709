package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAdmitSELinux(t *testing.T) { runAdmitCases(t, seLinuxCases()) }

func seLinuxCases() []admitCase {
	mustRunAs := func(opts corev1.SELinuxOptions) func(*PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) {
			p.Spec.SELinux = SELinuxStrategyOptions{Rule: SELinuxStrategyMustRunAs, SELinuxOptions: &opts}
		}
	}
	full := corev1.SELinuxOptions{User: "user", Role: "role", Type: "type", Level: "s0:c1,c2"}
	podOptions := func(opts corev1.SELinuxOptions) func(*corev1.Pod) {
		return func(p *corev1.Pod) { podSC(p).SELinuxOptions = &opts }
	}
	return []admitCase{
		{
			name: "RunAsAny admits any options",
			pod:  podOptions(corev1.SELinuxOptions{User: "root", Type: "spc_t"}),
		},
		{
			// The pod gets the options; the container inherits them and is
			// left alone.
			name:     "MustRunAs defaults the pod's options only",
			psp:      mustRunAs(full),
			defaults: podOptions(full),
		},
		{
			name: "MustRunAs admits equal options with categories in another order",
			psp:  mustRunAs(full),
			pod:  podOptions(corev1.SELinuxOptions{User: "user", Role: "role", Type: "type", Level: "s0:c2,c1"}),
		},
		{
			name: "MustRunAs rejects other options at the pod and at the inheriting container",
			psp:  mustRunAs(corev1.SELinuxOptions{Level: "foo"}),
			pod:  podOptions(corev1.SELinuxOptions{Level: "bar", Type: "spc_t"}),
			errors: []string{
				"spec.securityContext.seLinuxOptions.level: Invalid value: must be foo",
				"spec.securityContext.seLinuxOptions.type: Invalid value: must be ",
				"spec.containers[0].securityContext.seLinuxOptions.level: Invalid value: must be foo",
				"spec.containers[0].securityContext.seLinuxOptions.type: Invalid value: must be ",
			},
		},
		{
			name: "MustRunAs checks a container's own options",
			psp:  mustRunAs(corev1.SELinuxOptions{Level: "foo"}),
			pod: func(p *corev1.Pod) {
				podSC(p).SELinuxOptions = &corev1.SELinuxOptions{Level: "foo"}
				containerSC(p).SELinuxOptions = &corev1.SELinuxOptions{Level: "bar"}
			},
			errors: []string{"spec.containers[0].securityContext.seLinuxOptions.level: Invalid value: must be foo"},
		},
		{
			name:     "MustRunAs defaults the pod even when a container has its own options",
			psp:      mustRunAs(corev1.SELinuxOptions{Level: "foo"}),
			pod:      func(p *corev1.Pod) { containerSC(p).SELinuxOptions = &corev1.SELinuxOptions{Level: "foo"} },
			defaults: podOptions(corev1.SELinuxOptions{Level: "foo"}),
		},
	}
}

func TestEqualSELinuxLevels(t *testing.T) {
	tests := []struct {
		expected, actual string
		want             bool
	}{
		{"s0:c1,c2", "s0:c1,c2", true},
		{"s0:c6,c0", "s0:c0,c6", true},
		{"s0:c1,c2", "s1:c1,c2", false},
		{"s0:c1,c2", "s0:c1", false},
		{"s0", "s0:c1", false},
		{"", "", true},
		{"s0:c1", "", false},
	}
	for _, tc := range tests {
		if got := equalSELinuxLevels(tc.expected, tc.actual); got != tc.want {
			t.Errorf("equalSELinuxLevels(%q, %q) = %v, want %v", tc.expected, tc.actual, got, tc.want)
		}
	}
}

func TestSELinuxStrategyRequiresOptions(t *testing.T) {
	s, err := newSELinuxStrategy(SELinuxStrategyOptions{Rule: SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Level: "s0"}})
	if err != nil {
		t.Fatal(err)
	}
	assertStrings(t, describeErrors(s.validate(fieldPath("se"), nil)), []string{"se: Required value: "})
}
