// Package pss is the Pod Security Standards side of the migration: levels,
// versions, namespace labels and the evaluator. Every verdict comes from the
// checks of k8s.io/pod-security-admission, the code the apiserver runs; this
// package only selects them by level and version and keeps their IDs.
package pss

import (
	"fmt"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// Levels, from least to most strict.
const (
	Privileged = api.LevelPrivileged
	Baseline   = api.LevelBaseline
	Restricted = api.LevelRestricted
)

// Levels lists every level from least to most strict.
var Levels = []api.Level{Privileged, Baseline, Restricted}

// Stricter reports whether level a is stricter than level b.
func Stricter(a, b api.Level) bool { return api.CompareLevels(a, b) > 0 }

// StricterLevels returns the levels stricter than l, least strict first.
func StricterLevels(l api.Level) []api.Level {
	var out []api.Level
	for _, candidate := range Levels {
		if Stricter(candidate, l) {
			out = append(out, candidate)
		}
	}
	return out
}

// NextStricter returns the level just above l, or l when it is restricted.
func NextStricter(l api.Level) api.Level {
	if s := StricterLevels(l); len(s) > 0 {
		return s[0]
	}
	return l
}

// ParseLevel parses a level name.
func ParseLevel(s string) (api.Level, error) {
	l, err := api.ParseLevel(s)
	if err != nil {
		return "", fmt.Errorf("level %q: want privileged, baseline or restricted", s)
	}
	return l, nil
}

// NewestVersion is the newest PSS version the linked PSA library has
// checks for; "latest" evaluates as this version.
func NewestVersion() api.Version { return newestVersion }

var newestVersion = func() api.Version {
	var newest api.Version
	for _, c := range policy.DefaultChecks() {
		last := c.Versions[len(c.Versions)-1].MinimumVersion
		if newest.Older(last) {
			newest = last
		}
	}
	return newest
}()

// FirstVersion is the first Kubernetes release with Pod Security
// Admission: a pin to an older version means nothing to any apiserver a
// migration targets.
var FirstVersion = api.MajorMinorVersion(1, 22)

// ParseSupportedVersion parses a version given by the user: "latest" or
// v1.N from FirstVersion to NewestVersion. Anything else is an error that
// says why, rather than a version silently replaced by another.
func ParseSupportedVersion(s string) (api.Version, error) {
	v, err := api.ParseVersion(s)
	if err != nil {
		return api.Version{}, fmt.Errorf("PSS version %q: want latest or v1.N: %w", s, err)
	}
	switch {
	case v.Latest():
		return newestVersion, nil
	case v.Older(FirstVersion):
		return api.Version{}, fmt.Errorf("PSS version %q: Pod Security Admission starts at %s", s, FirstVersion)
	case newestVersion.Older(v):
		return api.Version{}, fmt.Errorf("PSS version %q: this build knows the checks up to %s; a newer build is needed for %s", s, newestVersion, v)
	}
	return v, nil
}

// ParseVersion parses "latest" or "v1.N" for evaluation. "latest", and any
// version newer than this build knows, resolve to the newest version this
// build knows, as the PSA library evaluates them, so that every output
// names a concrete version.
func ParseVersion(s string) (api.Version, error) {
	v, err := api.ParseVersion(s)
	if err != nil {
		return api.Version{}, fmt.Errorf("PSS version %q: want latest or v1.N: %w", s, err)
	}
	if v.Latest() || newestVersion.Older(v) {
		return newestVersion, nil
	}
	return v, nil
}
