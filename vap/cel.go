package vap

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
)

// CEL building blocks. Optional fields are read with the optional syntax
// (`a.?b.orValue(x)`), which every server that serves
// admissionregistration.k8s.io/v1 policies (1.30+) accepts: it reads an
// unset field as x instead of failing the expression.

// containerLists are the pod's three container lists, as 1.24 PSP visited
// them: init, regular, ephemeral. Only containers is required.
var containerLists = []string{
	"object.spec.?initContainers.orValue([])",
	"object.spec.containers",
	"object.spec.?ephemeralContainers.orValue([])",
}

// everyContainer is true when pred, over the container c, holds for every
// container of the pod. Each list gets its own line: CEL treats newlines
// as spaces, and the YAML keeps them.
func everyContainer(pred string) string {
	parts := make([]string, len(containerLists))
	for i, list := range containerLists {
		parts[i] = list + ".all(c, " + pred + ")"
	}
	return strings.Join(parts, "\n&& ")
}

// containerValues is the list of value, over the container c, for every
// container of the pod. Mapping each list first keeps the element types
// equal: init and regular containers are Containers, ephemeral ones are
// EphemeralContainers.
func containerValues(value string) string {
	parts := make([]string, len(containerLists))
	for i, list := range containerLists {
		parts[i] = list + ".map(c, " + value + ")"
	}
	return "(" + strings.Join(parts, "\n+ ") + ")"
}

// effective reads a container security context field that falls back to
// the pod's (runAsUser, runAsGroup, runAsNonRoot) as an optional.
func effective(field string) string {
	return "c.?securityContext.?" + field + ".or(object.spec.?securityContext.?" + field + ")"
}

// unsetID stands for an unset UID or GID. The API rejects negative IDs and
// PSP ranges start at 0 or more, so it is never a set value and never in
// a range.
const unsetID = -1

// inIDRanges is true when the integer expression x falls in one of the
// inclusive ranges.
func inIDRanges(x string, ranges []psp.IDRange) string {
	if len(ranges) == 0 {
		return "false"
	}
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = rangeTest(x, r.Min, r.Max)
	}
	return orJoin(parts)
}

func inPortRanges(x string, ranges []psp.HostPortRange) string {
	if len(ranges) == 0 {
		return "false"
	}
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = rangeTest(x, int64(r.Min), int64(r.Max))
	}
	return orJoin(parts)
}

func rangeTest(x string, lo, hi int64) string {
	if lo == hi {
		return fmt.Sprintf("%s == %d", x, lo)
	}
	return fmt.Sprintf("(%s >= %d && %s <= %d)", x, lo, x, hi)
}

// orJoin joins alternatives; a single one needs no parentheses.
func orJoin(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

// stringList is a CEL list literal of strings.
func stringList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = quote(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// Quote is a CEL string literal, as the rules write them; other packages
// writing CEL for the same objects use it.
func Quote(s string) string { return quote(s) }

// quote is a CEL string literal: single-quoted when that needs no escape
// (easier to read inside YAML), else Go's double-quoted form, whose escapes
// CEL shares.
func quote(s string) string {
	plain := true
	for _, r := range s {
		if r == '\'' || r == '\\' || !strconv.IsPrint(r) {
			plain = false
			break
		}
	}
	if plain {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}

// message words a rule's message: "psp <name>: <field>: <what>".
func message(p *psp.PodSecurityPolicy, field, what string) string {
	return "psp " + p.Name + ": " + field + ": " + what
}

// idRangesText words ID ranges for a message: "1000-2000, 3000".
func idRangesText(ranges []psp.IDRange) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = rangeText(r.Min, r.Max)
	}
	return strings.Join(parts, ", ")
}

func rangeText(lo, hi int64) string {
	if lo == hi {
		return strconv.FormatInt(lo, 10)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}
