// Package fsutil writes files so that a reader, or a crash, sees either the
// old content or the new one, never a part.
package fsutil

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// WriteFileAtomic replaces the file at path with data: it writes a
// temporary file in the same directory, syncs it, and renames it over
// path. An existing file keeps its permission bits (perm applies only to a
// new file, exactly, without the umask); a symbolic link keeps pointing to
// its target, which is the file replaced. The owner of a replaced file is
// not carried over. On error the original is untouched and no temporary
// file is left.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeFileAtomic(path, data, perm, writeAndSync, syncDir)
}

// Batch writes many files, each as WriteFileAtomic does, but syncs each
// directory once, in Sync, rather than after every rename: a file is
// still either old or new at any moment, and the renames are durable once
// Sync returns. Its methods may be called from any goroutine.
type Batch struct {
	mu   sync.Mutex
	dirs map[string]bool
}

// WriteFile replaces the file at path with data, as WriteFileAtomic.
func (b *Batch) WriteFile(path string, data []byte, perm os.FileMode) error {
	return writeFileAtomic(path, data, perm, writeAndSync, b.renamedInto)
}

func (b *Batch) renamedInto(dir string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dirs == nil {
		b.dirs = map[string]bool{}
	}
	b.dirs[dir] = true
}

// Sync makes the renames so far durable: it syncs each directory a file
// was renamed into.
func (b *Batch) Sync() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for dir := range b.dirs {
		syncDir(dir)
	}
	b.dirs = nil
}

// writeAndSync is the step tests replace to inject failures.
func writeAndSync(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}

// WriteAtomic is WriteFileAtomic for contents written as they are made:
// write writes them to the temporary file (buffered), which replaces path
// only when write succeeds. Nothing needs to hold the contents whole.
func WriteAtomic(path string, perm os.FileMode, write func(w io.Writer) error) error {
	return writeFileAtomic(path, nil, perm, func(f *os.File, _ []byte) error {
		bw := bufio.NewWriterSize(f, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return f.Sync()
	}, syncDir)
}

// writeFileAtomic writes the temporary file with write, renames it over
// path and hands its directory to renamed, which makes the rename durable.
func writeFileAtomic(path string, data []byte, perm os.FileMode, write func(*os.File, []byte) error, renamed func(dir string)) (err error) {
	target, mode, err := resolve(path, perm)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(tmp, data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	renamed(dir)
	return nil
}

// resolve follows symbolic links to the file to replace and picks the
// mode the new file gets.
func resolve(path string, perm os.FileMode) (string, os.FileMode, error) {
	target, err := filepath.EvalSymlinks(path)
	if os.IsNotExist(err) {
		return path, perm, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", path, err)
	}
	info, err := os.Stat(target)
	if err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return "", 0, fmt.Errorf("writing %s: not a regular file", path)
	}
	return target, info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky), nil
}

// syncDir makes the rename durable. Some systems cannot sync a directory;
// the rename has happened by then, so a failure here is not reported.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}
