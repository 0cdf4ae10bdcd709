package convert

import (
	"slices"

	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
)

// evaluator is only read after construction, so Convert may run
// concurrently.
var evaluator = pss.NewEvaluator()

// Convert maps one PSP to PSS for one PSS version (a concrete version;
// pss.ParseVersion resolves "latest"). It fills Name, Level, Findings,
// Mutations, Gaps and Notes; the caller sets Source and APIVersion.
//
// Every rule enumerates what the PSP lets a pod do along its field
// (witnesses) and what it never lets a pod keep (restrictions). Each is
// applied to a clean pod that passes restricted at every version and
// judged by the PSA evaluator at baseline and restricted for the version:
// a failing witness is a finding for its field at the lowest level it
// fails; a restriction that no level can hold, given which checks the
// witnesses already fail, is a gap.
func Convert(p *psp.PodSecurityPolicy, version api.Version) PolicyResult {
	out := PolicyResult{
		Name:      p.Name,
		Level:     api.LevelRestricted,
		Findings:  []Finding{},
		Mutations: []Mutation{},
		Gaps:      []Gap{},
	}
	fields := analyzeAll(p)
	for _, f := range fields {
		out.Notes = append(out.Notes, f.notes...)
	}
	if slices.ContainsFunc(fields, func(f fieldAnalysis) bool { return f.admitsNothing }) {
		// Every admitted pod (there are none) passes restricted; the notes
		// say why, and nothing the other fields allow can happen.
		return out
	}

	broken := newCheckSets()
	for _, f := range fields {
		finding, failed := judgeWitnesses(f, version)
		broken.addAll(failed)
		if finding != nil {
			out.Findings = append(out.Findings, *finding)
		}
	}
	slices.SortStableFunc(out.Findings, func(a, b Finding) int { return api.CompareLevels(a.Level, b.Level) })
	out.Level = levelWithout(out.Findings)

	for _, f := range fields {
		out.Mutations = append(out.Mutations, f.mutations...)
		if gap := judgeRestrictions(f, version, broken); gap != nil {
			out.Gaps = append(out.Gaps, *gap)
		}
	}
	return out
}

type fieldAnalysis struct {
	field string
	analysis
}

func analyzeAll(p *psp.PodSecurityPolicy) []fieldAnalysis {
	var out []fieldAnalysis
	for _, r := range rules() {
		out = append(out, fieldAnalysis{field: r.field, analysis: r.analyze(p)})
	}
	return out
}

// levelWithout is the strictest level that no finding blocks.
func levelWithout(findings []Finding) api.Level {
	level := api.LevelRestricted
	for _, f := range findings {
		if below := levelBelow(f.Level); api.CompareLevels(below, level) < 0 {
			level = below
		}
	}
	return level
}

func levelBelow(l api.Level) api.Level {
	if l == api.LevelRestricted {
		return api.LevelBaseline
	}
	return api.LevelPrivileged
}

// verdict is what PSA says about one changed pod: the governable checks it
// fails at baseline and at restricted.
type verdict struct {
	baseline, restricted []string
}

func (v verdict) at(level api.Level) []string {
	if level == api.LevelBaseline {
		return v.baseline
	}
	return v.restricted
}

// lowest is the lowest level the pod fails, or "" when it passes both.
func (v verdict) lowest() api.Level {
	switch {
	case len(v.baseline) > 0:
		return api.LevelBaseline
	case len(v.restricted) > 0:
		return api.LevelRestricted
	}
	return ""
}

func judge(c podChange, version api.Version) verdict {
	pod := cleanPod()
	c.apply(pod)
	return judgePod(pod, c.writtenPod(), version)
}

// judgePod judges the pod, which admission made of written: what written
// chose itself decides which checks the PSP governs.
func judgePod(pod, written *corev1.Pod, version api.Version) verdict {
	v := verdict{restricted: governableFailures(pod, written, api.LevelRestricted, version)}
	if len(v.restricted) > 0 {
		// A pod that passes restricted passes baseline: PSA's restricted
		// checks include or tighten every baseline check.
		v.baseline = governableFailures(pod, written, api.LevelBaseline, version)
	}
	return v
}

func governableFailures(pod, written *corev1.Pod, level api.Level, version api.Version) []string {
	var ids []string
	for _, f := range evaluator.Failures(api.LevelVersion{Level: level, Version: version}, &pod.ObjectMeta, &pod.Spec) {
		if governable(f.ID, written) {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// governable reports whether a PSP could have kept the pod from failing
// the check, judged on the pod as written. Two checks are beyond every
// PSP (REFERENCE §7): no PSP looked at probe or lifecycle hosts, and a pod
// whose containers all chose a non-zero UID themselves passes even
// MustRunAsNonRoot without the runAsNonRoot field PSA wants; adding that
// field is the workload patches' work. A UID the PSP wrote in does not
// count: MustRunAsNonRoot would have written runAsNonRoot: true instead.
func governable(check string, written *corev1.Pod) bool {
	switch check {
	case "hostProbesAndHostLifecycle":
		return false
	case "runAsNonRoot":
		return !allRunAsNonZeroUID(written)
	}
	return true
}

func allRunAsNonZeroUID(pod *corev1.Pod) bool {
	var podUID *int64
	if pod.Spec.SecurityContext != nil {
		podUID = pod.Spec.SecurityContext.RunAsUser
	}
	all := true
	visitPodContainers(&pod.Spec, func(c *corev1.Container) {
		uid := podUID
		if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
			uid = c.SecurityContext.RunAsUser
		}
		if uid == nil || *uid == 0 {
			all = false
		}
	})
	return all
}

func visitPodContainers(spec *corev1.PodSpec, visit func(*corev1.Container)) {
	for i := range spec.InitContainers {
		visit(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		visit(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		visit((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

// judgeWitnesses returns the field's finding, if any, and the checks its
// witnesses fail at each level.
func judgeWitnesses(f fieldAnalysis, version api.Version) (*Finding, checkSets) {
	failed := newCheckSets()
	verdicts := make([]verdict, len(f.witnesses))
	lowest := api.Level("")
	for i, w := range f.witnesses {
		verdicts[i] = judge(w, version)
		failed.add(verdicts[i])
		if l := verdicts[i].lowest(); l != "" && (lowest == "" || api.CompareLevels(l, lowest) < 0) {
			lowest = l
		}
	}
	if lowest == "" {
		return nil, failed
	}
	ctx := findingContext{level: lowest, version: version}
	var checks []string
	for i, v := range verdicts {
		if ids := v.at(lowest); len(ids) > 0 {
			ctx.witnesses = append(ctx.witnesses, f.witnesses[i].name)
			checks = append(checks, ids...)
		}
	}
	slices.Sort(checks)
	return &Finding{
		Field:   f.field,
		Level:   lowest,
		Checks:  slices.Compact(checks),
		Message: f.explain(ctx),
	}, failed
}

// judgeRestrictions returns the field's gap, if any. A restriction is
// expressed by PSS when some level has a check that rejects it and that no
// witness of the PSP fails, since the PSP can then be held to that level
// along that check. Otherwise it is lost whatever level is chosen.
func judgeRestrictions(f fieldAnalysis, version api.Version, broken checkSets) *Gap {
	var lost []lostRestriction
	for _, r := range f.restrictions {
		pod := cleanPod()
		r.apply(pod)
		v := verdict{restricted: governableFailures(pod, pod, api.LevelRestricted, version)}
		if !broken.covers(api.LevelRestricted, v.restricted) {
			continue // restricted holds it out
		}
		if len(v.restricted) > 0 {
			v.baseline = governableFailures(pod, pod, api.LevelBaseline, version)
		}
		if !broken.covers(api.LevelBaseline, v.baseline) {
			continue // baseline holds it out
		}
		allowedBy := api.LevelPrivileged
		switch {
		case len(v.restricted) == 0:
			allowedBy = api.LevelRestricted
		case len(v.baseline) == 0:
			allowedBy = api.LevelBaseline
		}
		lost = append(lost, lostRestriction{name: r.name, allowedBy: allowedBy})
	}
	if len(lost) == 0 {
		return nil
	}
	return &Gap{Field: f.field, Message: f.explainGap(lost)}
}

// checkSets holds check IDs per level.
type checkSets struct {
	baseline, restricted map[string]bool
}

func newCheckSets() checkSets {
	return checkSets{baseline: map[string]bool{}, restricted: map[string]bool{}}
}

func (s checkSets) add(v verdict) {
	for _, id := range v.baseline {
		s.baseline[id] = true
	}
	for _, id := range v.restricted {
		s.restricted[id] = true
	}
}

func (s checkSets) addAll(o checkSets) {
	for id := range o.baseline {
		s.baseline[id] = true
	}
	for id := range o.restricted {
		s.restricted[id] = true
	}
}

// covers reports whether every check is failed by some witness at the
// level.
func (s checkSets) covers(level api.Level, checks []string) bool {
	set := s.restricted
	if level == api.LevelBaseline {
		set = s.baseline
	}
	for _, id := range checks {
		if !set[id] {
			return false
		}
	}
	return true
}

// The clean pod and the helpers rules use to change it.

const witnessContainerName = "app"

// cleanPod returns a pod that passes restricted at every PSS version, in
// the form a 1.24 apiserver stored it: seccomp both as the pod annotation
// and as the field (the server kept them in sync), AppArmor unset.
func cleanPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "witness",
			Namespace:   "default",
			Annotations: map[string]string{psp.SeccompPodAnnotation: psp.SeccompProfileRuntimeDefault},
		},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   new(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:  witnessContainerName,
				Image: "registry.example/app:1",
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: new(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}

// podSecurity returns the pod's security context, creating it if needed.
func podSecurity(pod *corev1.Pod) *corev1.PodSecurityContext {
	if pod.Spec.SecurityContext == nil {
		pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return pod.Spec.SecurityContext
}

// appSecurity returns the witness container's security context, creating
// it if needed.
func appSecurity(pod *corev1.Pod) *corev1.SecurityContext {
	c := &pod.Spec.Containers[0]
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

// appCapabilities returns the witness container's capabilities, creating
// them if needed.
func appCapabilities(pod *corev1.Pod) *corev1.Capabilities {
	sc := appSecurity(pod)
	if sc.Capabilities == nil {
		sc.Capabilities = &corev1.Capabilities{}
	}
	return sc.Capabilities
}

// putVolume adds the volume, replacing one of the same name, so that a
// change applied twice changes nothing more.
func putVolume(pod *corev1.Pod, v corev1.Volume) {
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == v.Name {
			pod.Spec.Volumes[i] = v
			return
		}
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, v)
}

// putAppMount mounts a volume into the witness container, replacing a
// mount of the same volume.
func putAppMount(pod *corev1.Pod, m corev1.VolumeMount) {
	c := &pod.Spec.Containers[0]
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == m.Name {
			c.VolumeMounts[i] = m
			return
		}
	}
	c.VolumeMounts = append(c.VolumeMounts, m)
}

// setAnnotation sets a pod annotation, or deletes it for "".
func setAnnotation(pod *corev1.Pod, key, value string) {
	if value == "" {
		delete(pod.Annotations, key)
		return
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[key] = value
}
