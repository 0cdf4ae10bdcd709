package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func mustRunAsUser(ranges ...IDRange) func(*PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: ranges}
	}
}

func mustRunAsNonRoot(p *PodSecurityPolicy) {
	p.Spec.RunAsUser = RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAsNonRoot}
}

func TestAdmitRunAsUser(t *testing.T) { runAdmitCases(t, runAsUserCases()) }

func runAsUserCases() []admitCase {
	twoRanges := mustRunAsUser(IDRange{Min: 1000, Max: 2000}, IDRange{Min: 5000, Max: 6000})
	runAsUser := func(uid int64) func(*corev1.Pod) {
		return func(p *corev1.Pod) { containerSC(p).RunAsUser = new(uid) }
	}
	podRunAsUser := func(uid int64) func(*corev1.Pod) {
		return func(p *corev1.Pod) { podSC(p).RunAsUser = new(uid) }
	}
	return []admitCase{
		{
			name: "RunAsAny admits root and writes nothing",
			pod:  runAsUser(0),
		},
		{
			// and writes no runAsNonRoot: restricted's runAsNonRoot check
			// fails the pod, though root is out.
			name:     "MustRunAs defaults an unset UID to the first range's min, and nothing else",
			psp:      twoRanges,
			defaults: runAsUser(1000),
		},
		{
			name: "MustRunAs admits a container UID in the second range unchanged",
			psp:  twoRanges,
			pod:  runAsUser(5500),
		},
		{
			name: "MustRunAs rejects a container UID between the ranges",
			psp:  twoRanges,
			pod:  runAsUser(3000),
			errors: []string{
				"spec.containers[0].securityContext.runAsUser: Invalid value: must be in the ranges: [{1000 2000} {5000 6000}]",
			},
		},
		{
			name: "MustRunAs reads the pod's UID when the container has none and writes nothing",
			psp:  twoRanges,
			pod:  podRunAsUser(2000),
		},
		{
			name:   "MustRunAs rejects the pod's UID at the container path",
			psp:    twoRanges,
			pod:    podRunAsUser(0),
			errors: []string{"spec.containers[0].securityContext.runAsUser: Invalid value: must be in the ranges: [{1000 2000} {5000 6000}]"},
		},
		{
			name: "MustRunAs lets a container UID override a bad pod UID",
			psp:  twoRanges,
			pod: func(p *corev1.Pod) {
				podSC(p).RunAsUser = new(int64(0))
				containerSC(p).RunAsUser = new(int64(1500))
			},
		},
		{
			name:     "MustRunAs with min 0 defaults to root",
			psp:      mustRunAsUser(IDRange{Min: 0, Max: 65535}),
			defaults: runAsUser(0),
		},
		{
			name:     "MustRunAsNonRoot marks a container without UID runAsNonRoot",
			psp:      mustRunAsNonRoot,
			defaults: func(p *corev1.Pod) { containerSC(p).RunAsNonRoot = new(true) },
		},
		{
			name: "MustRunAsNonRoot admits a non-zero UID without runAsNonRoot unchanged",
			psp:  mustRunAsNonRoot,
			pod:  runAsUser(1000),
		},
		{
			name: "MustRunAsNonRoot admits pod-level runAsNonRoot unchanged",
			psp:  mustRunAsNonRoot,
			pod:  func(p *corev1.Pod) { podSC(p).RunAsNonRoot = new(true) },
		},
		{
			name:   "MustRunAsNonRoot rejects UID 0",
			psp:    mustRunAsNonRoot,
			pod:    runAsUser(0),
			errors: []string{"spec.containers[0].securityContext.runAsUser: Invalid value: running with the root UID is forbidden"},
		},
		{
			name:   "MustRunAsNonRoot rejects pod-level UID 0",
			psp:    mustRunAsNonRoot,
			pod:    podRunAsUser(0),
			errors: []string{"spec.containers[0].securityContext.runAsUser: Invalid value: running with the root UID is forbidden"},
		},
		{
			name:   "MustRunAsNonRoot rejects runAsNonRoot false and does not overwrite it",
			psp:    mustRunAsNonRoot,
			pod:    func(p *corev1.Pod) { containerSC(p).RunAsNonRoot = new(false) },
			errors: []string{"spec.containers[0].securityContext.runAsNonRoot: Invalid value: must be true"},
		},
		{
			name: "MustRunAsNonRoot: container runAsNonRoot false beats pod true",
			psp:  mustRunAsNonRoot,
			pod: func(p *corev1.Pod) {
				podSC(p).RunAsNonRoot = new(true)
				containerSC(p).RunAsNonRoot = new(false)
			},
			errors: []string{"spec.containers[0].securityContext.runAsNonRoot: Invalid value: must be true"},
		},
	}
}

func TestUserStrategyValidate(t *testing.T) {
	// 1.24 user/*_test.go: the cases Admit cannot reach because the
	// defaults always fill the field first.
	tests := []struct {
		name         string
		opts         RunAsUserStrategyOptions
		runAsNonRoot *bool
		runAsUser    *int64
		errors       []string
	}{
		{
			name:   "MustRunAs requires a UID",
			opts:   RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAs, Ranges: []IDRange{{Min: 1, Max: 1}}},
			errors: []string{"sc.runAsUser: Required value: "},
		},
		{
			name:   "MustRunAsNonRoot requires runAsNonRoot or a UID",
			opts:   RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAsNonRoot},
			errors: []string{"sc.runAsNonRoot: Required value: must be true"},
		},
		{
			name:         "MustRunAsNonRoot reports runAsNonRoot false before UID 0",
			opts:         RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAsNonRoot},
			runAsNonRoot: new(false),
			runAsUser:    new(int64(0)),
			errors:       []string{"sc.runAsNonRoot: Invalid value: must be true"},
		},
		{
			name:         "MustRunAsNonRoot rejects UID 0 even with runAsNonRoot true",
			opts:         RunAsUserStrategyOptions{Rule: RunAsUserStrategyMustRunAsNonRoot},
			runAsNonRoot: new(true),
			runAsUser:    new(int64(0)),
			errors:       []string{"sc.runAsUser: Invalid value: running with the root UID is forbidden"},
		},
		{
			name:      "RunAsAny accepts anything",
			opts:      RunAsUserStrategyOptions{Rule: RunAsUserStrategyRunAsAny},
			runAsUser: new(int64(0)),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newUserStrategy(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := describeErrors(s.validate(fieldPath("sc"), tc.runAsNonRoot, tc.runAsUser))
			assertStrings(t, got, tc.errors)
		})
	}
}
