package psp

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// spec.hostPorts: every hostPort of every container (init, regular,
// ephemeral) must fall in one of the inclusive ranges; no ranges means no
// host ports. A port of 0 is no host port. The ranges are used as written:
// 1.24 did not validate them (max 65536 was accepted).
//
// Port of simpleProvider.hasInvalidHostPort (1.24).
func validateHostPorts(ranges []HostPortRange, c *corev1.Container, containerPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, port := range c.Ports {
		if port.HostPort > 0 && !hostPortInRanges(port.HostPort, ranges) {
			detail := fmt.Sprintf("Host port %d is not allowed to be used. Allowed ports: [%s]", port.HostPort, hostPortRangesString(ranges))
			errs = append(errs, field.Invalid(containerPath.Child("hostPort"), port.HostPort, detail))
		}
	}
	return errs
}

func hostPortInRanges(port int32, ranges []HostPortRange) bool {
	for _, r := range ranges {
		if port >= r.Min && port <= r.Max {
			return true
		}
	}
	return false
}

// hostPortRangesString formats ranges as 1.24's messages did: "80,8000-8080".
func hostPortRangesString(ranges []HostPortRange) string {
	parts := make([]string, 0, len(ranges))
	for _, r := range ranges {
		if r.Min == r.Max {
			parts = append(parts, strconv.Itoa(int(r.Min)))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", r.Min, r.Max))
		}
	}
	return strings.Join(parts, ",")
}
