package testcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Options change how StartWith runs kube-apiserver, for tests that need a
// server configured differently from the default one.
type Options struct {
	// ExtraArgs are appended to the apiserver's flags. For a flag that
	// takes one value, the last occurrence wins, so these override the
	// defaults.
	ExtraArgs []string
	// FileFlags maps a flag name ("--admission-control-config-file") to
	// the contents of a file: the file is written into the cluster's
	// directory, and the flag, pointing at it, appended after ExtraArgs.
	// The file is removed with the directory by Stop.
	FileFlags map[string][]byte
}

// apply writes the files of FileFlags into dir and returns the flags to
// add, in a stable order so that server logs compare across runs.
func (o Options) apply(dir string) ([]string, error) {
	args := append([]string(nil), o.ExtraArgs...)
	flags := make([]string, 0, len(o.FileFlags))
	for flag := range o.FileFlags {
		flags = append(flags, flag)
	}
	sort.Strings(flags)
	for _, flag := range flags {
		name := strings.TrimLeft(flag, "-")
		if name == "" || strings.ContainsAny(name, "=/") {
			return nil, fmt.Errorf("file flag %q: want a flag name such as --admission-control-config-file", flag)
		}
		// The prefix keeps the file clear of the certificates and etcd
		// data in the same directory.
		path := filepath.Join(dir, "flag-"+name)
		if err := os.WriteFile(path, o.FileFlags[flag], 0o600); err != nil {
			return nil, fmt.Errorf("write the file for %s: %w", flag, err)
		}
		args = append(args, "--"+name+"="+path)
	}
	return args, nil
}
