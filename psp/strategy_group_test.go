package psp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAdmitFSGroup(t *testing.T) { runAdmitCases(t, fsGroupCases()) }

func fsGroupCases() []admitCase {
	rule := func(r FSGroupStrategyType, ranges ...IDRange) func(*PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) { p.Spec.FSGroup = FSGroupStrategyOptions{Rule: r, Ranges: ranges} }
	}
	fsGroup := func(gid int64) func(*corev1.Pod) {
		return func(p *corev1.Pod) { podSC(p).FSGroup = new(gid) }
	}
	return []admitCase{
		{
			name: "RunAsAny writes nothing and admits root",
			pod:  fsGroup(0),
		},
		{
			name:     "MustRunAs defaults the pod's fsGroup to the first range's min",
			psp:      rule(FSGroupStrategyMustRunAs, IDRange{Min: 1, Max: 65535}, IDRange{Min: 0, Max: 0}),
			defaults: fsGroup(1),
		},
		{
			name: "MustRunAs admits an fsGroup in range unchanged",
			psp:  rule(FSGroupStrategyMustRunAs, IDRange{Min: 1, Max: 5}),
			pod:  fsGroup(3),
		},
		{
			name:   "MustRunAs rejects an fsGroup out of range",
			psp:    rule(FSGroupStrategyMustRunAs, IDRange{Min: 1, Max: 1}),
			pod:    fsGroup(999),
			errors: []string{"spec.securityContext.fsGroup: Invalid value: group 999 must be in the ranges: [{1 1}]"},
		},
		{
			name: "MayRunAs writes nothing when unset",
			psp:  rule(FSGroupStrategyMayRunAs, IDRange{Min: 1, Max: 5}),
		},
		{
			name:   "MayRunAs rejects an fsGroup out of every range",
			psp:    rule(FSGroupStrategyMayRunAs, IDRange{Min: 10, Max: 20}, IDRange{Min: 1000, Max: 1001}),
			pod:    fsGroup(999),
			errors: []string{"spec.securityContext.fsGroup: Invalid value: group 999 must be in the ranges: [{10 20} {1000 1001}]"},
		},
	}
}

func TestAdmitSupplementalGroups(t *testing.T) { runAdmitCases(t, supplementalGroupsCases()) }

func supplementalGroupsCases() []admitCase {
	rule := func(r SupplementalGroupsStrategyType, ranges ...IDRange) func(*PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) {
			p.Spec.SupplementalGroups = SupplementalGroupsStrategyOptions{Rule: r, Ranges: ranges}
		}
	}
	groups := func(gids ...int64) func(*corev1.Pod) {
		return func(p *corev1.Pod) { podSC(p).SupplementalGroups = gids }
	}
	return []admitCase{
		{
			name: "RunAsAny writes nothing",
			pod:  groups(0, 5),
		},
		{
			name:     "MustRunAs defaults to the first range's min",
			psp:      rule(SupplementalGroupsStrategyMustRunAs, IDRange{Min: 1, Max: 65535}),
			defaults: groups(1),
		},
		{
			name: "MustRunAs admits groups in range unchanged",
			psp:  rule(SupplementalGroupsStrategyMustRunAs, IDRange{Min: 1, Max: 5}),
			pod:  groups(3),
		},
		{
			name: "MustRunAs reports every group out of range",
			psp:  rule(SupplementalGroupsStrategyMustRunAs, IDRange{Min: 1, Max: 1}),
			pod:  groups(0, 1, 999),
			errors: []string{
				"spec.securityContext.supplementalGroups: Invalid value: group 0 must be in the ranges: [{1 1}]",
				"spec.securityContext.supplementalGroups: Invalid value: group 999 must be in the ranges: [{1 1}]",
			},
		},
		{
			// An empty list reaches admission as nil from controllers and
			// typed clients (protobuf and omitempty drop it).
			name:     "MustRunAs defaults an explicitly empty list",
			psp:      rule(SupplementalGroupsStrategyMustRunAs, IDRange{Min: 7, Max: 9}),
			pod:      func(p *corev1.Pod) { podSC(p).SupplementalGroups = []int64{} },
			defaults: groups(7),
		},
		{
			name: "MayRunAs admits no groups and writes nothing",
			psp:  rule(SupplementalGroupsStrategyMayRunAs, IDRange{Min: 1, Max: 5}),
		},
		{
			name:   "MayRunAs rejects a group outside its ranges",
			psp:    rule(SupplementalGroupsStrategyMayRunAs, IDRange{Min: 50, Max: 50}, IDRange{Min: 55, Max: 998}, IDRange{Min: 1000, Max: 1000}),
			pod:    groups(999),
			errors: []string{"spec.securityContext.supplementalGroups: Invalid value: group 999 must be in the ranges: [{50 50} {55 998} {1000 1000}]"},
		},
	}
}

func TestAdmitRunAsGroup(t *testing.T) { runAdmitCases(t, runAsGroupCases()) }

func runAsGroupCases() []admitCase {
	rule := func(r RunAsGroupStrategy, ranges ...IDRange) func(*PodSecurityPolicy) {
		return func(p *PodSecurityPolicy) { p.Spec.RunAsGroup = &RunAsGroupStrategyOptions{Rule: r, Ranges: ranges} }
	}
	runAsGroup := func(gid int64) func(*corev1.Pod) {
		return func(p *corev1.Pod) { containerSC(p).RunAsGroup = new(gid) }
	}
	return []admitCase{
		{
			name: "omitted runAsGroup means RunAsAny",
			psp:  func(p *PodSecurityPolicy) { p.Spec.RunAsGroup = nil },
			pod:  runAsGroup(0),
		},
		{
			name:     "MustRunAs defaults each container to the first range's min",
			psp:      rule(RunAsGroupStrategyMustRunAs, IDRange{Min: 10, Max: 20}),
			defaults: runAsGroup(10),
		},
		{
			name: "MustRunAs reads the pod's runAsGroup and writes nothing",
			psp:  rule(RunAsGroupStrategyMustRunAs, IDRange{Min: 10, Max: 20}),
			pod:  func(p *corev1.Pod) { podSC(p).RunAsGroup = new(int64(15)) },
		},
		{
			// 1.24 reported runAsGroup at the securityContext, not its field.
			name:   "MustRunAs rejects a group out of range at the securityContext path",
			psp:    rule(RunAsGroupStrategyMustRunAs, IDRange{Min: 10, Max: 20}),
			pod:    runAsGroup(0),
			errors: []string{"spec.containers[0].securityContext: Invalid value: group 0 must be in the ranges: [{10 20}]"},
		},
		{
			name: "MayRunAs writes nothing when unset",
			psp:  rule(RunAsGroupStrategyMayRunAs, IDRange{Min: 10, Max: 20}),
		},
		{
			name:   "MayRunAs rejects the pod's group out of range at the container",
			psp:    rule(RunAsGroupStrategyMayRunAs, IDRange{Min: 10, Max: 20}),
			pod:    func(p *corev1.Pod) { podSC(p).RunAsGroup = new(int64(0)) },
			errors: []string{"spec.containers[0].securityContext: Invalid value: group 0 must be in the ranges: [{10 20}]"},
		},
	}
}
