package convert

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.hostPorts.

PSS control: Host Ports (check hostPorts, baseline).

Allowed values:
  - baseline: empty (no host port at all)
  - restricted: empty

A level that allows host ports (privileged) allows every port, so the
ranges of a PSP that allows some are a gap. 1.24 did not validate the
ranges: max 65536 was accepted (REFERENCE §7); pods can only use 1-65535.
*/

func init() { register(rule{field: "hostPorts", analyze: analyzeHostPorts}) }

const maxPort = 65535

func analyzeHostPorts(p *psp.PodSecurityPolicy) analysis {
	ranges := p.Spec.HostPorts
	var a analysis
	for _, r := range ranges {
		if port, ok := portInRange(r); ok {
			a.witnesses = append(a.witnesses, hostPortChange(port))
		}
	}
	if len(a.witnesses) == 0 {
		return analysis{}
	}
	if port, ok := portOutside(ranges); ok {
		a.restrictions = append(a.restrictions, hostPortChange(port))
	}
	a.explain = func(c findingContext) string {
		return "hostPorts allows host ports " + hostPortRanges(ranges) + "; " + string(c.level) + " forbids host ports"
	}
	a.explainGap = func(lost []lostRestriction) string {
		return "hostPorts allows only host ports " + hostPortRanges(ranges) + "; " +
			levelAllows(strictestAllowing(lost)) + " every host port"
	}
	return a
}

func hostPortChange(port int32) podChange {
	return podChange{
		name: fmt.Sprintf("host port %d", port),
		apply: func(pod *corev1.Pod) {
			c := &pod.Spec.Containers[0]
			p := corev1.ContainerPort{ContainerPort: port, HostPort: port, Protocol: corev1.ProtocolTCP}
			if !slices.Contains(c.Ports, p) {
				c.Ports = append(c.Ports, p)
			}
		},
	}
}

// portInRange returns a usable port of the range; host port 0 means none.
func portInRange(r psp.HostPortRange) (int32, bool) {
	lo, hi := max(r.Min, 1), min(r.Max, maxPort)
	return lo, lo <= hi
}

// portOutside returns the lowest usable port outside every range.
func portOutside(ranges []psp.HostPortRange) (int32, bool) {
	port := int32(1)
	for moved := true; moved; {
		moved = false
		for _, r := range ranges {
			if port >= r.Min && port <= r.Max {
				if r.Max >= maxPort {
					return 0, false
				}
				port, moved = r.Max+1, true
			}
		}
	}
	return port, true
}

func hostPortRanges(ranges []psp.HostPortRange) string {
	var parts []string
	for _, r := range ranges {
		parts = append(parts, rangeText(r.Min, r.Max))
	}
	return strings.Join(parts, ", ")
}
