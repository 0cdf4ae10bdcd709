package fsutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomicCreatesFileWithPerm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.yaml")
	if err := WriteFileAtomic(path, []byte("kind: Pod\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	assertFile(t, path, "kind: Pod\n", 0o640)
	assertNoTempFiles(t, filepath.Dir(path))
}

func TestWriteFileAtomicKeepsModeOfReplacedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deploy.yaml")
	writeOriginal(t, path, "old\n", 0o600)
	if err := WriteFileAtomic(path, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertFile(t, path, "new\n", 0o600)
	assertNoTempFiles(t, filepath.Dir(path))
}

func TestWriteFileAtomicFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.yaml")
	link := filepath.Join(dir, "link.yaml")
	writeOriginal(t, target, "old\n", 0o644)
	if err := os.Symlink("real.yaml", link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := WriteFileAtomic(link, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", info, err)
	}
	assertFile(t, target, "new\n", 0o644)
}

func TestWriteFileAtomicFailureLeavesOriginal(t *testing.T) {
	errDisk := errors.New("disk full")
	tests := []struct {
		name  string
		write func(*os.File, []byte) error
	}{
		{
			name: "write fails half-way",
			write: func(f *os.File, data []byte) error {
				if _, err := f.Write(data[:len(data)/2]); err != nil {
					return err
				}
				return errDisk
			},
		},
		{
			name: "sync fails after a full write",
			write: func(f *os.File, data []byte) error {
				if _, err := f.Write(data); err != nil {
					return err
				}
				return errDisk
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "deploy.yaml")
			writeOriginal(t, path, "original\n", 0o644)
			err := writeFileAtomic(path, []byte("replacement content\n"), 0o644, tt.write)
			if !errors.Is(err, errDisk) {
				t.Fatalf("got %v, want the write error", err)
			}
			assertFile(t, path, "original\n", 0o644)
			assertNoTempFiles(t, filepath.Dir(path))
		})
	}
}

func TestWriteFileAtomicReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only directories; the injected failures cover this")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "deploy.yaml")
	writeOriginal(t, path, "original\n", 0o644)
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if err := WriteFileAtomic(path, []byte("new\n"), 0o644); err == nil {
		t.Fatal("no error writing into a read-only directory")
	}
	assertFile(t, path, "original\n", 0o644)
}

func TestWriteFileAtomicRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "manifests")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(sub, []byte("x"), 0o644); err == nil {
		t.Fatal("replaced a directory")
	}
	if info, err := os.Stat(sub); err != nil || !info.IsDir() {
		t.Fatalf("directory gone: %v", err)
	}
	assertNoTempFiles(t, dir)
}

func writeOriginal(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func assertFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != content {
		t.Errorf("content %q, want %q", got, content)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != mode {
		t.Errorf("mode %v, want %v", info.Mode().Perm(), mode)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

func TestWriteAtomicStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.yaml")
	writeOriginal(t, path, "old\n", 0o600)
	if err := WriteAtomic(path, 0o644, func(w io.Writer) error {
		for i := range 3 {
			if _, err := fmt.Fprintf(w, "line %d\n", i); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, path, "line 0\nline 1\nline 2\n", 0o600)
	failure := errors.New("the encoder failed")
	err := WriteAtomic(path, 0o644, func(w io.Writer) error {
		fmt.Fprint(w, "partial")
		return failure
	})
	if !errors.Is(err, failure) {
		t.Fatalf("err = %v, want the writer's", err)
	}
	assertFile(t, path, "line 0\nline 1\nline 2\n", 0o600)
	assertNoTempFiles(t, filepath.Dir(path))
}
