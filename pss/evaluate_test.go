package pss

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

// psaTestdata returns the test/testdata directory of the linked
// k8s.io/pod-security-admission module.
func psaTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatalf("locating k8s.io/pod-security-admission: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "test", "testdata")
}

// TestEvaluateMatchesLibrary runs every fixture pod the PSA module ships
// through Evaluate and the library's own evaluator: the per-check results
// must agree with the aggregate verdict and with the fixture's pass/fail
// directory.
func TestEvaluateMatchesLibrary(t *testing.T) {
	e := NewEvaluator()
	files, err := filepath.Glob(filepath.Join(psaTestdata(t), "*", "v1.*", "*", "*.yaml"))
	if err != nil || len(files) < 4000 {
		t.Fatalf("want the module's >4000 fixtures, got %d (%v)", len(files), err)
	}
	for _, f := range files {
		rel := strings.Split(filepath.ToSlash(f), "/")
		level, version, want := rel[len(rel)-4], rel[len(rel)-3], rel[len(rel)-2]
		lv := api.LevelVersion{Level: api.Level(level), Version: mustVersion(t, version)}
		pod := readPod(t, f)
		allowed := e.Allowed(lv, &pod.ObjectMeta, &pod.Spec)
		failures := e.Failures(lv, &pod.ObjectMeta, &pod.Spec)
		if allowed != (len(failures) == 0) {
			t.Errorf("%s: aggregate allowed=%v but per-check failures %v", f, allowed, failures)
		}
		if allowed != (want == "pass") {
			t.Errorf("%s: allowed=%v, fixture is in %s/", f, allowed, want)
		}
	}
}

func TestParseVersionLatestIsConcrete(t *testing.T) {
	v, err := ParseVersion("latest")
	if err != nil || v.Latest() || v.Minor() < 37 {
		t.Fatalf("ParseVersion(latest) = %v, %v; want a concrete v1.37+", v, err)
	}
	if _, err := ParseVersion("1.2.3"); err == nil {
		t.Fatal("ParseVersion accepted a malformed version")
	}
	old, _ := ParseVersion("v1.23")
	if old.String() != "v1.23" {
		t.Fatalf("ParseVersion(v1.23) = %v", old)
	}
}

func mustVersion(t *testing.T, s string) api.Version {
	v, err := api.ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readPod(t *testing.T, path string) *corev1.Pod {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal(data, &pod); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &pod
}

func TestParseSupportedVersion(t *testing.T) {
	newest := NewestVersion().String()
	tests := []struct {
		in, want string
		err      string // part of the error; "" for none
	}{
		{in: "latest", want: newest},
		{in: "v1.22", want: "v1.22"},
		{in: "v1.29", want: "v1.29"},
		{in: newest, want: newest},
		{in: "v1.21", err: "starts at v1.22"},
		{in: "v1.10", err: "starts at v1.22"},
		{in: "v1.99", err: "knows the checks up to " + newest},
		{in: "1.29", err: "want latest or v1.N"},
		{in: "v2.0", err: "want latest or v1.N"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := ParseSupportedVersion(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseSupportedVersion(%q) = %v, %v; want an error with %q", tt.in, v, err, tt.err)
				}
				return
			}
			if err != nil || v.String() != tt.want {
				t.Fatalf("ParseSupportedVersion(%q) = %v, %v; want %s", tt.in, v, err, tt.want)
			}
		})
	}
}
