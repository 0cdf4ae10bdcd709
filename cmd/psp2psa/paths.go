package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/manifest"
)

// refuseStdin is a usage error when the paths name standard input for a
// command that writes back to its input files.
func refuseStdin(what string, paths []string) error {
	if slices.Contains(paths, manifest.Stdin) {
		return usageError(fmt.Errorf("%s: standard input has no file to write to; give the manifests as files", what))
	}
	return nil
}

// refuseOutputInInputs is a usage error when the output directory of flag
// lies inside an input directory (the next run would read the written
// files as input, duplicates of the objects they patch) or would overwrite
// an input file. Paths are compared after resolving symbolic links.
func refuseOutputInInputs(flag, out string, paths []string) error {
	outAbs, err := resolved(out)
	if err != nil {
		return usageError(fmt.Errorf("%s %s: %w", flag, out, err))
	}
	for _, p := range paths {
		if p == manifest.Stdin {
			continue
		}
		in, err := resolved(p)
		if err != nil {
			continue // the reader reports a missing input
		}
		info, err := os.Stat(in)
		if err != nil {
			continue
		}
		dir := in
		if !info.IsDir() {
			dir = filepath.Dir(in)
			if dir != outAbs {
				continue
			}
		}
		if within(outAbs, dir) {
			return usageError(fmt.Errorf("%s %s lies inside the input %s: the next run would read what it writes as input; choose a directory outside the inputs", flag, out, p))
		}
	}
	return nil
}

// resolved is path made absolute, with the symbolic links of its longest
// existing prefix resolved (the output directory may not exist yet).
func resolved(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		real, err := filepath.EvalSymlinks(dir)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) || filepath.Dir(dir) == dir {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}
