package testcluster

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestOptionsWriteFilesAndPointFlagsAtThem(t *testing.T) {
	dir := t.TempDir()
	opts := Options{
		ExtraArgs: []string{"--v=2"},
		FileFlags: map[string][]byte{
			"--admission-control-config-file": []byte("kind: AdmissionConfiguration\n"),
			"--audit-policy-file":             []byte("kind: Policy\n"),
		},
	}
	args, err := opts.apply(dir)
	if err != nil {
		t.Fatal(err)
	}
	admission := filepath.Join(dir, "flag-admission-control-config-file")
	audit := filepath.Join(dir, "flag-audit-policy-file")
	want := []string{"--v=2", "--admission-control-config-file=" + admission, "--audit-policy-file=" + audit}
	if !slices.Equal(args, want) {
		t.Errorf("args = %q, want %q", args, want)
	}
	for path, content := range map[string]string{admission: "kind: AdmissionConfiguration\n", audit: "kind: Policy\n"} {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("%s holds %q, want %q", path, got, content)
		}
	}
}

func TestOptionsRejectAFileFlagThatIsNotAName(t *testing.T) {
	for _, flag := range []string{"--", "--config=x", "--../escape"} {
		if _, err := (Options{FileFlags: map[string][]byte{flag: nil}}).apply(t.TempDir()); err == nil {
			t.Errorf("file flag %q accepted", flag)
		}
	}
}

func TestExtraArgsComeAfterTheDefaults(t *testing.T) {
	c := &Cluster{minor: "v1.37", dir: t.TempDir(), extraArgs: []string{"--profiling=true"}}
	args := c.apiServerArgs(pkiFiles{}, "http://127.0.0.1:1", 1)
	if args[len(args)-1] != "--profiling=true" || !slices.Contains(args, "--profiling=false") {
		t.Errorf("the extra flag must follow the default it overrides: %q", args)
	}
}
