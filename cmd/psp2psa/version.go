package main

import (
	"runtime/debug"
)

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
