package plan

import (
	"strings"
	"sync"

	"github.com/psp2psa/psp2psa/internal/podview"
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

// A cluster runs many workloads whose pods PSP admission and Pod Security
// admission see alike: the same containers and security settings, with
// another image, environment or config map. Their answers (which PSP
// admits them, the patch, the levels) are computed once and shared. What
// an answer depends on is the key: the template as those admissions read
// it (podview), whether the service account mounts its token, which PSPs
// the workload's identities may use, and whether another workload of the
// input carries its patch. Everything per workload (names, notes, what the
// input lacks) stays per workload.

// shareAnswers turns sharing on; tests turn it off to compare.
var shareAnswers = true

// answerKey identifies the answer of a workload.
type answerKey struct {
	template  podview.Key
	automount byte
	usable    string // usableKey
	owned     bool
}

// answers holds each answer once it is computed, and the view of each
// template; workloads are planned in parallel, and two computing the same
// thing at once is harmless.
type answers struct {
	mu    sync.Mutex
	byKey map[answerKey]*answer
	views map[*corev1.PodTemplateSpec]view
}

// view is a template's podview and its key; ok is false when the key
// could not be taken (and the answer is not shared).
type view struct {
	template *corev1.PodTemplateSpec
	key      podview.Key
	ok       bool
}

func newAnswers() *answers {
	return &answers{byKey: map[answerKey]*answer{}, views: map[*corev1.PodTemplateSpec]view{}}
}

func (a *answers) get(k answerKey) (*answer, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ans, ok := a.byKey[k]
	return ans, ok
}

func (a *answers) put(k answerKey, ans *answer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byKey[k] = ans
}

// viewOf is the template's view, taken once per template: an inventory of
// views holds one template for all workloads alike.
func (a *answers) viewOf(t *corev1.PodTemplateSpec) view {
	a.mu.Lock()
	v, ok := a.views[t]
	a.mu.Unlock()
	if ok {
		return v
	}
	v.template = podview.Of(t)
	v.key, v.ok = podview.KeyOf(v.template)
	a.mu.Lock()
	a.views[t] = v
	a.mu.Unlock()
	return v
}

// automountOf is the service account's say in mounting its token, which
// psp.AdmissionPod reads: none, unset, true or false.
func automountOf(sa *corev1.ServiceAccount) byte {
	switch {
	case sa == nil:
		return 'n'
	case sa.AutomountServiceAccountToken == nil:
		return 'u'
	case *sa.AutomountServiceAccountToken:
		return 't'
	}
	return 'f'
}

// usable caches what each identity may use in each namespace.
type usable struct {
	auth *psp.Authorizer
	mu   sync.Mutex
	sets map[string]psp.UseSet
}

func (u *usable) of(user psp.UserInfo, namespace string) psp.UseSet {
	key := namespace + "\x00" + user.Name + "\x00" + strings.Join(user.Groups, "\x00")
	u.mu.Lock()
	set, ok := u.sets[key]
	u.mu.Unlock()
	if ok {
		return set
	}
	set = u.auth.Usable(user, namespace)
	u.mu.Lock()
	u.sets[key] = set
	u.mu.Unlock()
	return set
}
