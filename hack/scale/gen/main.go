// Command gen writes the synthetic cluster of the whole-process benchmark
// (hack/scale/run.sh, internal/scalegen), shaped like a large GitOps
// repository:
//
//	DIR/cluster/policies.yaml                the PodSecurityPolicies
//	DIR/cluster/rbac.yaml                    a ClusterRole per PSP, one cluster-wide grant
//	DIR/namespaces/NS/namespace.yaml         the Namespace, its ServiceAccounts and RoleBindings
//	DIR/namespaces/NS/workloads-NS-K.yaml    a few workloads per file
//
// -snapshot FILE also writes the same objects as one YAML List, as psp2psa
// snapshot writes a 1.24 cluster.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/psp2psa/psp2psa/internal/scalegen"
)

func main() {
	n := flag.Int("n", 1000, "number of workloads")
	out := flag.String("out", "", "directory to write the manifests to (must not exist)")
	perFile := flag.Int("per-file", 5, "workloads per file")
	snapshot := flag.String("snapshot", "", "also write the same objects as one YAML List to this file")
	flag.Parse()
	if *out == "" || *n < 1 || *perFile < 1 {
		fmt.Fprintln(os.Stderr, "usage: gen -n N -out DIR [-per-file K] [-snapshot FILE]")
		os.Exit(2)
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintf(os.Stderr, "gen: %s exists\n", *out)
		os.Exit(2)
	}
	c := scalegen.New(*n)
	if err := c.WriteRepo(*out, *perFile); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if *snapshot != "" {
		if err := c.WriteSnapshot(*snapshot); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
