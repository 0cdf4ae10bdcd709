package patch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
)

// LevelPatch returns the securityContext changes that lift the template to
// the PSS level at the version, and the failing checks no such change can
// fix. Apply it to the template PreservePatch already patched: the level
// has to hold once PSP's defaults are written down.
//
// Every change targets one failing check (Change.Check). The patched
// template is evaluated again; a check that still fails loses all its
// changes and is reported as Unfixable, so a returned change is always
// one the evaluator accepts, and Unfixable lists exactly the checks the
// patched template still fails. ev may be nil.
func LevelPatch(template *corev1.PodTemplateSpec, level api.Level, version api.Version, ev *pss.Evaluator) (Patch, []Unfixable) {
	return LevelPatchFor(template, level, version, apiserver.Default(), ev)
}

// LevelPatchFor is LevelPatch judged as the target server's Pod Security
// admission judges a pod: after the server's own preparation of a new pod
// (apiserver.Target.PrepareForAdmission), so that, say, a seccomp annotation counts
// on 1.24–1.26 servers. The changes are in field form: ForServer turns
// them into the form the server accepts.
func LevelPatchFor(template *corev1.PodTemplateSpec, level api.Level, version api.Version, t apiserver.Target, ev *pss.Evaluator) (Patch, []Unfixable) {
	if ev == nil {
		ev = pss.NewEvaluator()
	}
	lv := api.LevelVersion{Level: level, Version: version}
	judge := judgeFor(lv, t, ev)
	why := map[string]string{}
	var changes []Change
	for _, failure := range judge(template) {
		fix, ok := levelFixes[failure.ID]
		if !ok {
			why[failure.ID] = unfixableBecause(failure.ID)
			continue
		}
		fixed, reason := fix(template, failure.ID)
		if reason != "" {
			why[failure.ID] = reason
			continue
		}
		for _, ch := range fixed {
			ch.Check = failure.ID
			ch.Reason = fmt.Sprintf("required by %s (%s)", level, failure.ID)
			changes = append(changes, ch)
		}
	}
	changes, still := keepAccepted(template, judge, changes, why)
	sortChanges(&template.Spec, changes)
	return Patch{Changes: changes}, still
}

// judge returns the checks a template fails.
type judge func(*corev1.PodTemplateSpec) []pss.CheckResult

// judgeFor evaluates templates at lv as the target server sees a new pod
// made from them.
func judgeFor(lv api.LevelVersion, t apiserver.Target, ev *pss.Evaluator) judge {
	return func(template *corev1.PodTemplateSpec) []pss.CheckResult {
		meta, spec := &template.ObjectMeta, &template.Spec
		if t.CopiesSeccompAnnotations() {
			pod := &corev1.Pod{ObjectMeta: *meta.DeepCopy(), Spec: *spec.DeepCopy()}
			t.PrepareForAdmission(pod)
			meta, spec = &pod.ObjectMeta, &pod.Spec
		}
		return ev.Failures(lv, meta, spec)
	}
}

// keepAccepted applies the changes and drops those of every check the
// result still fails, until the evaluator agrees with what is left. It
// returns the kept changes and the checks that still fail.
func keepAccepted(template *corev1.PodTemplateSpec, judge judge, changes []Change, why map[string]string) ([]Change, []Unfixable) {
	for {
		patched := mustApply(Patch{Changes: changes}, template)
		failures := judge(patched)
		dropped := false
		for _, f := range failures {
			before := len(changes)
			changes = slices.DeleteFunc(changes, func(ch Change) bool { return ch.Check == f.ID })
			if len(changes) != before {
				dropped = true
				why[f.ID] = "the securityContext changes for this check do not satisfy it"
			}
		}
		if dropped {
			continue
		}
		var still []Unfixable
		for _, f := range failures {
			message := why[f.ID]
			if message == "" {
				message = unfixableBecause(f.ID)
			}
			still = append(still, Unfixable{Check: f.ID, Message: message, Detail: f.Reason + ": " + f.Detail})
		}
		return changes, still
	}
}

// levelFix proposes the changes that satisfy one failing check, or says
// why no securityContext change should.
type levelFix func(t *corev1.PodTemplateSpec, check string) (changes []Change, unfixable string)

var levelFixes = map[string]levelFix{
	"allowPrivilegeEscalation":  fixAllowPrivilegeEscalation,
	"capabilities_restricted":   fixCapabilitiesRestricted,
	"runAsNonRoot":              fixRunAsNonRoot,
	"seccompProfile_restricted": fixSeccomp,
	"seccompProfile_baseline":   fixSeccomp,
	"appArmorProfile":           fixAppArmor,
}

// unfixableBecause explains, per check, why changing the template's
// securityContext is the wrong fix: each of these controls grants or
// names something the workload was built to have.
func unfixableBecause(check string) string {
	switch check {
	case "privileged":
		return "a privileged container needs its privileges; removing them changes what the workload can do"
	case "hostNamespaces":
		return "the pod shares the node's network, PID or IPC namespace by design"
	case "hostPorts":
		return "the pod binds ports on the node by design"
	case "hostPathVolumes":
		return "the pod mounts node paths by design"
	case "restrictedVolumes":
		return "the pod uses volume types restricted does not allow; replacing them changes the workload's storage"
	case "capabilities_baseline", "capabilities_restricted":
		return "a container adds capabilities the level does not allow; removing them changes what the workload can do"
	case "runAsUser":
		return "runAsUser: 0 is set explicitly; another UID changes the workload's identity and file ownership"
	case "seLinuxOptions":
		return "custom SELinux options are a deliberate choice of the workload"
	case "procMount", "procMount_restricted":
		return "an Unmasked /proc is a deliberate choice of the workload"
	case "sysctls":
		return "the pod sets unsafe sysctls by design"
	case "windowsHostProcess":
		return "a Windows HostProcess container runs on the host by design"
	case "hostProbesAndHostLifecycle":
		return "probes or lifecycle hooks target another host; that is not a securityContext field"
	}
	return "no securityContext change fixes this check"
}

// fixAllowPrivilegeEscalation sets allowPrivilegeEscalation: false on
// every container that does not. The API rejects false together with
// privileged or an added CAP_SYS_ADMIN, so such containers are unfixable.
func fixAllowPrivilegeEscalation(t *corev1.PodTemplateSpec, _ string) ([]Change, string) {
	var changes []Change
	for _, ref := range allContainers(&t.Spec) {
		sc := ref.c.SecurityContext
		if sc != nil && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			continue
		}
		if sc != nil && sc.Privileged != nil && *sc.Privileged {
			return nil, fmt.Sprintf("container %q is privileged, which always allows privilege escalation", ref.c.Name)
		}
		if addsCapability(ref.c, "SYS_ADMIN") {
			return nil, fmt.Sprintf("container %q adds SYS_ADMIN, which the API does not allow with allowPrivilegeEscalation: false", ref.c.Name)
		}
		ch := containerChange(ref, FieldAllowPrivilegeEscalation, false)
		if sc != nil && sc.AllowPrivilegeEscalation != nil {
			ch.Warning = "the container allows privilege escalation explicitly: setuid programs (sudo, su, ping on some images) stop gaining privileges"
		}
		changes = append(changes, ch)
	}
	return changes, ""
}

// fixCapabilitiesRestricted makes every container drop ALL. A container
// adding anything but NET_BIND_SERVICE is unfixable: its added
// capabilities are part of what it does.
func fixCapabilitiesRestricted(t *corev1.PodTemplateSpec, _ string) ([]Change, string) {
	var changes []Change
	var adding []string
	for _, ref := range allContainers(&t.Spec) {
		var caps corev1.Capabilities
		if sc := ref.c.SecurityContext; sc != nil && sc.Capabilities != nil {
			caps = *sc.Capabilities
		}
		if extra := slices.DeleteFunc(capabilityStrings(caps.Add), func(c string) bool { return c == "NET_BIND_SERVICE" }); len(extra) > 0 {
			adding = append(adding, fmt.Sprintf("container %q adds %s", ref.c.Name, strings.Join(extra, ", ")))
			continue
		}
		if slices.Contains(caps.Drop, "ALL") {
			continue
		}
		ch := containerChange(ref, FieldCapabilitiesDrop, []string{"ALL"})
		if !runsAsNonRoot(&t.Spec, ref.c) {
			ch.Warning = "the container may run as root: dropping ALL takes the runtime's default capabilities (CHOWN, SETUID, SETGID, NET_RAW, …) from it"
		}
		changes = append(changes, ch)
	}
	if len(adding) > 0 {
		return nil, strings.Join(adding, "; ") + "; restricted allows adding only NET_BIND_SERVICE, and the added capabilities are part of what the workload does"
	}
	return changes, ""
}

// fixRunAsNonRoot sets runAsNonRoot: true on the pod, and on every
// container that says false. A container that runs as UID 0 explicitly is
// unfixable: the kubelet would refuse to start it.
func fixRunAsNonRoot(t *corev1.PodTemplateSpec, _ string) ([]Change, string) {
	var changes []Change
	var unknownUser []string
	for _, ref := range allContainers(&t.Spec) {
		uid := effectiveRunAsUser(&t.Spec, ref.c)
		if uid != nil && *uid == 0 {
			return nil, fmt.Sprintf("container %q runs as runAsUser: 0; with runAsNonRoot: true the kubelet refuses to start it", ref.c.Name)
		}
		sc := ref.c.SecurityContext
		if uid == nil && (sc == nil || sc.RunAsNonRoot == nil) {
			// It inherits the pod-level runAsNonRoot this fix sets.
			unknownUser = append(unknownUser, ref.c.Name)
		}
		if sc != nil && sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
			ch := containerChange(ref, FieldRunAsNonRoot, true)
			ch.Warning = "the container sets runAsNonRoot: false explicitly"
			if uid == nil {
				ch.Warning += "; if its image runs as root (or as a non-numeric user) the kubelet refuses to start it"
			}
			changes = append(changes, ch)
		}
	}
	podSC := t.Spec.SecurityContext
	if podSC != nil && podSC.RunAsNonRoot != nil && *podSC.RunAsNonRoot {
		return changes, ""
	}
	ch := Change{Field: FieldRunAsNonRoot, Value: true}
	var warnings []string
	if podSC != nil && podSC.RunAsNonRoot != nil {
		warnings = append(warnings, "the pod sets runAsNonRoot: false explicitly")
	}
	if len(unknownUser) > 0 {
		warnings = append(warnings, fmt.Sprintf("%s %s no runAsUser: if the image runs as root (or as a non-numeric user) the kubelet refuses to start it",
			plural(len(unknownUser), "container", "containers"), quoteJoin(unknownUser)+" "+plural(len(unknownUser), "sets", "set")))
	}
	ch.Warning = strings.Join(warnings, "; ")
	return append(changes, ch), ""
}

// fixSeccomp replaces every explicit profile the level forbids (field or
// legacy annotation) with RuntimeDefault, and at restricted makes sure
// every container has a profile field: its own, or the pod's. A legacy
// annotation that has to change, or that restricted needs as a field, is
// converted to the field and removed.
func fixSeccomp(t *corev1.PodTemplateSpec, check string) ([]Change, string) {
	restricted := check == "seccompProfile_restricted"
	var changes []Change
	uncovered := false
	for _, ref := range allContainers(&t.Spec) {
		var field *corev1.SeccompProfile
		if sc := ref.c.SecurityContext; sc != nil {
			field = sc.SeccompProfile
		}
		ch, covered := seccompScopeChange(&t.ObjectMeta, field, seccompContainerAnnotation(ref.c.Name), restricted)
		uncovered = uncovered || !covered
		if ch != nil {
			ch.Container, ch.ContainerKind = ref.c.Name, ref.kind
			changes = append(changes, *ch)
		}
	}
	var field *corev1.SeccompProfile
	if sc := t.Spec.SecurityContext; sc != nil {
		field = sc.SeccompProfile
	}
	ch, covered := seccompScopeChange(&t.ObjectMeta, field, seccompPodAnnotation, restricted && uncovered)
	if ch != nil {
		changes = append(changes, *ch)
	}
	if restricted && uncovered && !covered {
		changes = append(changes, Change{Field: FieldSeccompProfile, Value: seccompValue(runtimeDefaultSeccomp())})
	}
	return changes, ""
}

// seccompScopeChange fixes the seccomp profile of one scope (the pod or a
// container): its field and its legacy annotation. needField asks for a
// valid annotation to become a field. It returns the change (nil for
// none) and whether the scope ends up with a valid profile field.
func seccompScopeChange(meta *metav1.ObjectMeta, field *corev1.SeccompProfile, key string, needField bool) (*Change, bool) {
	value, annotated := meta.Annotations[key]
	var annotation *corev1.SeccompProfile
	if annotated {
		annotation = seccompFromAnnotation(value)
	}
	badAnnotation := annotated && !validSeccomp(annotation)
	switch {
	case field != nil && validSeccomp(field):
		if badAnnotation {
			return &Change{RemoveAnnotation: key}, true
		}
		return nil, true
	case field != nil || badAnnotation:
		explicit := field
		if explicit == nil {
			explicit = annotation
		}
		return &Change{
			Field: FieldSeccompProfile, Value: seccompValue(runtimeDefaultSeccomp()),
			Warning:          fmt.Sprintf("seccomp %q was chosen explicitly; RuntimeDefault blocks syscalls the workload may need", explicit.Type),
			RemoveAnnotation: annotationIfPresent(meta, key),
		}, true
	case annotated && needField:
		return &Change{Field: FieldSeccompProfile, Value: seccompValue(annotation), RemoveAnnotation: key}, true
	}
	return nil, false
}

// fixAppArmor replaces every unconfined (or unknown) AppArmor profile,
// field or annotation, with RuntimeDefault. Unconfined is a deliberate
// choice, so each such change warns. An annotation that contradicts a
// valid field, or names no container, is only removed.
func fixAppArmor(t *corev1.PodTemplateSpec, _ string) ([]Change, string) {
	var changes []Change
	if sc := t.Spec.SecurityContext; sc != nil && sc.AppArmorProfile != nil && !validAppArmor(sc.AppArmorProfile) {
		changes = append(changes, Change{
			Field: FieldAppArmorProfile, Value: appArmorValue(runtimeDefaultAppArmor()),
			Warning: fmt.Sprintf("AppArmor %q was chosen explicitly for the pod; RuntimeDefault may deny what its containers do", sc.AppArmorProfile.Type),
		})
	}
	named := map[string]bool{}
	for _, ref := range allContainers(&t.Spec) {
		named[ref.c.Name] = true
		var field *corev1.AppArmorProfile
		if sc := ref.c.SecurityContext; sc != nil {
			field = sc.AppArmorProfile
		}
		key := appArmorContainerAnnotation(ref.c.Name)
		var annotation *corev1.AppArmorProfile
		if v := t.Annotations[key]; v != "" {
			annotation = appArmorFromAnnotation(v)
		}
		badAnnotation := annotation != nil && !validAppArmor(annotation)
		switch {
		case field != nil && validAppArmor(field):
			if badAnnotation {
				changes = append(changes, Change{Container: ref.c.Name, ContainerKind: ref.kind, RemoveAnnotation: key})
			}
		case field != nil || badAnnotation:
			explicit := field
			if explicit == nil {
				explicit = annotation
			}
			ch := containerChange(ref, FieldAppArmorProfile, appArmorValue(runtimeDefaultAppArmor()))
			ch.Warning = fmt.Sprintf("AppArmor %q was chosen explicitly; RuntimeDefault may deny what the container does", explicit.Type)
			ch.RemoveAnnotation = annotationIfPresent(&t.ObjectMeta, key)
			changes = append(changes, ch)
		}
	}
	for key, value := range t.Annotations {
		name, ok := strings.CutPrefix(key, appArmorContainerAnnotation(""))
		if ok && !named[name] && value != "" && !validAppArmor(appArmorFromAnnotation(value)) {
			changes = append(changes, Change{RemoveAnnotation: key})
		}
	}
	return changes, ""
}

func containerChange(ref containerRef, field string, value any) Change {
	return Change{Container: ref.c.Name, ContainerKind: ref.kind, Field: field, Value: value}
}

// validSeccomp is what every PSA seccomp check accepts.
func validSeccomp(p *corev1.SeccompProfile) bool {
	return p.Type == corev1.SeccompProfileTypeRuntimeDefault || p.Type == corev1.SeccompProfileTypeLocalhost
}

// validAppArmor is what the PSA appArmorProfile check accepts.
func validAppArmor(p *corev1.AppArmorProfile) bool {
	return p.Type == corev1.AppArmorProfileTypeRuntimeDefault || p.Type == corev1.AppArmorProfileTypeLocalhost
}

// addsCapability reports whether the container adds the capability, with
// or without the CAP_ prefix and in any case, as container runtimes read it.
func addsCapability(c *corev1.Container, name string) bool {
	if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
		return false
	}
	for _, added := range c.SecurityContext.Capabilities.Add {
		if strings.EqualFold(strings.TrimPrefix(strings.ToUpper(string(added)), "CAP_"), name) {
			return true
		}
	}
	return false
}

func effectiveRunAsUser(spec *corev1.PodSpec, c *corev1.Container) *int64 {
	if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
		return c.SecurityContext.RunAsUser
	}
	if spec.SecurityContext != nil {
		return spec.SecurityContext.RunAsUser
	}
	return nil
}

// runsAsNonRoot reports whether the container is known not to run as
// root: a UID of 1 or more, or runAsNonRoot: true.
func runsAsNonRoot(spec *corev1.PodSpec, c *corev1.Container) bool {
	if uid := effectiveRunAsUser(spec, c); uid != nil {
		return *uid > 0
	}
	if c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil {
		return *c.SecurityContext.RunAsNonRoot
	}
	return spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func quoteJoin(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(quoted, ", ")
}
