package pss

import (
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// CheckResult is one PSA check's verdict on a pod, with the check's ID and
// level, which policy.CheckResult leaves out.
type CheckResult struct {
	ID      string    `json:"check"`
	Level   api.Level `json:"level"`
	Allowed bool      `json:"allowed"`
	Reason  string    `json:"reason,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// Evaluator runs the PSA checks of a level and version on pods. It is safe
// for concurrent use.
type Evaluator struct {
	checks []policy.Check
	whole  policy.Evaluator
	// selected caches the checks of each level and version.
	selected sync.Map // api.LevelVersion -> []selectedCheck
}

// NewEvaluator returns an evaluator over PSA's default checks.
func NewEvaluator() *Evaluator {
	whole, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		// The default checks are validated by the library's own tests.
		panic("pod-security-admission default checks are invalid: " + err.Error())
	}
	return &Evaluator{checks: policy.DefaultChecks(), whole: whole}
}

// Allowed reports whether the pod passes the level at the version, exactly
// as the PodSecurity admission plugin decides it.
func (e *Evaluator) Allowed(lv api.LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) bool {
	spec = Defaulted(spec)
	return policy.AggregateCheckResults(e.whole.EvaluatePod(lv, meta, spec)).Allowed
}

// Failures returns the checks of the level and version that forbid the pod,
// in check ID order; none means the pod passes.
func (e *Evaluator) Failures(lv api.LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []CheckResult {
	var failed []CheckResult
	for _, r := range e.Evaluate(lv, meta, spec) {
		if !r.Allowed {
			failed = append(failed, r)
		}
	}
	return failed
}

// Evaluate runs every check of the level and version on the pod and
// returns each verdict with its check ID. It selects checks the way the
// library's registry does: the newest revision not newer than the version,
// and at restricted the baseline checks minus those a restricted check
// overrides.
func (e *Evaluator) Evaluate(lv api.LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []CheckResult {
	if lv.Level == api.LevelPrivileged {
		return nil
	}
	if meta == nil {
		meta = &metav1.ObjectMeta{}
	}
	spec = Defaulted(spec)
	version := lv.Version
	if version.Latest() || newestVersion.Older(version) {
		version = newestVersion
	}
	selected := e.checksFor(api.LevelVersion{Level: lv.Level, Version: version})
	out := make([]CheckResult, 0, len(selected))
	for _, s := range selected {
		r := s.fn(meta, spec)
		out = append(out, CheckResult{ID: string(s.id), Level: s.level, Allowed: r.Allowed, Reason: r.ForbiddenReason, Detail: r.ForbiddenDetail})
	}
	return out
}

type selectedCheck struct {
	id    policy.CheckID
	level api.Level
	fn    policy.CheckPodFn
}

func (e *Evaluator) checksFor(lv api.LevelVersion) []selectedCheck {
	if cached, ok := e.selected.Load(lv); ok {
		return cached.([]selectedCheck)
	}
	checks := e.selectChecks(lv.Level, lv.Version)
	e.selected.Store(lv, checks)
	return checks
}

func (e *Evaluator) selectChecks(level api.Level, version api.Version) []selectedCheck {
	var out []selectedCheck
	overridden := map[policy.CheckID]bool{}
	for _, c := range e.checks {
		if c.Level == api.LevelRestricted && level != api.LevelRestricted {
			continue
		}
		vc, ok := revisionAt(c, version)
		if !ok {
			continue
		}
		for _, id := range vc.OverrideCheckIDs {
			overridden[id] = true
		}
		out = append(out, selectedCheck{id: c.ID, level: c.Level, fn: vc.CheckPod})
	}
	out = slices.DeleteFunc(out, func(s selectedCheck) bool { return s.level == api.LevelBaseline && overridden[s.id] })
	slices.SortFunc(out, func(a, b selectedCheck) int {
		if a.level != b.level {
			return api.CompareLevels(a.level, b.level)
		}
		return compareStrings(string(a.id), string(b.id))
	})
	return out
}

// revisionAt returns the check's newest revision not newer than version.
func revisionAt(c policy.Check, version api.Version) (policy.VersionedCheck, bool) {
	var found policy.VersionedCheck
	ok := false
	for _, vc := range c.Versions {
		if version.Older(vc.MinimumVersion) {
			break
		}
		found, ok = vc, true
	}
	return found, ok
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Defaulted returns the spec with the API defaulting PSA relies on: the
// evaluator sees stored objects, where a volume with no source is an
// emptyDir. The input is not modified.
func Defaulted(spec *corev1.PodSpec) *corev1.PodSpec {
	if spec == nil {
		return &corev1.PodSpec{}
	}
	needs := false
	for i := range spec.Volumes {
		if isSourceless(&spec.Volumes[i].VolumeSource) {
			needs = true
			break
		}
	}
	if !needs {
		return spec
	}
	out := spec.DeepCopy()
	for i := range out.Volumes {
		if isSourceless(&out.Volumes[i].VolumeSource) {
			out.Volumes[i].VolumeSource.EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
	}
	return out
}

func isSourceless(s *corev1.VolumeSource) bool {
	return *s == (corev1.VolumeSource{})
}
