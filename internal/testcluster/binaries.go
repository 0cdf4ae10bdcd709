package testcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// CacheEnv overrides the directory holding the binaries that
// hack/testservers/build.sh produces.
const CacheEnv = "PSP2PSA_TESTSERVERS"

// serverVersions maps the minor versions tests ask for to the exact
// kube-apiserver release pinned in hack/testservers.
var serverVersions = map[string]string{
	"v1.24": "v1.24.17",
	"v1.29": "v1.29.15",
	"v1.37": "v1.37.2",
}

// Versions lists the minor versions Start accepts, oldest first.
func Versions() []string {
	vs := make([]string, 0, len(serverVersions))
	for v := range serverVersions {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	return vs
}

// resolveVersion accepts "v1.24" or the exact "v1.24.17" and returns the minor
// and the exact release.
func resolveVersion(version string) (minor, exact string, err error) {
	if full, ok := serverVersions[version]; ok {
		return version, full, nil
	}
	for m, full := range serverVersions {
		if full == version {
			return m, full, nil
		}
	}
	return "", "", fmt.Errorf("unsupported kube-apiserver version %q (have %s)",
		version, strings.Join(Versions(), ", "))
}

// CacheDir is where the server binaries are looked up.
func CacheDir() string {
	if dir := os.Getenv(CacheEnv); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "psp2psa", "testservers")
	}
	return filepath.Join(home, ".cache", "psp2psa", "testservers")
}

// binaries are the executables one cluster of a given version needs.
type binaries struct {
	Etcd, APIServer string
}

// findBinaries checks that both executables for version exist, naming every
// missing one so the error says exactly what to build.
func findBinaries(version string) (binaries, error) {
	_, exact, err := resolveVersion(version)
	if err != nil {
		return binaries{}, err
	}
	dir := CacheDir()
	b := binaries{
		Etcd:      filepath.Join(dir, "etcd"),
		APIServer: filepath.Join(dir, "kube-apiserver-"+exact),
	}
	var errs []error
	for _, path := range []string{b.Etcd, b.APIServer} {
		if err := checkExecutable(path); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return binaries{}, fmt.Errorf("test servers for %s not built (run hack/testservers/build.sh or set %s): %w",
			version, CacheEnv, err)
	}
	return b, nil
}

func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("missing %s: %w", path, err)
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
