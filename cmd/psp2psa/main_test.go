package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	seedPSP = "../../../shared/seed-restricted-psp.yaml"
	corpus  = "../../../shared/corpus"
	demo    = "../../testdata/demo"
)

// requireShared skips where ../shared is absent, and fails under CI.
func requireShared(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(corpus); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("../shared is missing under CI: %v", err)
		}
		t.Skipf("../shared is not beside this checkout: %v", err)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/psp2psa -update)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s; run go test ./cmd/psp2psa -update and review the diff", path)
	}
}

// TestConvertSeed is the first thing a user tries: the docs' "restricted"
// PSP is restricted in everything but seLinux, and injects seven defaults.
func TestConvertSeed(t *testing.T) {
	requireShared(t)
	r := runCLI(t, "", "convert", seedPSP)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"level: privileged; baseline blocked only by seLinux (seLinuxOptions); restricted blocked by nothing more",
		"injects into pods (7;",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	var doc struct {
		Policies []struct {
			Level     string
			Mutations []struct{ Field string }
		}
	}
	j := runCLI(t, "", "convert", "-o", "json", seedPSP)
	if err := json.Unmarshal([]byte(j.stdout), &doc); err != nil || len(doc.Policies) != 1 {
		t.Fatalf("JSON output: %v\n%s", err, j.stdout)
	}
	var fields []string
	for _, m := range doc.Policies[0].Mutations {
		fields = append(fields, m.Field)
	}
	want := "requiredDropCapabilities runAsUser supplementalGroups fsGroup allowPrivilegeEscalation annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName] annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("mutating fields = %s\nwant %s", got, want)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	invalid := filepath.Join(dir, "invalid.yaml")
	write(t, invalid, "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: no_strategies\nspec: {}\n")
	broken := filepath.Join(dir, "broken.yaml")
	write(t, broken, "apiVersion: v1\nkind: [\n")
	empty := filepath.Join(dir, "empty.yaml")
	write(t, empty, "# nothing yet\n")
	dupKey := filepath.Join(dir, "dupkey.yaml")
	write(t, dupKey, "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    securityContext: {privileged: true}\n    securityContext: {}\n")
	typo := filepath.Join(dir, "typo.yaml")
	write(t, typo, "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    securityContxt: {privileged: true}\n")
	cases := []struct {
		name    string
		args    []string
		code    int
		stderr  []string
		stdouts []string
	}{
		{"help", []string{"--help"}, exitOK, nil, []string{"convert", "plan", "patch"}},
		{"unknown flag", []string{"convert", "--bogus", demo}, exitInput, []string{"--bogus"}, nil},
		{"bad PSS version", []string{"convert", "--pss-version", "1.2.3", demo}, exitInput, []string{"PSS version"}, nil},
		{"a PSS version newer than this build knows", []string{"convert", "--pss-version", "v1.99", demo}, exitInput, []string{"v1.99", "knows the checks up to"}, nil},
		{"a PSS version before Pod Security Admission", []string{"plan", "--pss-version", "v1.10", demo}, exitInput, []string{"v1.10", "starts at v1.22"}, nil},
		{"patch copies that would overwrite their input file", []string{"patch", "--output-dir", demo, demo + "/shop.yaml"}, exitInput, []string{"--output-dir", "inside the input"}, nil},
		{"convert of a 1.24 snapshot maps for v1.24", []string{"convert", "../../testdata/cluster/demo-snapshot.yaml"}, exitOK, nil, []string{"Pod Security Standards version v1.24;"}},
		{"plan of a 1.24 snapshot is for that server", []string{"plan", "../../testdata/cluster/demo-snapshot.yaml"}, exitOK, nil, []string{"Migration plan for kube-apiserver v1.24 (the snapshot's version)"}},
		{"bad output format", []string{"convert", "-o", "html", demo}, exitInput, []string{"html"}, nil},
		{"missing file", []string{"convert", filepath.Join(dir, "absent.yaml")}, exitInput, []string{"absent.yaml"}, nil},
		{"invalid PSP is reported, the valid ones still converted", []string{"convert", invalid, demo}, exitInput,
			[]string{"invalid.yaml: document 0", "PodSecurityPolicy/no_strategies"}, []string{"restricted", "baseline", "privileged"}},
		{"unparsable file names file and line, the others still read", []string{"convert", broken, demo}, exitInput,
			[]string{"broken.yaml", "line"}, []string{"restricted"}},
		{"a duplicate key is bad input naming file, document, line and key", []string{"plan", dupKey, demo}, exitInput,
			[]string{"dupkey.yaml: document 0 (line 1)", `duplicate key "securityContext" at line 9`}, nil},
		{"an unknown field is a warning naming its path", []string{"plan", typo, demo}, exitOK,
			[]string{"warning:", "spec.containers[0].securityContxt: unknown field"}, nil},
		{"an empty file is a warning", []string{"plan", empty, demo}, exitOK, []string{"warning:", "empty.yaml: holds no Kubernetes objects"}, nil},
		{"an empty input is a warning", []string{"plan", empty}, exitOK, []string{"warning: the input holds no Kubernetes objects"}, nil},
		{"plan with a bad level", []string{"plan", "--to-level", "strict", demo}, exitInput, []string{"strict"}, nil},
		{"a workload read twice is planned once, with a warning", []string{"plan", "-o", "json", demo, demo + "/shop.yaml"}, exitOK,
			[]string{"warning:", "duplicate object"}, []string{`"name": "frontend"`}},
		{"plan with a bad controller identity", []string{"plan", "--controller-identity", "robot", demo}, exitInput, []string{"robot"}, nil},
		{"a pod creator is a literal identity", []string{"plan", "--pod-creator", "serviceaccounts", demo}, exitInput,
			[]string{`--pod-creator "serviceaccounts": want user:NAME or sa:NAMESPACE:NAME`}, nil},
		{"a pod creator with no name", []string{"plan", "--pod-creator", "user:", demo}, exitInput, []string{"--pod-creator"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, "", c.args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, c.code, r.stderr)
			}
			for _, s := range c.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			for _, s := range c.stdouts {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
		})
	}
}

func TestStdin(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(demo, "policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, string(data), "convert", "-o", "yaml", "-")
	if r.code != exitOK || !strings.Contains(r.stdout, "name: restricted") || !strings.Contains(r.stdout, "file: <stdin>") {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestGoldens keeps whole outputs: reviewed by hand, rewritten with -update.
func TestGoldens(t *testing.T) {
	cases := []struct {
		file string
		args []string
		code int
	}{
		{"plan-demo.txt", []string{"plan", demo}, exitOK},
		{"plan-demo.md", []string{"plan", "-o", "markdown", demo}, exitOK},
		{"plan-demo-to-restricted.json", []string{"plan", "-o", "json", "--to-level", "restricted", demo}, exitOK},
		{"plan-demo.diff", []string{"plan", "--diff-only", "--to-level", "restricted", demo}, exitOK},
		{"convert-demo.md", []string{"convert", "-o", "markdown", demo}, exitOK},
	}
	if _, err := os.Stat(corpus); err == nil {
		cases = append(cases, []struct {
			file string
			args []string
			code int
		}{
			{"convert-corpus.json", []string{"convert", "-o", "json", corpus + "/psp"}, exitInput},
			// Workloads without their PSPs and RBAC: an incomplete plan.
			{"plan-corpus-workloads.txt", []string{"plan", corpus + "/workloads"}, exitOK},
			{"plan-corpus-workloads.md", []string{"plan", "-o", "markdown", corpus + "/workloads"}, exitOK},
		}...)
	} else {
		requireShared(t)
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r := runCLI(t, "", c.args...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d: %s", r.code, c.code, r.stderr)
			}
			golden(t, c.file, r.stdout)
		})
	}
}

// TestPlanWritesAndRewrites: --write-dir writes patches, a kustomization
// and namespaces; --in-place rewrites the inputs, and a second run finds
// nothing left to change.
func TestPlanWritesAndRewrites(t *testing.T) {
	inputs := copyDir(t, demo)
	out := t.TempDir()
	if r := runCLI(t, "", "plan", "--write-dir", out, inputs); r.code != exitOK {
		t.Fatalf("--write-dir: exit %d: %s", r.code, r.stderr)
	}
	for _, f := range []string{"patches/kustomization.yaml", "patches/shop-deployment-frontend.yaml", "rollout/step-1-warn-audit.sh", "rollout/step-2-enforce.sh", "admission-configuration.yaml", "validating-admission-policies.yaml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("--write-dir did not write %s: %v", f, err)
		}
	}
	if r := runCLI(t, "", "plan", "--write-dir", out, "--server-version", "1.twenty-four", inputs); r.code != exitInput || !strings.Contains(r.stderr, "--server-version") {
		t.Errorf("a malformed --server-version: exit %d, stderr %s", r.code, r.stderr)
	}
	config, err := pss.ReadConfiguration(mustRead(t, filepath.Join(out, "admission-configuration.yaml")))
	if err != nil || config.Defaults.Enforce != "baseline" {
		t.Errorf("admission-configuration.yaml: %v, %+v", err, config)
	}
	before, _ := os.ReadFile(filepath.Join(inputs, "shop.yaml"))
	if r := runCLI(t, "", "plan", "--in-place", inputs); r.code != exitOK {
		t.Fatalf("--in-place: exit %d: %s", r.code, r.stderr)
	}
	after, _ := os.ReadFile(filepath.Join(inputs, "shop.yaml"))
	if bytes.Equal(before, after) || !bytes.Contains(after, []byte("# Demo namespace \"shop\"")) {
		t.Errorf("--in-place did not rewrite shop.yaml keeping its comments:\n%s", after)
	}
	again := runCLI(t, "", "plan", "--diff-only", inputs)
	if again.code != exitOK || strings.TrimSpace(again.stdout) != "" {
		t.Errorf("after --in-place the plan still has changes (exit %d):\n%s", again.code, again.stdout)
	}
}

// TestPatchPSAFixtures runs `patch --to-level` over the PSA module's own
// failing fixtures: each written pod either passes the level with the real
// evaluator, or is reported unfixable naming the checks it still fails;
// none is claimed fixed that still fails.
func TestPatchPSAFixtures(t *testing.T) {
	for _, c := range []struct {
		level            api.Level
		fixed, unfixable int
	}{
		// Fixable: allowPrivilegeEscalation, AppArmor unconfined,
		// capabilities drop, runAsNonRoot and seccomp fixtures; the rest
		// (host namespaces, hostPath, privileged, root UID, …) are not.
		{pss.Restricted, 21, 55},
		{pss.Baseline, 5, 29},
	} {
		t.Run(string(c.level), func(t *testing.T) {
			src := filepath.Join(psaTestdata(t), string(c.level), "v1.37", "fail")
			in, out := copyDir(t, src), t.TempDir()
			r := runCLI(t, "", "patch", "--to-level", string(c.level), "--pss-version", "v1.37", "--output-dir", out, "-o", "json", in)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var res struct {
				Workloads []struct {
					Name      string
					Output    string
					Unfixable []struct{ Check string }
				}
			}
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatal(err)
			}
			ev := pss.NewEvaluator()
			fixed, unfixable := 0, 0
			for _, w := range res.Workloads {
				pod := readPod(t, w.Output)
				failures := ev.Failures(api.LevelVersion{Level: c.level, Version: api.MajorMinorVersion(1, 37)}, &pod.ObjectMeta, &pod.Spec)
				var failed, reported []string
				for _, f := range failures {
					failed = append(failed, f.ID)
				}
				for _, u := range w.Unfixable {
					reported = append(reported, u.Check)
				}
				if strings.Join(failed, ",") != strings.Join(reported, ",") {
					t.Errorf("%s: still fails %v, reported unfixable %v", w.Name, failed, reported)
				}
				if len(failed) == 0 {
					fixed++
				} else {
					unfixable++
				}
			}
			if fixed != c.fixed || unfixable != c.unfixable {
				t.Errorf("fixed %d, unfixable %d; want %d, %d", fixed, unfixable, c.fixed, c.unfixable)
			}
		})
	}
}

func psaTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatalf("locating k8s.io/pod-security-admission: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "test", "testdata")
}

func readPod(t *testing.T, path string) *corev1.Pod {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(data, &pod); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &pod
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the YAML files of dir into a fresh temporary directory.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(out, e.Name()), string(data))
	}
	return out
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
