// Package apiserver is the kube-apiserver a migration plan will be applied
// to: its version, where that version came from, and what of the plan
// depends on it. Clusters leave PodSecurityPolicy on 1.24 and pass through
// 1.25–1.29 before a current release, and those servers differ in what
// they accept (the AppArmor field is 1.30+), in what they do to a pod
// before Pod Security admission sees it (seccomp annotations become fields
// up to 1.26) and in the newest checks they know (a label pinned to a
// newer version than the server pins nothing).
package apiserver

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// Where a target version came from.
const (
	FromFlag     = "flag"     // --server-version
	FromCluster  = "cluster"  // the live cluster's /version
	FromSnapshot = "snapshot" // the version a snapshot recorded
	FromDefault  = "default"  // plain files: the newest version this build knows
)

// Target is the apiserver a plan is for.
type Target struct {
	// Version is the server's major.minor.
	Version api.Version `json:"-"`
	// From says where Version came from: FromFlag, FromCluster,
	// FromSnapshot or FromDefault.
	From string `json:"from"`
}

func (t Target) String() string { return t.Version.String() }

// MarshalJSON writes {"version": "v1.N", "from": ...}.
func (t Target) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Version string `json:"version"`
		From    string `json:"from"`
	}{t.Version.String(), t.From})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Target) UnmarshalJSON(data []byte) error {
	var raw struct {
		Version string `json:"version"`
		From    string `json:"from"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	v, err := api.ParseVersion(raw.Version)
	if err != nil {
		return fmt.Errorf("target version: %w", err)
	}
	t.Version, t.From = v, raw.From
	return nil
}

// Default is the target of plain files: the newest version this build
// knows.
func Default() Target { return Target{Version: pss.NewestVersion(), From: FromDefault} }

var serverVersion = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$`)

// ParseVersion reads a server version as users and servers write it:
// v1.29, 1.29, v1.24.17 or v1.30.2-gke.1: only major.minor count. The
// version must have Pod Security Admission (1.22+) and be no newer than
// this build knows, so that everything planned for it is known.
func ParseVersion(s string) (api.Version, error) {
	m := serverVersion.FindStringSubmatch(s)
	if m == nil {
		return api.Version{}, fmt.Errorf("server version %q: want v1.N (as kubectl version prints it)", s)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major != 1 {
		return api.Version{}, fmt.Errorf("server version %q: want v1.N", s)
	}
	v := api.MajorMinorVersion(major, minor)
	if v.Older(pss.FirstVersion) {
		return api.Version{}, fmt.Errorf("server version %q: Pod Security Admission starts at %s", s, pss.FirstVersion)
	}
	if newest := pss.NewestVersion(); newest.Older(v) {
		return api.Version{}, fmt.Errorf("server version %q: this build knows servers up to %s", s, newest)
	}
	return v, nil
}

// atLeast reports whether the target is minor 1.N or newer.
func (t Target) atLeast(minor int) bool {
	return !t.Version.Older(api.MajorMinorVersion(1, minor))
}

// AppArmorField reports whether the server has securityContext.
// appArmorProfile (1.30+); before, AppArmor is the annotation
// container.apparmor.security.beta.kubernetes.io/<container>, and the
// field is unknown to it (rejected by strict field validation, dropped
// otherwise).
func (t Target) AppArmorField() bool { return t.atLeast(30) }

// CopiesSeccompAnnotations reports whether the server turns seccomp
// annotations into seccompProfile fields when it creates a pod, before
// validating admission (1.19–1.26; removed in 1.27), so that Pod Security
// admission judges the annotations there.
func (t Target) CopiesSeccompAnnotations() bool { return !t.atLeast(27) }

// ValidatingAdmissionPolicies reports whether the server serves
// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (GA 1.30).
func (t Target) ValidatingAdmissionPolicies() bool { return t.atLeast(30) }

// MutatingAdmissionPolicies reports whether the server serves
// admissionregistration.k8s.io/v1 MutatingAdmissionPolicy (GA 1.36).
func (t Target) MutatingAdmissionPolicies() bool { return t.atLeast(36) }

// PSSVersion resolves the PSS version of a plan for this target: the
// target's own version unless one is asked for, and never a newer one,
// which the server would treat as its own newest (a pin that pins
// nothing).
func (t Target) PSSVersion(asked *api.Version) (api.Version, error) {
	if asked == nil {
		return t.Version, nil
	}
	if t.Version.Older(*asked) {
		return api.Version{}, fmt.Errorf("PSS version %s is newer than the target kube-apiserver %s (%s): that server evaluates a newer pin as its own %s, so it would pin nothing; use --pss-version %s or older, or --server-version", *asked, t.Version, t.From, t.Version, t.Version)
	}
	return *asked, nil
}
