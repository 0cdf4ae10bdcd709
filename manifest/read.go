package manifest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/psp2psa/psp2psa/internal/parallel"
)

// StdinFile is the Source.File of objects read from standard input.
const StdinFile = "<stdin>"

// FileIndex is the Source.Index of an error about a whole file or path
// (missing, unreadable) rather than one of its documents.
const FileIndex = -1

// readBufferSize is the read buffer of one file; lines longer than this
// still work, they are only assembled from several reads.
const readBufferSize = 64 << 10

// Read reads every Kubernetes object in paths: files, directories (walked
// recursively in lexical order, reading only .yaml, .yml and .json files
// and skipping hidden entries such as .git) and Stdin ("-") for stdin.
// A file named explicitly is read whatever its extension. Files hold YAML
// or JSON, possibly several documents; a List (kind List or any kind
// ending in List with an items array) yields one Document per item.
//
// Problems are returned as *Error values, one per file or document, and
// never stop the reading of other documents or files.
func Read(paths []string, stdin io.Reader) ([]Document, []error) {
	return ReadWith(paths, stdin, ReadOptions{})
}

// ReadOptions are the choices of ReadWith.
type ReadOptions struct {
	// Each, when set, is called with every document as soon as its file
	// is read, from several goroutines at once, before Read returns it:
	// it may decode the object into Decoded and drop its JSON, so that a
	// large input is never held as JSON whole.
	Each func(d *Document)
}

// ReadWith is Read with options.
func ReadWith(paths []string, stdin io.Reader, opts ReadOptions) ([]Document, []error) {
	r := &reader{stdin: stdin, each: opts.Each}
	for _, p := range paths {
		r.readPath(p)
	}
	return r.docs, r.errs
}

// handOut calls each on the documents not handed out yet, in parallel
// unless the reader is serial.
func (r *reader) handOut() {
	if r.each == nil {
		return
	}
	docs := r.docs[r.handed:]
	r.handed = len(r.docs)
	r.forEach(len(docs), func(i int) { r.each(&docs[i]) })
}

// reader collects the documents and errors of one Read call.
type reader struct {
	stdin     io.Reader
	stdinUsed bool
	docs      []Document
	errs      []error
	// serial converts a file's documents one after the other: the files
	// of a directory are read in parallel instead.
	serial bool
	// each is ReadOptions.Each; handed counts the documents it was
	// called with.
	each   func(d *Document)
	handed int
}

// forEach runs f(0..n-1), in parallel unless the reader is serial.
func (r *reader) forEach(n int, f func(i int)) {
	if r.serial {
		for i := range n {
			f(i)
		}
		return
	}
	parallel.For(n, f)
}

func (r *reader) fail(src Source, object, field string, err error) {
	r.errs = append(r.errs, &Error{Source: src, Object: object, Field: field, Err: err})
}

func (r *reader) failFile(file string, err error) {
	r.fail(Source{File: file, Index: FileIndex}, "", "", err)
}

func (r *reader) readPath(path string) {
	if path == Stdin {
		r.readStdin()
		return
	}
	info, err := os.Stat(path)
	if err != nil {
		r.failFile(path, err)
		return
	}
	if info.IsDir() {
		r.readDir(path)
		return
	}
	r.readFile(path)
}

func (r *reader) readStdin() {
	switch {
	case r.stdin == nil:
		r.failFile(StdinFile, errors.New("standard input is not available"))
	case r.stdinUsed:
		r.failFile(StdinFile, errors.New("standard input named more than once"))
	default:
		r.stdinUsed = true
		defer r.handOut()
		r.readStream(StdinFile, r.stdin, -1)
	}
}

// readDir walks root in lexical order. Symbolic links to files are read;
// links to directories are not followed, so a link cycle cannot loop. The
// files are read in parallel, each by one processor (a large one by all,
// on its own), and what they hold is added in walk order.
func (r *reader) readDir(root string) {
	var entries []dirEntry
	// The callback records every problem itself and never stops the walk,
	// so WalkDir has no error of its own to return.
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			entries = append(entries, dirEntry{path: path, err: err})
			if d != nil && d.IsDir() && path != root {
				return fs.SkipDir
			}
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !hasManifestExtension(path) {
			return nil
		}
		var info fs.FileInfo
		if d.Type()&fs.ModeSymlink != 0 {
			info, err = os.Stat(path)
			if err != nil {
				entries = append(entries, dirEntry{path: path, err: err})
				return nil
			}
			if !info.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		} else if info, err = d.Info(); err != nil {
			entries = append(entries, dirEntry{path: path, err: err})
			return nil
		}
		entries = append(entries, dirEntry{path: path, large: info.Size() > largeFile})
		return nil
	})
	read := make([]reader, len(entries))
	parallel.For(len(entries), func(i int) {
		if e := entries[i]; e.err == nil && !e.large {
			read[i].serial, read[i].each = true, r.each
			read[i].readFile(e.path)
		}
	})
	for i, e := range entries {
		switch {
		case e.err != nil:
			r.failFile(e.path, e.err)
		case e.large:
			r.readFile(e.path)
		default:
			r.docs = append(r.docs, read[i].docs...)
			r.errs = append(r.errs, read[i].errs...)
			r.handed = len(r.docs) // handed out as the file was read
		}
	}
}

// largeFile is the size above which a file's documents are converted by
// all processors rather than the file by one.
const largeFile = 4 << 20

// dirEntry is a file a directory walk found, or the problem it met.
type dirEntry struct {
	path  string
	large bool
	err   error
}

func hasManifestExtension(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func (r *reader) readFile(path string) {
	defer r.handOut()
	f, err := os.Open(path)
	if err != nil {
		r.failFile(path, err)
		return
	}
	defer f.Close()
	size := int64(-1)
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		size = info.Size()
	}
	r.readStream(path, f, size)
}

// bufferFor is the read buffer of a stream of size bytes (-1 unknown): big
// enough to hold a small file whole, never more than readBufferSize.
func bufferFor(size int64) int {
	if size < 0 || size >= readBufferSize {
		return readBufferSize
	}
	return max(int(size)+1, 4096)
}

// readStream reads one file's documents. A stream whose first non-blank
// character is '{' is JSON (one or more concatenated values), as kubectl
// decides; anything else is YAML, which also covers JSON documents
// between --- separators.
func (r *reader) readStream(file string, in io.Reader, size int64) {
	br := bufio.NewReaderSize(in, bufferFor(size))
	skipBOM(br)
	if startsWithJSONObject(br) {
		r.readJSONStream(file, br)
		return
	}
	r.readYAMLStream(file, br)
}

// skipBOM drops a UTF-8 byte order mark, which editors on Windows write
// and which neither YAML nor JSON decoders accept.
func skipBOM(br *bufio.Reader) {
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3)
	}
}

// startsWithJSONObject peeks, without consuming, at the first non-blank
// byte of the buffered prefix of the stream.
func startsWithJSONObject(br *bufio.Reader) bool {
	for n := 512; ; n *= 2 {
		if n > readBufferSize {
			n = readBufferSize
		}
		b, err := br.Peek(n)
		for _, c := range b {
			switch c {
			case ' ', '\t', '\r', '\n':
				continue
			}
			return c == '{'
		}
		if err != nil || n == readBufferSize {
			return false
		}
	}
}

// SyntaxError is a document that is not valid YAML or JSON.
type SyntaxError struct {
	Format string // "YAML" or "JSON"
	// Line is the 1-based line of the problem in the file, 0 if the
	// parser did not say.
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("invalid %s at line %d: %s", e.Format, e.Line, e.Msg)
	}
	return fmt.Sprintf("invalid %s: %s", e.Format, e.Msg)
}
