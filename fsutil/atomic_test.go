package fsutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
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
			err := writeFileAtomic(path, []byte("replacement content\n"), 0o644, tt.write, func(string) { t.Error("a failed write renamed") })
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

// TestBatchWritesEachFileAndSyncsEachDirectoryOnce: files written in a
// batch from several goroutines are whole, keep their modes as
// WriteFileAtomic does, leave no temporary file, and Sync syncs every
// directory written into, once.
func TestBatchWritesEachFileAndSyncsEachDirectoryOnce(t *testing.T) {
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "patches"), filepath.Join(root, "rollout")}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	replaced := filepath.Join(dirs[1], "step-1.sh")
	writeOriginal(t, replaced, "old\n", 0o755)
	var b Batch
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			path := filepath.Join(dirs[i%2], fmt.Sprintf("f%d.yaml", i))
			if i == 1 {
				path = replaced
			}
			if err := b.WriteFile(path, []byte(path+"\n"), 0o644); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(b.dirs); got != 2 {
		t.Errorf("%d directories to sync, want 2", got)
	}
	b.Sync()
	if b.dirs != nil {
		t.Errorf("directories left to sync after Sync: %v", b.dirs)
	}
	assertFile(t, replaced, replaced+"\n", 0o755)
	assertFile(t, filepath.Join(dirs[0], "f0.yaml"), filepath.Join(dirs[0], "f0.yaml")+"\n", 0o644)
	for _, d := range dirs {
		assertNoTempFiles(t, d)
	}
}
