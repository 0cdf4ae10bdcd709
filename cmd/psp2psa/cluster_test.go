package main

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// unreachableKubeconfig writes a kubeconfig whose only context, named
// context, points at a loopback port nothing listens on.
func unreachableKubeconfig(t *testing.T, context string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := "http://" + l.Addr().String()
	l.Close()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: server}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts[context] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = context
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestClusterInputExitCodes(t *testing.T) {
	down := unreachableKubeconfig(t, "down")
	missing := filepath.Join(t.TempDir(), "absent-kubeconfig")
	snapshot := filepath.Join(t.TempDir(), "snap.yaml")
	write(t, snapshot, "# psp2psa snapshot\napiVersion: v1\nkind: List\nitems: []\n")
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"-A and -n exclude each other", []string{"plan", "--kubeconfig", down, "-A", "-n", "team"}, exitInput, "exclude each other"},
		{"snapshot: -A and -n exclude each other", []string{"snapshot", "--kubeconfig", down, "-A", "-n", "team"}, exitInput, "exclude each other"},
		{"cluster flags with paths", []string{"plan", "--context", "prod", demo}, exitInput, "do not apply when manifest paths"},
		{"cluster flags with a snapshot", []string{"convert", "-A", "--from-snapshot", snapshot}, exitInput, "do not apply"},
		{"in-place without paths", []string{"plan", "--in-place", "--kubeconfig", down}, exitInput, "--in-place rewrites manifest files"},
		{"in-place on a snapshot", []string{"plan", "--in-place", "--from-snapshot", snapshot}, exitInput, "--in-place rewrites manifest files"},
		{"a kubeconfig that does not exist", []string{"plan", "--kubeconfig", missing}, exitInput, "absent-kubeconfig"},
		{"an unknown context", []string{"plan", "--kubeconfig", down, "--context", "nope"}, exitInput, "nope"},
		{"plan: unreachable cluster", []string{"plan", "--kubeconfig", down}, exitError, "reading the cluster down: connecting to the cluster"},
		{"convert: unreachable cluster", []string{"convert", "--kubeconfig", down}, exitError, "reading the cluster down: connecting to the cluster"},
		{"snapshot: unreachable cluster", []string{"snapshot", "--kubeconfig", down, "-f", filepath.Join(t.TempDir(), "s.yaml")}, exitError, "connecting to the cluster"},
		{"a request timeout that is no duration", []string{"plan", "--kubeconfig", down, "--request-timeout", "soon"}, exitInput, `--request-timeout "soon": Invalid timeout value`},
		{"a negative request timeout", []string{"snapshot", "--kubeconfig", down, "--request-timeout=-1s"}, exitInput, "must not be negative"},
		{"a negative read timeout", []string{"convert", "--kubeconfig", down, "--read-timeout=-1m"}, exitInput, "--read-timeout -1m0s: it must not be negative"},
		{"apply-labels: a request timeout that is no duration", []string{"apply-labels", "--kubeconfig", down, "--request-timeout", "1x"}, exitInput, "--request-timeout"},
		{"plan from an empty snapshot reads no cluster", []string{"plan", "--from-snapshot", snapshot}, exitOK, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, "", c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", r.code, c.code, c.stderr, r.stderr)
			}
		})
	}
}

// TestKubeconfigFromEnvironment: without --kubeconfig, $KUBECONFIG names
// the cluster, as for kubectl.
func TestKubeconfigFromEnvironment(t *testing.T) {
	t.Setenv("KUBECONFIG", unreachableKubeconfig(t, "from-env"))
	r := runCLI(t, "", "plan")
	if r.code != exitError || !strings.Contains(r.stderr, "reading the cluster from-env") {
		t.Errorf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
}

// TestPlanFromCommittedSnapshot plans from the snapshot of a 1.24 cluster
// holding the demo (testdata/cluster, rewritten by go test ./cluster
// -update): no cluster is contacted, and the header's notes come back.
func TestPlanFromCommittedSnapshot(t *testing.T) {
	t.Setenv("KUBECONFIG", unreachableKubeconfig(t, "must-not-be-read"))
	snapshot := "../../testdata/cluster/demo-snapshot.yaml"
	r := runCLI(t, "", "plan", "--from-snapshot", snapshot, "-o", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var p struct {
		Workloads  []struct{ Namespace, Name, AdmittedBy string }
		Warnings   []struct{ Message string }
		Incomplete []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Workloads) != 8 || len(p.Incomplete) != 0 {
		t.Errorf("%d workloads (want the demo's 8), incomplete %q", len(p.Workloads), p.Incomplete)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0].Message, "PodSecurityPolicy is deprecated") {
		t.Errorf("warnings %+v: want the server's warning recorded in the header", p.Warnings)
	}
	if !strings.Contains(r.stderr, "warning: the server warns: policy/v1beta1 PodSecurityPolicy is deprecated") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
