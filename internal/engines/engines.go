// Package engines finds the policy engines' CLIs that hack/engines/build.sh
// builds from Go modules (the Kyverno CLI and Gatekeeper's gator), for the
// differential tests of kyverno/ and gatekeeper/.
package engines

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// CacheEnv overrides the directory holding the binaries.
const CacheEnv = "PSP2PSA_ENGINES"

// The releases pinned by hack/engines (build.sh names the binaries so).
const (
	KyvernoVersion = "v1.12.6"
	GatorVersion   = "v3.23.1"
)

// CacheDir is where the binaries are looked up.
func CacheDir() string {
	if dir := os.Getenv(CacheEnv); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "psp2psa", "engines")
	}
	return filepath.Join(home, ".cache", "psp2psa", "engines")
}

// Kyverno returns the path of the Kyverno CLI; see find.
func Kyverno(t testing.TB) string { return find(t, "kyverno-"+KyvernoVersion) }

// Gator returns the path of gator; see find.
func Gator(t testing.TB) string { return find(t, "gator-"+GatorVersion) }

// find returns the path of a built engine. It skips the test in -short
// mode, and when the binary is missing, unless CI is set: then the missing
// binary fails the test.
func find(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a policy engine's CLI; skipped in -short mode")
	}
	path := filepath.Join(CacheDir(), name)
	info, err := os.Stat(path)
	if err == nil && info.Mode()&0o111 == 0 {
		err = fmt.Errorf("%s is not executable", path)
	}
	if err != nil {
		msg := fmt.Sprintf("%s: %v; build it with `bash hack/engines/build.sh` (or `make engines`)", name, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// Run runs an engine with the arguments and returns its standard output;
// a non-zero exit is not an error (engines exit 1 when a policy fails),
// but standard error is returned with it.
func Run(t testing.TB, bin string, args ...string) (stdout, stderr []byte, exitCode int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.Bytes(), errOut.Bytes(), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, errOut.Bytes())
	}
	return out.Bytes(), errOut.Bytes(), 0
}

// WriteYAML writes the objects to path as one YAML stream, for an engine
// to read.
func WriteYAML(t testing.TB, path string, objs ...any) {
	t.Helper()
	docs := make([]string, len(objs))
	for i, obj := range objs {
		data, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = string(data)
	}
	if err := os.WriteFile(path, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}
