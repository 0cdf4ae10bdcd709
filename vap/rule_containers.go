package vap

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP fields checked per container (init, regular, ephemeral):
spec.readOnlyRootFilesystem, spec.allowedCapabilities (with
spec.defaultAddCapabilities), spec.requiredDropCapabilities, spec.hostPorts.

  - readOnlyRootFilesystem: true: every container sets
    readOnlyRootFilesystem: true (1.24 filled it in where unset). PSS never
    requires it.
  - allowedCapabilities: every added capability is allowed or a default
    add; "*" allows all. Names are compared as written. PSS allows a fixed
    set per level, so a narrower list is a gap.
  - requiredDropCapabilities: every container drops each (1.24 added them
    to the container's drops). PSS restricted requires ALL only.
  - hostPorts: every non-zero hostPort is in a range; no ranges, no host
    ports. PSS baseline forbids host ports altogether, so a PSP that allows
    some keeps a range no level has.
*/

func readOnlyRootFilesystemRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "readOnlyRootFilesystem"
	if !p.Spec.ReadOnlyRootFilesystem {
		return nil
	}
	return []Rule{{
		Field:      field,
		Expression: everyContainer("c.?securityContext.?readOnlyRootFilesystem.orValue(false)"),
		Message:    message(p, field, "every container must set securityContext.readOnlyRootFilesystem: true"),
	}}
}

func allowedCapabilitiesRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "allowedCapabilities"
	if slices.Contains(p.Spec.AllowedCapabilities, psp.AllowAllCapabilities) {
		return nil
	}
	allowed := capabilityNames(p.Spec.AllowedCapabilities, p.Spec.DefaultAddCapabilities)
	added := "c.?securityContext.?capabilities.?add.orValue([])"
	if len(allowed) == 0 {
		return []Rule{{
			Field:      field,
			Expression: everyContainer("size(" + added + ") == 0"),
			Message:    message(p, field, "containers may not add capabilities"),
		}}
	}
	return []Rule{{
		Field:      field,
		Expression: everyContainer(added + ".all(cap, cap in " + stringList(allowed) + ")"),
		Message:    message(p, field, "containers may add only the capabilities "+strings.Join(allowed, ", ")),
	}}
}

func requiredDropRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "requiredDropCapabilities"
	drops := capabilityNames(p.Spec.RequiredDropCapabilities)
	if len(drops) == 0 {
		return nil
	}
	return []Rule{{
		Field:      field,
		Expression: everyContainer(stringList(drops) + ".all(cap, cap in c.?securityContext.?capabilities.?drop.orValue([]))"),
		Message:    message(p, field, "every container must drop the capabilities "+strings.Join(drops, ", ")),
	}}
}

// capabilityNames joins capability lists without repeats, in order.
func capabilityNames(lists ...[]corev1.Capability) []string {
	var names []string
	for _, list := range lists {
		for _, c := range list {
			if !slices.Contains(names, string(c)) {
				names = append(names, string(c))
			}
		}
	}
	return names
}

func hostPortsRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "hostPorts"
	ranges := p.Spec.HostPorts
	if coversEveryPort(ranges) {
		return nil
	}
	ports := "c.?ports.orValue([])"
	if len(ranges) == 0 {
		return []Rule{{
			Field:      field,
			Expression: everyContainer(ports + ".all(port, port.?hostPort.orValue(0) == 0)"),
			Message:    message(p, field, "containers may not use host ports"),
		}}
	}
	return []Rule{{
		Field:      field,
		Expression: everyContainer(ports + ".all(port, port.?hostPort.orValue(0) == 0 || " + inPortRanges("port.hostPort", ranges) + ")"),
		Message:    message(p, field, "host ports must be in "+portRangesText(ranges)),
	}}
}

// maxPort is the highest port a pod can use; 1.24 accepted ranges beyond
// it.
const maxPort = 65535

// coversEveryPort reports whether the ranges hold every usable host port,
// 1 to 65535: then they restrict nothing.
func coversEveryPort(ranges []psp.HostPortRange) bool {
	sorted := slices.Clone(ranges)
	slices.SortFunc(sorted, func(a, b psp.HostPortRange) int { return int(a.Min) - int(b.Min) })
	next := int32(1) // the lowest port not yet covered
	for _, r := range sorted {
		if r.Min > next {
			return false
		}
		next = max(next, r.Max+1)
		if next > maxPort {
			return true
		}
	}
	return false
}

func portRangesText(ranges []psp.HostPortRange) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = rangeText(int64(r.Min), int64(r.Max))
	}
	return strings.Join(parts, ", ")
}
