package pss

import (
	"strings"

	"k8s.io/pod-security-admission/api"
)

// LabelPrefix starts every Pod Security namespace label.
const LabelPrefix = "pod-security.kubernetes.io/"

// Mode is what a namespace label does with a level.
type Mode string

// The three modes, in the order a rollout turns them on.
const (
	Warn    Mode = "warn"
	Audit   Mode = "audit"
	Enforce Mode = "enforce"
)

// LevelLabel is the label that sets the mode's level
// ("pod-security.kubernetes.io/enforce").
func LevelLabel(m Mode) string { return LabelPrefix + string(m) }

// VersionLabel is the label that pins the mode's version
// ("pod-security.kubernetes.io/enforce-version").
func VersionLabel(m Mode) string { return LabelPrefix + string(m) + "-version" }

// IsLabel reports whether a label key is a Pod Security label.
func IsLabel(key string) bool { return strings.HasPrefix(key, LabelPrefix) }

// Labels sets each mode to its level, every one pinned to the version.
func Labels(levels map[Mode]api.Level, version api.Version) map[string]string {
	out := make(map[string]string, 2*len(levels))
	for mode, level := range levels {
		out[LevelLabel(mode)] = string(level)
		out[VersionLabel(mode)] = version.String()
	}
	return out
}
