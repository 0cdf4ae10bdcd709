package vap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.seLinux ({rule: MustRunAs|RunAsAny, seLinuxOptions}).

MustRunAs: the pod's seLinuxOptions, and every container's own, equal the
PSP's: user, role and type exactly, the level with its categories in any
order ("s0:c2,c1" is "s0:c1,c2"). 1.24 filled in the pod's options where
unset, so they are required; a container without its own inherits them.
PSS baseline limits the type and forbids a user or role, but never looks at
the level, so a pinned level is always a gap.

RunAsAny restricts nothing; MustRunAs without options made 1.24 skip the
PSP.
*/

func seLinuxRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "seLinux"
	s := p.Spec.SELinux
	if s.Rule != psp.SELinuxStrategyMustRunAs || s.SELinuxOptions == nil {
		return nil
	}
	want := *s.SELinuxOptions
	podOptions := "object.spec.?securityContext.?seLinuxOptions"
	expression := podOptions + ".hasValue() && " + seLinuxMatches(podOptions+".value()", want) +
		"\n&& " + everyContainer("!has(c.securityContext) || !has(c.securityContext.seLinuxOptions) || "+seLinuxMatches("c.securityContext.seLinuxOptions", want))
	return []Rule{{
		Field:      field,
		Expression: expression,
		Message:    message(p, field, "the pod must set securityContext.seLinuxOptions to "+seLinuxText(want)+", and a container that sets its own must set the same"),
	}}
}

// seLinuxMatches is 1.24's check of options o against want: user, role
// and type equal, levels equal up to the order of their categories.
func seLinuxMatches(o string, want corev1.SELinuxOptions) string {
	return fmt.Sprintf("%s.?user.orValue('') == %s && %s.?role.orValue('') == %s && %s.?type.orValue('') == %s && %s",
		o, quote(want.User), o, quote(want.Role), o, quote(want.Type), levelMatches(o+".?level.orValue('')", want.Level))
}

// levelMatches is 1.24's equalSELinuxLevels(want, level): equal strings,
// or both "sensitivity:categories" with the same sensitivity and the same
// comma-separated categories, counted with repeats, in any order.
func levelMatches(level, want string) string {
	exact := level + " == " + quote(want)
	sensitivity, categories, ok := strings.Cut(want, ":")
	if !ok {
		return exact
	}
	cats := strings.Split(categories, ",")
	tests := []string{fmt.Sprintf("size(cats) == %d", len(cats))}
	var seen []string
	for _, c := range cats {
		if slices.Contains(seen, c) {
			continue
		}
		seen = append(seen, c)
		tests = append(tests, fmt.Sprintf("cats.filter(x, x == %s).size() == %d", quote(c), count(cats, c)))
	}
	// [x].all(name, …) binds x to a name: policies have no let.
	return fmt.Sprintf("(%s || [%s.split(':', 2)].all(parts, size(parts) == 2 && parts[0] == %s && [parts[1].split(',')].all(cats, %s)))",
		exact, level, quote(sensitivity), strings.Join(tests, " && "))
}

func count(values []string, v string) int {
	n := 0
	for _, x := range values {
		if x == v {
			n++
		}
	}
	return n
}

// seLinuxText words options for a message: "user u, role r, type t, level
// s0:c1,c2", leaving out the empty ones, which must stay empty.
func seLinuxText(o corev1.SELinuxOptions) string {
	var parts []string
	for _, kv := range [][2]string{{"user", o.User}, {"role", o.Role}, {"type", o.Type}, {"level", o.Level}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if len(parts) == 0 {
		return "empty options"
	}
	return strings.Join(parts, ", ")
}
