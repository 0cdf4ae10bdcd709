package testcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"testing"
	"time"
)

// registry holds the clusters shared by all tests of one test binary. Each
// version starts on first use, so `go test -run` on a single test only pays
// for the cluster it needs.
var registry = struct {
	mu       sync.Mutex
	clusters map[string]*lazyCluster // by minor version
}{}

type lazyCluster struct {
	skip    string // why tests of this version skip; empty when they run
	once    sync.Once
	cluster *Cluster
	err     error
}

// Main runs the tests of a package that uses Get; call it from TestMain as
// os.Exit(testcluster.Main(m, "v1.24", "v1.37")). With no versions it
// declares all. When binaries are missing it fails the run if the CI
// environment variable is set, and otherwise lets e2e tests skip. It stops
// every cluster that was started before returning.
func Main(m *testing.M, versions ...string) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if len(versions) == 0 {
		versions = Versions()
	}
	if err := declare(versions); err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
		return 1
	}
	defer stopAll()
	missing := markSkipped()
	if missing != nil && os.Getenv("CI") != "" {
		fmt.Fprintf(os.Stderr, "testcluster: CI is set, so e2e tests must run, but %v\n", missing)
		return 1
	}
	if missing != nil {
		fmt.Fprintf(os.Stderr, "testcluster: skipping e2e tests that need them: %v\n", missing)
	}
	return m.Run()
}

// Get returns the shared running cluster for version, starting it on first
// use. It skips the test when Main decided e2e tests cannot run and fails it
// when the cluster does not start. Tests share the cluster, so they must use
// fresh namespace and object names (see UniqueName).
func Get(t testing.TB, version string) *Cluster {
	t.Helper()
	lc, err := lookup(version)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	if lc.skip != "" {
		t.Skip(lc.skip)
	}
	lc.once.Do(func() {
		start := time.Now()
		lc.cluster, lc.err = Start(context.Background(), version)
		if lc.err == nil {
			t.Logf("testcluster: started %s at %s in %s (logs in %s)", lc.cluster.Version(),
				lc.cluster.Host(), time.Since(start).Round(time.Millisecond), lc.cluster.LogDir())
		}
	})
	if lc.err != nil {
		t.Fatalf("testcluster: %v", lc.err)
	}
	return lc.cluster
}

// UniqueName returns prefix plus a random suffix, valid as a namespace or
// object name as long as prefix is, so tests sharing a cluster never collide.
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func declare(versions []string) error {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.clusters = make(map[string]*lazyCluster, len(versions))
	for _, v := range versions {
		minor, _, err := resolveVersion(v)
		if err != nil {
			return err
		}
		registry.clusters[minor] = &lazyCluster{}
	}
	return nil
}

func lookup(version string) (*lazyCluster, error) {
	minor, _, err := resolveVersion(version)
	if err != nil {
		return nil, err
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.clusters == nil {
		return nil, errors.New("testcluster.Get needs TestMain to call testcluster.Main")
	}
	lc, ok := registry.clusters[minor]
	if !ok {
		return nil, fmt.Errorf("version %s was not passed to testcluster.Main", minor)
	}
	return lc, nil
}

// markSkipped records a skip reason for every version that cannot run and
// returns the combined reasons, or nil when all can run.
func markSkipped() error {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	var errs []error
	for minor, lc := range registry.clusters {
		if testing.Short() {
			lc.skip = "e2e test skipped in -short mode"
			continue
		}
		if _, err := findBinaries(minor); err != nil {
			lc.skip = fmt.Sprintf("e2e test skipped: %v", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func stopAll() {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, lc := range registry.clusters {
		if lc.cluster != nil {
			lc.cluster.Stop()
		}
	}
}

// Private starts a cluster of version for one test alone and stops it when
// the test ends: for tests that change cluster-wide state or need a server
// of their own. Like Get, it skips in -short mode, and skips when the
// binaries are not built unless CI is set, where it fails.
func Private(t testing.TB, version string) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e test skipped in -short mode")
	}
	c, err := Start(context.Background(), version)
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("CI") == "" {
		t.Skipf("e2e test skipped: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}
