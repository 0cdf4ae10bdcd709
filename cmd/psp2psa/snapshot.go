package main

import (
	"fmt"
	"time"

	"github.com/psp2psa/psp2psa/cluster"
	"github.com/psp2psa/psp2psa/fsutil"
)

// snapshotCmd writes down what plan reads from the cluster, so that the
// plan can still be made once the cluster no longer serves PSPs.
type snapshotCmd struct {
	clusterFlags
	File      string `short:"f" name:"file" placeholder:"FILE" help:"Write the snapshot to FILE (atomically; a new file is private, mode 0600) instead of standard output." type:"path"`
	Namespace string `short:"n" help:"Read only this namespace (and the cluster-scoped PSPs and RBAC); default: all."`
}

func (c *snapshotCmd) Run(g *Globals) error {
	read, err := c.read(g, c.Namespace, false)
	if err != nil {
		return err
	}
	s := &cluster.Snapshot{Result: read.Result, Cluster: read.name, Namespace: read.namespace, Taken: time.Now()}
	// The snapshot is written as it is encoded, never held whole besides
	// what was read. Pod specs can carry credentials in plain environment
	// variables, hence a private file.
	if c.File == "" {
		if err := s.Write(g.stdout); err != nil {
			return fmt.Errorf("writing the snapshot: %w", err)
		}
	} else if err := fsutil.WriteAtomic(c.File, 0o600, s.Write); err != nil {
		return fmt.Errorf("writing the snapshot: %w", err)
	}
	printClusterRead(g, read)
	if c.File != "" {
		fmt.Fprintf(g.stderr, "wrote %d objects from %s (%s) to %s\n", len(s.Documents), read.name, s.ServerVersion, c.File)
	}
	return nil
}
