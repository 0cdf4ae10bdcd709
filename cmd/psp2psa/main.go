// Command psp2psa takes clusters off PodSecurityPolicy and onto Pod
// Security Admission. This package is wiring only: flags, inputs, outputs;
// the work is done in the packages it calls.
package main

import (
	"io"
	"os"

	"k8s.io/klog/v2"
)

func main() {
	// client-go logs a failed request (a body cut off, say) by itself;
	// the reader retries it, and reports what still fails in its own words.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	programName = nameFor(os.Args[0])
	stopProfiles := startProfiles(os.Stderr)
	stopTuning := tuneGC()
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopTuning()
	stopProfiles()
	os.Exit(code)
}
