package convert

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// TestDifferentialLevelHoldsForAdmittedPods ties Convert to the 1.24
// admission simulation and the real PSA checks. For every PSP (corpus,
// seed, generated value classes) and every pod (the PSA module's fixtures,
// deduplicated, and pods using each of the PSP's own allowances), at
// every PSS version where some check changes:
//
//  1. the pod, as the apiserver handed it to PSP admission
//     (psp.AdmissionPod), goes through psp.Admit;
//  2. every pod the PSP admits, as the PSP mutated it and the server
//     stored it (storedPod), passes the level Convert reports;
//  3. for each level stricter than the reported one some admitted pod
//     fails it: the finding is real. Where neither fixtures nor allowance
//     pods show it, the engine's own witnesses, admitted the same way, may;
//  4. every check an admitted pod fails at a level stricter than the
//     reported one is named by a finding at that level or below (a
//     restricted check also through the baseline check it overrides): the
//     findings say everything that stands in the way;
//  5. a PSP that rejects a pod naming no seccomp profile has a seccomp
//     note saying so, and a PSP with such a note rejects that pod
//     (unsetSeccompNoted).
//
// What no PSP can govern is left out (governableChecksFailed):
// hostProbesAndHostLifecycle, and the runAsNonRoot and runAsUser verdicts
// on identity fields 1.24 did not judge or the pod chose itself.
func TestDifferentialLevelHoldsForAdmittedPods(t *testing.T) {
	policies, corpus := differentialPolicies(t)
	fixtures, fixtureFiles := psaFixturePods(t)
	fixtures = admissionPods(fixtures)
	versions := differentialVersions(t)

	outcomes := make([]policyOutcome, len(policies))
	forEachParallel(len(policies), func(i int) {
		p := policies[i].psp
		allowances := admissionPods(allowancePods(p))
		outcomes[i] = checkPolicy(p, slices.Concat(fixtures, allowances), versions, Convert)
		outcomes[i].allowancePods = len(allowances)
		outcomes[i].seccompNote = unsetSeccompNoted(p, Convert(p, pss.NewestVersion()))
	})

	var total differentialTotals
	for i, o := range outcomes {
		total.add(o)
		for _, m := range groupMisses(o.misses, "") {
			t.Errorf("%s (%s): %s", policies[i].psp.Name, policies[i].origin, m)
		}
		for _, m := range groupMisses(o.unnamed, ", which no finding names") {
			t.Errorf("%s (%s): %s", policies[i].psp.Name, policies[i].origin, m)
		}
		if o.seccompNote != "" {
			t.Errorf("%s (%s): %s", policies[i].psp.Name, policies[i].origin, o.seccompNote)
		}
		for _, u := range o.unwitnessed {
			t.Errorf("%s (%s) at %s: reported below %s, but no admitted pod fails %s (findings: %s)",
				policies[i].psp.Name, policies[i].origin, u.version, u.level, u.level, findingsAt(o.results[u.version], u.level))
		}
	}
	t.Logf("%d PSPs (%d corpus, 1 seed, as many tightened, %d generated); %d fixture files → %d distinct fixture pods, %d allowance pods; %d versions %v",
		len(policies), corpus, len(policies)-2*(corpus+1), fixtureFiles, len(fixtures), total.allowancePods, len(versions), versionNames(versions))
	t.Logf("%d PSP×pod pairs, %d admitted (%d fixture, %d allowance)", total.pairs, total.admittedFixture+total.admittedAllowance, total.admittedFixture, total.admittedAllowance)
	for _, v := range versions {
		t.Logf("%s: levels %s; witnesses %s", v, total.levels[v.String()], total.witnesses[v.String()])
	}
	t.Logf("engine witnesses were needed %d times, for %d PSPs", total.engineWitnesses, total.engineWitnessPSPs)

	// The property must not hold vacuously: all three levels are reported,
	// and many pairs are admitted.
	for _, v := range versions {
		for _, l := range pss.Levels {
			if total.levels[v.String()][l] == 0 {
				t.Errorf("%s: no PSP maps to %s; the generated classes lost their coverage", v, l)
			}
		}
	}
	if total.admittedFixture+total.admittedAllowance < 1000 {
		t.Errorf("only %d admitted pairs", total.admittedFixture+total.admittedAllowance)
	}
}

// differentialVersions are the versions at which some PSA check changes,
// and the newest; -short keeps v1.24 (the last PSP release) and the
// newest.
func differentialVersions(t *testing.T) []api.Version {
	newest := pss.NewestVersion()
	if testing.Short() {
		return []api.Version{api.MajorMinorVersion(1, 24), newest}
	}
	seen := map[string]bool{}
	var out []api.Version
	for _, c := range policy.DefaultChecks() {
		for _, vc := range c.Versions {
			if !seen[vc.MinimumVersion.String()] {
				seen[vc.MinimumVersion.String()] = true
				out = append(out, vc.MinimumVersion)
			}
		}
	}
	if !seen["v1.24"] {
		out = append(out, api.MajorMinorVersion(1, 24))
	}
	slices.SortFunc(out, func(a, b api.Version) int {
		switch {
		case a.Older(b):
			return -1
		case b.Older(a):
			return 1
		}
		return 0
	})
	if len(out) < 5 || out[len(out)-1] != newest {
		t.Fatalf("check versions %v: want several, ending at the newest %s", out, newest)
	}
	return out
}

func versionNames(vs []api.Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

// policyOutcome is what one PSP showed.
type policyOutcome struct {
	results                                   map[string]PolicyResult // by version
	allowancePods                             int
	pairs, admittedFixture, admittedAllowance int
	misses                                    []differentialMiss
	// unnamed are admitted pods failing, at a level stricter than the
	// reported one, a check no finding names.
	unnamed []differentialMiss
	// seccompNote says how unsetSeccompNoted failed, if it did.
	seccompNote string
	// witnessedBy names the source of the first pod failing each stricter
	// level at each version: "fixture", "allowance" or "engine".
	witnessedBy map[versionLevel]string
	unwitnessed []versionLevel
}

type versionLevel struct {
	version string
	level   api.Level
}

// differentialMiss is an admitted pod that fails the level Convert
// reported.
type differentialMiss struct {
	pod     string
	version string
	level   api.Level
	checks  []string
}

func (m differentialMiss) String() string {
	return fmt.Sprintf("admits pod %q, which fails %s at %s: %s", m.pod, m.level, m.version, strings.Join(m.checks, ", "))
}

// groupMisses words the misses of one PSP one line per level and checks:
// the versions and the first few pods; what is added after the checks.
func groupMisses(misses []differentialMiss, what string) []string {
	type group struct {
		versions, pods []string
	}
	groups := map[string]*group{}
	var keys []string
	for _, m := range misses {
		key := fmt.Sprintf("fail %s (%s)%s", m.level, strings.Join(m.checks, ", "), what)
		g := groups[key]
		if g == nil {
			g = &group{}
			groups[key] = g
			keys = append(keys, key)
		}
		if !slices.Contains(g.versions, m.version) {
			g.versions = append(g.versions, m.version)
		}
		if !slices.Contains(g.pods, m.pod) {
			g.pods = append(g.pods, m.pod)
		}
	}
	var out []string
	for _, key := range keys {
		g := groups[key]
		out = append(out, fmt.Sprintf("admits %d pods that %s at %s, e.g. %s", len(g.pods), key, strings.Join(g.versions, " "), namesList(g.pods)))
	}
	return out
}

// converter is Convert, or a stand-in that proves the check can fail.
type converter func(p *psp.PodSecurityPolicy, v api.Version) PolicyResult

// checkPolicy sends the pods through p's admission and judges the
// admitted ones against the level convert reports at each version.
func checkPolicy(p *psp.PodSecurityPolicy, pods []diffPod, versions []api.Version, convert converter) policyOutcome {
	o := policyOutcome{results: map[string]PolicyResult{}, witnessedBy: map[versionLevel]string{}}
	for _, v := range versions {
		o.results[v.String()] = convert(p, v)
	}
	for _, pod := range pods {
		o.pairs++
		source := "fixture"
		if strings.HasPrefix(pod.name, "allowance: ") {
			source = "allowance"
		}
		if o.judgeAdmitted(p, pod, versions, source) {
			if source == "fixture" {
				o.admittedFixture++
			} else {
				o.admittedAllowance++
			}
		}
	}
	for _, v := range versions {
		for _, level := range pss.StricterLevels(o.results[v.String()].Level) {
			key := versionLevel{v.String(), level}
			if o.witnessedBy[key] == "" && !o.engineWitness(p, v, level) {
				o.unwitnessed = append(o.unwitnessed, key)
			}
		}
	}
	return o
}

// judgeAdmitted runs the pod through admission and, if p admits it,
// checks it against the reported level and records the stricter levels it
// fails; it reports whether p admitted the pod.
func (o *policyOutcome) judgeAdmitted(p *psp.PodSecurityPolicy, pod diffPod, versions []api.Version, source string) bool {
	adm := psp.Admit(p, podOf(pod))
	if !adm.Admitted() {
		return false
	}
	judged := effectiveIdentity(storedPod(adm.Pod), podOf(pod))
	for _, v := range versions {
		result := o.results[v.String()]
		if result.Level != api.LevelPrivileged {
			if checks := governableChecksFailed(judged, result.Level, v); len(checks) > 0 {
				o.misses = append(o.misses, differentialMiss{pod: pod.name, version: v.String(), level: result.Level, checks: checks})
			}
		}
		for _, stricter := range pss.StricterLevels(result.Level) {
			checks := governableChecksFailed(judged, stricter, v)
			key := versionLevel{v.String(), stricter}
			if o.witnessedBy[key] == "" && len(checks) > 0 {
				o.witnessedBy[key] = source
			}
			if unnamed := unnamedChecks(result, stricter, checks); len(unnamed) > 0 {
				o.unnamed = append(o.unnamed, differentialMiss{pod: pod.name, version: v.String(), level: stricter, checks: unnamed})
			}
		}
	}
	return true
}

// unsetSeccompNoted checks that r has a seccomp note exactly when p
// rejects, for its seccomp profile, a pod that names none (the pod p's
// other settings fit, fittedTemplate); it returns how that fails, or "".
// Such a PSP runs only the workloads that set an allowed profile
// themselves, which nothing else in a conversion says.
func unsetSeccompNoted(p *psp.PodSecurityPolicy, r PolicyResult) string {
	tmpl := fittedTemplate(p)
	templateSecurity(tmpl).SeccompProfile = nil
	delete(tmpl.Annotations, psp.SeccompPodAnnotation)
	adm := psp.Admit(p, podOf(admissionPods([]diffPod{{name: "no seccomp profile", template: tmpl}})[0]))
	var seccompErrors []string
	for _, e := range adm.Errors {
		if strings.Contains(e.Field, "seccomp") {
			seccompErrors = append(seccompErrors, e.Error())
		}
	}
	noted := slices.ContainsFunc(r.Notes, func(n Note) bool { return strings.HasPrefix(n.Field, "annotations[seccomp.") })
	switch {
	case len(seccompErrors) > 0 && !noted:
		return "rejects a pod that names no seccomp profile (" + strings.Join(seccompErrors, "; ") + "), but no seccomp note says so"
	case len(seccompErrors) == 0 && noted:
		return fmt.Sprintf("has a seccomp note, but admits a pod that names no seccomp profile as far as seccomp goes (errors: %v)", adm.Errors)
	}
	return ""
}

// unnamedChecks returns the checks, failed at level, that no finding at
// that level or below names, directly or, for a restricted check, through
// the baseline check it overrides.
func unnamedChecks(r PolicyResult, level api.Level, checks []string) []string {
	var out []string
	for _, id := range checks {
		named := slices.ContainsFunc(r.Findings, func(f Finding) bool {
			if api.CompareLevels(f.Level, level) > 0 {
				return false
			}
			return slices.ContainsFunc(f.Checks, func(c string) bool {
				return c == id || (level == api.LevelRestricted && slices.Contains(checkOverrides[id], c))
			})
		})
		if !named {
			out = append(out, id)
		}
	}
	return out
}

// checkOverrides maps each restricted check to the baseline checks it
// replaces at restricted (capabilities_restricted: capabilities_baseline).
var checkOverrides = func() map[string][]string {
	out := map[string][]string{}
	for _, c := range policy.DefaultChecks() {
		for _, v := range c.Versions {
			for _, id := range v.OverrideCheckIDs {
				if !slices.Contains(out[string(c.ID)], string(id)) {
					out[string(c.ID)] = append(out[string(c.ID)], string(id))
				}
			}
		}
	}
	return out
}()

// engineWitness tries the engine's own witnesses (each on the clean pod
// with what the other fields require, as Convert judged them) as admitted
// pods, for a level nothing else showed p misses.
func (o *policyOutcome) engineWitness(p *psp.PodSecurityPolicy, v api.Version, level api.Level) bool {
	fields := analyzeAll(p)
	for i, f := range fields {
		for _, w := range f.witnesses {
			pod := requiredPod(fields, i)
			w.apply(pod)
			admission := admissionPods([]diffPod{{name: "engine witness: " + f.field + ": " + w.name, template: templateOf(pod)}})[0]
			o.judgeAdmitted(p, admission, []api.Version{v}, "engine")
			if o.witnessedBy[versionLevel{v.String(), level}] != "" {
				return true
			}
		}
	}
	return false
}

var differentialEvaluator = pss.NewEvaluator()

// governableChecksFailed returns the PSA checks of the level the pod
// fails, leaving out what no PSP governs (REFERENCE.md §7):
//
//   - hostProbesAndHostLifecycle: PSP never looked at probe or lifecycle
//     hosts;
//   - runAsNonRoot and runAsUser verdicts on identity fields that do not
//     decide who a container runs as: the caller passes the pod through
//     effectiveIdentity first.
func governableChecksFailed(pod *corev1.Pod, level api.Level, v api.Version) []string {
	var ids []string
	for _, f := range differentialEvaluator.Failures(api.LevelVersion{Level: level, Version: v}, &pod.ObjectMeta, &pod.Spec) {
		if f.ID != "hostProbesAndHostLifecycle" {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// effectiveIdentity is the admitted pod with runAsUser and runAsNonRoot as
// they decide who each container runs as, which is what 1.24 PSP judged:
// per container its own value, else the pod's, written on the container,
// and the pod's own fields dropped, since no container reads them then.
//
// A container that chose a non-zero UID itself (in written, the pod sent
// to admission) runs as non-root whatever its runAsNonRoot says, so it
// counts as runAsNonRoot: true. This is REFERENCE.md §7's exclusion
// (runAsNonRoot of a pod whose containers all run with a non-zero UID)
// applied per container: MustRunAsNonRoot admits such a container
// unchanged, MustRunAs with non-zero ranges whatever its runAsNonRoot
// says, and PSA wants the field, which only a workload patch can write.
// A UID that MustRunAs wrote in does not count: MustRunAsNonRoot would
// have written runAsNonRoot: true into that container, so its failing
// runAsNonRoot is the PSP's doing. A container with no UID keeps its
// runAsNonRoot, and UID 0 stays: those are PSP's to keep out.
func effectiveIdentity(pod, written *corev1.Pod) *corev1.Pod {
	chosen := chosenUIDs(written)
	out := pod.DeepCopy()
	podSC := out.Spec.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	visitPodContainers(&out.Spec, func(c *corev1.Container) {
		if c.SecurityContext == nil {
			c.SecurityContext = &corev1.SecurityContext{}
		}
		sc := c.SecurityContext
		sc.RunAsUser = cmp.Or(sc.RunAsUser, podSC.RunAsUser)
		sc.RunAsNonRoot = cmp.Or(sc.RunAsNonRoot, podSC.RunAsNonRoot)
		if uid := chosen[c.Name]; uid != nil && *uid != 0 {
			sc.RunAsNonRoot = new(true)
		}
	})
	podSC.RunAsUser, podSC.RunAsNonRoot = nil, nil
	return out
}

// chosenUIDs maps each container of the pod to the UID it runs as by its
// own or the pod's runAsUser, nil when neither is set.
func chosenUIDs(pod *corev1.Pod) map[string]*int64 {
	var podUID *int64
	if pod.Spec.SecurityContext != nil {
		podUID = pod.Spec.SecurityContext.RunAsUser
	}
	out := map[string]*int64{}
	visitPodContainers(&pod.Spec, func(c *corev1.Container) {
		out[c.Name] = podUID
		if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
			out[c.Name] = c.SecurityContext.RunAsUser
		}
	})
	return out
}

func findingsAt(r PolicyResult, level api.Level) string {
	var out []string
	for _, f := range r.Findings {
		if f.Level == level {
			out = append(out, f.Field+" "+strings.Join(f.Checks, ","))
		}
	}
	return strings.Join(out, "; ")
}

// differentialTotals sums the outcomes for the log.
type differentialTotals struct {
	allowancePods, pairs, admittedFixture, admittedAllowance int
	engineWitnesses, engineWitnessPSPs                       int
	levels                                                   map[string]levelCounts   // by version
	witnesses                                                map[string]witnessCounts // by version
}

type levelCounts map[api.Level]int

func (c levelCounts) String() string {
	return fmt.Sprintf("%d restricted, %d baseline, %d privileged", c[api.LevelRestricted], c[api.LevelBaseline], c[api.LevelPrivileged])
}

// witnessCounts counts, per stricter level, where its witness came from.
type witnessCounts map[api.Level]map[string]int

func (c witnessCounts) String() string {
	var parts []string
	for _, l := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
		parts = append(parts, fmt.Sprintf("%s %d fixture/%d allowance/%d engine", l, c[l]["fixture"], c[l]["allowance"], c[l]["engine"]))
	}
	return strings.Join(parts, ", ")
}

func (t *differentialTotals) add(o policyOutcome) {
	if t.levels == nil {
		t.levels, t.witnesses = map[string]levelCounts{}, map[string]witnessCounts{}
	}
	t.allowancePods += o.allowancePods
	t.pairs += o.pairs
	t.admittedFixture += o.admittedFixture
	t.admittedAllowance += o.admittedAllowance
	for v, r := range o.results {
		if t.levels[v] == nil {
			t.levels[v], t.witnesses[v] = levelCounts{}, witnessCounts{}
		}
		t.levels[v][r.Level]++
	}
	usedEngine := false
	for key, source := range o.witnessedBy {
		w := t.witnesses[key.version]
		if w[key.level] == nil {
			w[key.level] = map[string]int{}
		}
		w[key.level][source]++
		if source == "engine" {
			t.engineWitnesses++
			usedEngine = true
		}
	}
	if usedEngine {
		t.engineWitnessPSPs++
	}
}

// forEachParallel calls fn(0..n-1) on as many goroutines as there are
// processors.
func forEachParallel(n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// The differential check itself must fail when a level is wrong: a
// converter that claims too strict a level is caught by an admitted pod,
// one that claims too lax a level by the missing witness.
func TestDifferentialCheckCatchesWrongLevels(t *testing.T) {
	fixtures, _ := psaFixturePods(t)
	fixtures = admissionPods(fixtures)
	latest := pss.NewestVersion()
	claiming := func(level api.Level) converter {
		return func(p *psp.PodSecurityPolicy, v api.Version) PolicyResult {
			r := Convert(p, v)
			r.Level = level
			return r
		}
	}
	t.Run("permissive PSP claimed restricted admits privileged pods", func(t *testing.T) {
		o := checkPolicy(patchedPSP(t, permissivePSP, `{}`), fixtures, []api.Version{latest}, claiming(api.LevelRestricted))
		var checks []string
		for _, m := range o.misses {
			checks = append(checks, m.checks...)
		}
		for _, want := range []string{"privileged", "hostNamespaces", "restrictedVolumes", "runAsNonRoot", "seccompProfile_restricted"} {
			if !slices.Contains(checks, want) {
				t.Errorf("no miss names %s; misses: %v", want, o.misses)
			}
		}
	})
	t.Run("without pods a privileged PSP's levels are witnessed by the engine's witnesses", func(t *testing.T) {
		o := checkPolicy(patchedPSP(t, permissivePSP, `{}`), nil, []api.Version{latest}, Convert)
		for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
			if by := o.witnessedBy[versionLevel{latest.String(), level}]; by != "engine" {
				t.Errorf("%s witnessed by %q, want the engine", level, by)
			}
		}
		if len(o.unwitnessed) > 0 || len(o.misses) > 0 {
			t.Errorf("unwitnessed %v, misses %v", o.unwitnessed, o.misses)
		}
	})
	t.Run("a finding that leaves a check out is caught by the admitted pods failing it", func(t *testing.T) {
		withoutHostProcess := func(p *psp.PodSecurityPolicy, v api.Version) PolicyResult {
			r := Convert(p, v)
			for i := range r.Findings {
				r.Findings[i].Checks = slices.DeleteFunc(slices.Clone(r.Findings[i].Checks), func(c string) bool { return c == "windowsHostProcess" })
			}
			return r
		}
		o := checkPolicy(patchedPSP(t, permissivePSP, `{}`), fixtures, []api.Version{latest}, withoutHostProcess)
		var got []string
		for _, u := range o.unnamed {
			got = append(got, string(u.level)+": "+strings.Join(u.checks, ","))
		}
		slices.Sort(got)
		if got = slices.Compact(got); !slices.Equal(got, []string{"baseline: windowsHostProcess", "restricted: windowsHostProcess"}) {
			t.Errorf("unnamed checks %q, want windowsHostProcess at both levels", got)
		}
	})
	t.Run("MustRunAs claimed restricted admits pods it gave a UID but no runAsNonRoot", func(t *testing.T) {
		p := patchedPSP(t, basePSP, `spec: {runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 65535}]}}`)
		o := checkPolicy(p, fixtures, []api.Version{latest}, claiming(api.LevelRestricted))
		if !slices.ContainsFunc(o.misses, func(m differentialMiss) bool { return slices.Contains(m.checks, "runAsNonRoot") }) {
			t.Errorf("no miss names runAsNonRoot; misses: %v", o.misses)
		}
	})
	t.Run("an allow-list without a default and without its note is caught", func(t *testing.T) {
		p := patchedPSP(t, basePSP, `metadata: {annotations: {`+seccompDefault+`: null}}`)
		r := Convert(p, latest)
		if msg := unsetSeccompNoted(p, r); msg != "" {
			t.Fatalf("with the note: %s", msg)
		}
		r.Notes = nil
		if msg := unsetSeccompNoted(p, r); !strings.Contains(msg, "no seccomp note says so") {
			t.Errorf("without the note: %q", msg)
		}
	})
	for _, tc := range []struct {
		name, manifest string
		unwitnessed    []api.Level
	}{
		{"restricted PSP claimed privileged has no witness for baseline or restricted", basePSP, []api.Level{api.LevelBaseline, api.LevelRestricted}},
		{"baseline PSP claimed privileged has no witness for baseline", baselinePSP, []api.Level{api.LevelBaseline}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := checkPolicy(patchedPSP(t, tc.manifest, `{}`), fixtures, []api.Version{latest}, claiming(api.LevelPrivileged))
			var got []api.Level
			for _, u := range o.unwitnessed {
				got = append(got, u.level)
			}
			if len(o.misses) > 0 || !slices.Equal(got, tc.unwitnessed) {
				t.Errorf("misses %v, unwitnessed %v; want none and %v", o.misses, got, tc.unwitnessed)
			}
		})
	}
}

func TestStoredPodSyncsSeccompAsThe124Server(t *testing.T) {
	runtimeDefault := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	for _, tc := range []struct {
		name                  string
		annotations           map[string]string
		podField, appField    *corev1.SeccompProfile
		wantAnnotations       map[string]string
		wantPodField, wantApp *corev1.SeccompProfile
	}{{
		name:            "a pod annotation gets its field",
		annotations:     map[string]string{psp.SeccompPodAnnotation: "docker/default"},
		wantAnnotations: map[string]string{psp.SeccompPodAnnotation: "docker/default"},
		wantPodField:    runtimeDefault,
	}, {
		name:            "a container field gets its annotation",
		appField:        &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("p.json")},
		wantAnnotations: map[string]string{psp.SeccompContainerAnnotationPrefix + "app": "localhost/p.json"},
		wantApp:         &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("p.json")},
	}, {
		name:            "a localhost annotation without a name has no field",
		annotations:     map[string]string{psp.SeccompContainerAnnotationPrefix + "app": "localhost/"},
		wantAnnotations: map[string]string{psp.SeccompContainerAnnotationPrefix + "app": "localhost/"},
	}, {
		name:            "annotation and field both set are kept as they are",
		annotations:     map[string]string{psp.SeccompPodAnnotation: "unconfined"},
		podField:        runtimeDefault,
		wantAnnotations: map[string]string{psp.SeccompPodAnnotation: "unconfined"},
		wantPodField:    runtimeDefault,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{
				SecurityContext: &corev1.PodSecurityContext{SeccompProfile: tc.podField},
				Containers:      []corev1.Container{{Name: "app", SecurityContext: &corev1.SecurityContext{SeccompProfile: tc.appField}}},
			}}
			pod.Annotations = tc.annotations
			got := storedPod(pod)
			if !maps.Equal(got.Annotations, tc.wantAnnotations) ||
				!reflect.DeepEqual(got.Spec.SecurityContext.SeccompProfile, tc.wantPodField) ||
				!reflect.DeepEqual(got.Spec.Containers[0].SecurityContext.SeccompProfile, tc.wantApp) {
				t.Errorf("got annotations %v, pod field %v, container field %v", got.Annotations,
					got.Spec.SecurityContext.SeccompProfile, got.Spec.Containers[0].SecurityContext.SeccompProfile)
			}
		})
	}
}

func TestEffectiveIdentityKeepsOnlyWhatDecidesTheUser(t *testing.T) {
	restricted := api.LevelVersion{Level: api.LevelRestricted, Version: pss.NewestVersion()}
	for _, tc := range []struct {
		name string
		pod  string
		// written is the pod sent to admission; "" means pod.
		written    string
		wantChecks []string
	}{
		{"pod runAsUser 0 that every container overrides is not judged",
			`{securityContext: {runAsUser: 0}, containers: [{name: a, securityContext: {runAsUser: 1000}}]}`, "", nil},
		{"pod runAsNonRoot false that every container overrides is not judged",
			`{securityContext: {runAsNonRoot: false}, containers: [{name: a, securityContext: {runAsNonRoot: true}}]}`, "", nil},
		{"a non-zero UID needs no runAsNonRoot",
			`{containers: [{name: a, securityContext: {runAsUser: 1000}}, {name: b, securityContext: {runAsNonRoot: true}}]}`, "", nil},
		{"a non-zero UID with runAsNonRoot false runs as non-root",
			`{securityContext: {runAsUser: 1000, runAsNonRoot: false}, containers: [{name: a}]}`, "", nil},
		{"pod runAsUser 0 that a container inherits fails",
			`{securityContext: {runAsUser: 0, runAsNonRoot: true}, containers: [{name: a}]}`, "", []string{"runAsUser"}},
		{"no UID and runAsNonRoot false fails",
			`{securityContext: {runAsNonRoot: false}, containers: [{name: a}]}`, "", []string{"runAsNonRoot"}},
		{"no UID and no runAsNonRoot fails",
			`{containers: [{name: a, securityContext: {runAsUser: 1000}}, {name: b}]}`, "", []string{"runAsNonRoot"}},
		{"a UID MustRunAs wrote in still needs runAsNonRoot",
			`{containers: [{name: a, securityContext: {runAsUser: 1000}}]}`, `{containers: [{name: a}]}`, []string{"runAsNonRoot"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var spec, written corev1.PodSpec
			if err := yaml.UnmarshalStrict([]byte(cmp.Or(tc.written, tc.pod)), &written); err != nil {
				t.Fatal(err)
			}
			if err := yaml.UnmarshalStrict([]byte(tc.pod), &spec); err != nil {
				t.Fatal(err)
			}
			pod := effectiveIdentity(&corev1.Pod{Spec: spec}, &corev1.Pod{Spec: written})
			var got []string
			for _, f := range differentialEvaluator.Failures(restricted, &pod.ObjectMeta, &pod.Spec) {
				if f.ID == "runAsUser" || f.ID == "runAsNonRoot" {
					got = append(got, f.ID)
				}
			}
			if !slices.Equal(got, tc.wantChecks) {
				t.Errorf("identity checks failed: %v, want %v", got, tc.wantChecks)
			}
		})
	}
}
