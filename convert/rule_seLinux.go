package convert

import (
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
)

/*
PSP field: spec.seLinux ({rule: MustRunAs|RunAsAny, seLinuxOptions}).

PSS control: SELinux (check seLinuxOptions, baseline).

Allowed values:
  - baseline: rule MustRunAs with user and role unset and type unset or one
    of container_t, container_init_t, container_kvm_t (and from v1.31
    container_engine_t)
  - restricted: same

Witnesses: RunAsAny lets a pod set any user, role, type and level, one
witness each; MustRunAs admits exactly its own options. Restrictions
(MustRunAs): the options with one attribute changed; PSS never checks the
level, so pinning it is always a gap.
*/

func init() { register(rule{field: "seLinux", analyze: analyzeSELinux}) }

func analyzeSELinux(p *psp.PodSecurityPolicy) analysis {
	s := p.Spec.SELinux
	switch s.Rule {
	case psp.SELinuxStrategyRunAsAny:
		return analysis{
			witnesses: []podChange{
				seLinuxChange("type spc_t", corev1.SELinuxOptions{Type: "spc_t"}),
				seLinuxChange("user system_u", corev1.SELinuxOptions{User: "system_u"}),
				seLinuxChange("role system_r", corev1.SELinuxOptions{Role: "system_r"}),
				seLinuxChange("level s0:c1,c2", corev1.SELinuxOptions{Level: "s0:c1,c2"}),
			},
			explain: func(c findingContext) string {
				return "seLinux.rule RunAsAny lets pods set any SELinux user, role and type; " + seLinuxAllowedAt(c)
			},
		}
	case psp.SELinuxStrategyMustRunAs:
		if s.SELinuxOptions == nil {
			return admitsNothing("seLinux", "seLinux MustRunAs without seLinuxOptions: 1.24 could not build the strategy, so the PSP admits no pod")
		}
		return analyzeSELinuxMustRunAs(*s.SELinuxOptions)
	}
	return admitsNothing("seLinux", "seLinux.rule "+quoteRule(string(s.Rule))+" is not a rule 1.24 knows, so the PSP admits no pod")
}

func analyzeSELinuxMustRunAs(opts corev1.SELinuxOptions) analysis {
	text := seLinuxText(opts)
	a := analysis{
		witnesses: []podChange{seLinuxChange("seLinuxOptions "+text, opts)},
		mutations: []Mutation{{
			Field:   "seLinux",
			Sets:    "pod securityContext.seLinuxOptions: " + text,
			Message: "seLinux MustRunAs → pod securityContext.seLinuxOptions: " + text + " when neither the pod nor the container sets it",
		}},
		explain: func(c findingContext) string {
			return "seLinux MustRunAs sets seLinuxOptions " + text + "; " + seLinuxAllowedAt(c)
		},
		explainGap: func(lost []lostRestriction) string {
			return "seLinux MustRunAs allows only seLinuxOptions " + text + "; " + whoAllowsLost(lost)
		},
	}
	for _, attr := range []struct {
		name   string
		field  func(*corev1.SELinuxOptions) *string
		change string
	}{
		{"level", func(o *corev1.SELinuxOptions) *string { return &o.Level }, "s0:c1,c2"},
		{"type", func(o *corev1.SELinuxOptions) *string { return &o.Type }, "container_t"},
		{"user", func(o *corev1.SELinuxOptions) *string { return &o.User }, "system_u"},
		{"role", func(o *corev1.SELinuxOptions) *string { return &o.Role }, "system_r"},
	} {
		other := opts
		target := attr.field(&other)
		switch {
		case *target == attr.change && attr.name == "type":
			*target = "container_init_t"
		case *target == attr.change && attr.name == "level":
			*target = "s0:c3,c4"
		case *target != "":
			*target = ""
		default:
			*target = attr.change
		}
		a.restrictions = append(a.restrictions, seLinuxChange(attr.name+" "+displayEmpty(*target), other))
	}
	return a
}

func seLinuxChange(name string, opts corev1.SELinuxOptions) podChange {
	return podChange{
		name:  name,
		apply: func(pod *corev1.Pod) { podSecurity(pod).SELinuxOptions = &opts },
	}
}

// seLinuxAllowedAt words what the level accepts, for the version.
func seLinuxAllowedAt(c findingContext) string {
	types := "container_t, container_init_t, container_kvm_t"
	if !c.version.Older(api.MajorMinorVersion(1, 31)) {
		types += ", container_engine_t"
	}
	return string(c.level) + " allows only the types " + types + " and no user or role"
}

func seLinuxText(o corev1.SELinuxOptions) string {
	var parts []string
	for _, kv := range [][2]string{{"user", o.User}, {"role", o.Role}, {"type", o.Type}, {"level", o.Level}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+": "+kv[1])
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func displayEmpty(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

func quoteRule(r string) string {
	if r == "" {
		return "(empty)"
	}
	return r
}

// admitsNothing is the analysis of a field that makes the PSP reject every
// pod.
func admitsNothing(field, why string) analysis {
	return analysis{admitsNothing: true, notes: []Note{{Field: field, Message: why}}}
}
