package main

import (
	"bytes"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psp2psa/psp2psa/cluster"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"

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
// -update): no cluster is contacted, and what its List records comes back.
func TestPlanFromCommittedSnapshot(t *testing.T) {
	t.Setenv("KUBECONFIG", unreachableKubeconfig(t, "must-not-be-read"))
	snapshot := "../../testdata/cluster/demo-snapshot.yaml"
	dir := t.TempDir()
	write(t, filepath.Join(dir, "demo-snapshot.yaml"), string(mustRead(t, snapshot)))
	for _, c := range []struct {
		name, stdin string
		args        []string
	}{
		{"--from-snapshot", "", []string{"--from-snapshot", snapshot}},
		{"in a directory", "", []string{dir}},
		{"on stdin", string(mustRead(t, snapshot)), []string{"-"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.stdin, append([]string{"plan", "-o", "json"}, c.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var p struct {
				Workloads  []struct{ Namespace, Name, AdmittedBy string }
				Warnings   []struct{ Message string }
				Incomplete []struct{ Reason, Message string }
			}
			if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Workloads) != 8 || len(p.Incomplete) != 0 {
				t.Errorf("%d workloads (want the demo's 8), incomplete %q", len(p.Workloads), p.Incomplete)
			}
			if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0].Message, "PodSecurityPolicy is deprecated") {
				t.Errorf("warnings %+v: want the server's warning recorded on the snapshot", p.Warnings)
			}
			if !strings.Contains(r.stderr, "warning: the server warns: policy/v1beta1 PodSecurityPolicy is deprecated") {
				t.Errorf("stderr:\n%s", r.stderr)
			}
		})
	}
}

// incompleteSnapshot writes, with the snapshot writer, the demo as read by
// a user who could not list RoleBindings, into a directory of its own.
func incompleteSnapshot(t *testing.T) (dir, file string) {
	t.Helper()
	docs, errs := manifest.Read([]string{demo}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	res := &cluster.Result{Documents: docs, ServerVersion: "v1.24.17", Incomplete: []string{"rbac.authorization.k8s.io/v1 rolebindings: forbidden"}}
	var buf bytes.Buffer
	if err := (&cluster.Snapshot{Result: res, Cluster: "prod", Taken: time.Now()}).Write(&buf); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	file = filepath.Join(dir, "prod.yaml")
	write(t, file, buf.String())
	return dir, file
}

// TestIncompleteSnapshotAnyWayItIsRead: a snapshot records what its read
// missed on its List, so the plan says so whether the snapshot is named,
// inside a directory or on standard input, and apply-labels --apply
// refuses before any cluster is contacted.
func TestIncompleteSnapshotAnyWayItIsRead(t *testing.T) {
	dir, file := incompleteSnapshot(t)
	data := string(mustRead(t, file))
	kubeconfig := unreachableKubeconfig(t, "must-not-be-labelled")
	for _, c := range []struct {
		name, stdin string
		args        []string
	}{
		{"--from-snapshot", "", []string{"--from-snapshot", file}},
		{"in a directory", "", []string{dir}},
		{"on stdin", data, []string{"-"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.stdin, append([]string{"plan", "-o", "json"}, c.args...)...)
			var p plan.Plan
			if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || r.code != exitOK {
				t.Fatalf("exit %d, %v: %s", r.code, err, r.stderr)
			}
			want := plan.Incomplete{Reason: plan.ReasonClusterRead, Message: "rbac.authorization.k8s.io/v1 rolebindings: forbidden"}
			if len(p.Incomplete) != 1 || p.Incomplete[0] != want {
				t.Errorf("incomplete %+v, want %+v", p.Incomplete, want)
			}
			for _, ns := range p.Namespaces {
				if _, ok := ns.Labels["pod-security.kubernetes.io/enforce"]; ok || ns.Enforce != "" {
					t.Errorf("%s: enforce %q, labels %v: want none from an incomplete read", ns.Name, ns.Enforce, ns.Labels)
				}
			}
			r = runCLI(t, c.stdin, append([]string{"apply-labels", "--apply", "--kubeconfig", kubeconfig}, c.args...)...)
			if r.code != exitInput || !strings.Contains(r.stderr, "the plan is incomplete, so --apply is refused") ||
				!strings.Contains(r.stderr, "rbac.authorization.k8s.io/v1 rolebindings: forbidden") || r.stdout != "" {
				t.Errorf("apply-labels --apply: exit %d, want %d refused before the cluster\nstdout: %s\nstderr: %s", r.code, exitInput, r.stdout, r.stderr)
			}
		})
	}
	// The same guard lets a complete plan through, to the cluster.
	r := runCLI(t, "", "apply-labels", "--apply", "--kubeconfig", kubeconfig, demo)
	if r.code != exitError || strings.Contains(r.stderr, "--apply is refused") {
		t.Errorf("a complete plan: exit %d, want %d from the unreachable cluster: %s", r.code, exitError, r.stderr)
	}
}
