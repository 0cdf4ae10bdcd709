package testcluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/internal/testcluster"
)

// fakeServers points the cache at a directory with shell scripts standing in
// for etcd and kube-apiserver, so start-up failures can be tested without the
// real binaries.
func fakeServers(t *testing.T, etcdScript string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(testcluster.CacheEnv, dir)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("etcd", etcdScript)
	write("kube-apiserver-v1.24.17", "exit 1")
	return dir
}

func TestStartMissingBinaries(t *testing.T) {
	t.Setenv(testcluster.CacheEnv, t.TempDir())
	_, err := testcluster.Start(context.Background(), "v1.24")
	if err == nil || !strings.Contains(err.Error(), "hack/testservers/build.sh") {
		t.Fatalf("want an error pointing at build.sh, got %v", err)
	}
}

func TestStartUnsupportedVersion(t *testing.T) {
	if _, err := testcluster.Start(context.Background(), "v1.99"); err == nil {
		t.Fatal("want an error for an unknown version")
	}
}

func TestStartFailureIncludesLogTail(t *testing.T) {
	fakeServers(t, `echo "fake etcd: cannot open data dir" >&2; exit 3`)
	_, err := testcluster.Start(context.Background(), "v1.24")
	if err == nil {
		t.Fatal("want a start-up error")
	}
	for _, want := range []string{"exited during start-up", "fake etcd: cannot open data dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestStartTimeoutKillsServer(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	fakeServers(t, `echo $$ > `+pidFile+`; exec sleep 600`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := testcluster.Start(ctx, "v1.24")
	if err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("want a readiness timeout, got %v", err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("fake etcd never ran: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("fake etcd (pid %d) still running after failed start: %v", pid, err)
	}
}
