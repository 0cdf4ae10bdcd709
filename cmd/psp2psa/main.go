// Command psp2psa takes clusters off PodSecurityPolicy and onto Pod
// Security Admission. This package is wiring only: flags, inputs, outputs;
// the work is done in the packages it calls.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
