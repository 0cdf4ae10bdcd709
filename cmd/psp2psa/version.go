package main

import (
	"path/filepath"
	"runtime/debug"
	"strings"
)

// programName is how help and usage name the command: "kubectl psp2psa"
// when the binary runs as the kubectl plugin kubectl-psp2psa (kubectl
// runs plugins by that name from PATH), else "psp2psa".
var programName = "psp2psa"

// pluginPrefix starts the file name of every kubectl plugin.
const pluginPrefix = "kubectl-"

// nameFor is the program name for the path the binary was run as.
func nameFor(arg0 string) string {
	base := strings.TrimSuffix(filepath.Base(arg0), ".exe")
	if rest, ok := strings.CutPrefix(base, pluginPrefix); ok && rest != "" {
		return "kubectl " + strings.ReplaceAll(rest, "_", "-")
	}
	return "psp2psa"
}

// versionLine is what --version prints: "psp2psa v1.2.0 (revision
// 0123abcd…, modified)"; the revision is left out when the build recorded
// none.
func versionLine() string {
	version, revision, modified := buildVersion()
	line := programName + " " + version
	switch {
	case revision != "" && modified:
		line += " (revision " + revision + ", modified)"
	case revision != "":
		line += " (revision " + revision + ")"
	default:
		line += " (no VCS revision recorded)"
	}
	return line
}

// modulePath is where psp2psa lives, for SARIF and --version.
const (
	modulePath = "github.com/psp2psa/psp2psa"
	projectURL = "https://" + modulePath
)

// buildVersion is the module version and VCS revision the binary was built
// from, as the Go toolchain records them: "v1.2.0" from a tagged release,
// a pseudo-version or "(devel)" from a checkout; revision "" when the
// build recorded none (-buildvcs=false, or not built from a repository).
func buildVersion() (version, revision string, modified bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)", "", false
	}
	version = info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return version, revision, modified
}
