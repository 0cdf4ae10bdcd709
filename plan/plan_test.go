package plan

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func build(t testing.TB, opts Options, paths ...string) *Plan {
	t.Helper()
	docs, errs := manifest.Read(paths, nil)
	if len(errs) > 0 {
		t.Fatalf("reading %v: %v", paths, errs)
	}
	load := psp.FromDocuments(docs)
	inv, invErrs := inventory.FromDocuments(docs, "")
	if len(invErrs) > 0 {
		t.Logf("inventory problems (kept going): %v", invErrs)
	}
	return Build(Input{Policies: load.Policies, Inventory: inv}, opts)
}

func defaultOptions(t testing.TB) Options {
	v, err := pss.ParseVersion("v1.37")
	if err != nil {
		t.Fatal(err)
	}
	return Options{Version: v, EmptyNamespaceLevel: pss.Baseline, ControllerIdentity: psp.ModeServiceAccounts}
}

func workload(t *testing.T, p *Plan, ref string) *Workload {
	t.Helper()
	for i := range p.Workloads {
		if p.Workloads[i].Ref() == ref {
			return &p.Workloads[i]
		}
	}
	t.Fatalf("no workload %s in the plan", ref)
	return nil
}

func namespace(t *testing.T, p *Plan, name string) *Namespace {
	t.Helper()
	for i := range p.Namespaces {
		if p.Namespaces[i].Name == name {
			return &p.Namespaces[i]
		}
	}
	t.Fatalf("no namespace %s in the plan", name)
	return nil
}

// TestDemoAdmission checks the demo cluster's admission paths: name order
// between two mutating PSPs, a mutating-only path, a non-mutating winner
// and a workload no PSP admits.
func TestDemoAdmission(t *testing.T) {
	p := build(t, defaultOptions(t), "../testdata/demo")
	cases := []struct {
		ref        string
		admittedBy string
		mutated    bool
	}{
		// baseline and restricted both mutate the job's pod; baseline
		// comes first by name.
		{"CronJob batch/nightly-report", "baseline", true},
		{"Job batch/db-migrate", "baseline", true},
		// Only restricted is usable in shop, and it mutates.
		{"Deployment shop/frontend", "restricted", true},
		// privileged admits node-exporter unchanged and wins at once.
		{"DaemonSet monitoring/node-exporter", "privileged", false},
		// root and NET_ADMIN: restricted rejects it, nothing else is usable.
		{"Deployment legacy/vpn-gateway", "", false},
	}
	for _, c := range cases {
		t.Run(c.ref, func(t *testing.T) {
			w := workload(t, p, c.ref)
			if w.AdmittedBy != c.admittedBy || w.Mutated != c.mutated {
				t.Errorf("admitted by %q mutated %v; want %q mutated %v", w.AdmittedBy, w.Mutated, c.admittedBy, c.mutated)
			}
		})
	}
	if r := workload(t, p, "Deployment legacy/vpn-gateway").Rejections; len(r) != 1 || r[0].Policy != "restricted" || len(r[0].Reasons) != 2 {
		t.Errorf("vpn-gateway rejections = %+v; want restricted's two reasons (root UID, NET_ADMIN)", r)
	}
}

// TestDemoPatchesReachLevels: the patches keep what restricted injected,
// so frontend passes restricted without PSP; api and redis set a UID
// without runAsNonRoot, which only --to-level restricted adds.
func TestDemoPatchesReachLevels(t *testing.T) {
	p := build(t, defaultOptions(t), "../testdata/demo")
	want := map[string][2]api.Level{
		"Deployment shop/frontend": {pss.Baseline, pss.Restricted},
		"Deployment shop/api":      {pss.Baseline, pss.Baseline},
		"StatefulSet shop/redis":   {pss.Baseline, pss.Baseline},
	}
	for ref, levels := range want {
		w := workload(t, p, ref)
		if w.LevelBeforePatch != levels[0] || w.LevelAfterPatch != levels[1] {
			t.Errorf("%s: %s → %s; want %s → %s", ref, w.LevelBeforePatch, w.LevelAfterPatch, levels[0], levels[1])
		}
	}
	opts := defaultOptions(t)
	opts.ToLevel = pss.Restricted
	lifted := build(t, opts, "../testdata/demo")
	for ref := range want {
		if w := workload(t, lifted, ref); w.LevelAfterPatch != pss.Restricted || len(w.Unfixable) != 0 {
			t.Errorf("%s with --to-level restricted: level %s, unfixable %+v", ref, w.LevelAfterPatch, w.Unfixable)
		}
	}
	if w := workload(t, lifted, "DaemonSet monitoring/node-exporter"); len(w.Unfixable) == 0 {
		t.Error("node-exporter (hostNetwork, hostPID, hostPath) reported fixable at restricted")
	}
}

func TestDemoNamespaces(t *testing.T) {
	p := build(t, defaultOptions(t), "../testdata/demo")
	cases := []struct {
		name          string
		enforce, warn string
		pspLevel      api.Level
		tightening    bool
		labelledAtAll bool
	}{
		{"shop", "baseline", "restricted", pss.Privileged, true, true},
		{"monitoring", "privileged", "baseline", pss.Privileged, false, true},
		{"legacy", "baseline", "restricted", pss.Privileged, true, true},
		{"kube-system", "", "", pss.Restricted, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := namespace(t, p, c.name)
			if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != c.enforce {
				t.Errorf("enforce = %q, want %q", got, c.enforce)
			}
			if got := ns.Labels["pod-security.kubernetes.io/warn"]; got != c.warn {
				t.Errorf("warn = %q, want %q", got, c.warn)
			}
			if c.labelledAtAll && ns.Labels["pod-security.kubernetes.io/enforce-version"] != "v1.37" {
				t.Errorf("enforce is not pinned to v1.37: %v", ns.Labels)
			}
			if ns.PSPLevel != c.pspLevel {
				t.Errorf("pspLevel = %s, want %s", ns.PSPLevel, c.pspLevel)
			}
			if (len(ns.Tightening) > 0) != c.tightening {
				t.Errorf("tightening = %+v, want some: %v", ns.Tightening, c.tightening)
			}
			if c.labelledAtAll && len(ns.Rollout) != 2 {
				t.Errorf("rollout = %+v; want warn+audit, then enforce", ns.Rollout)
			}
		})
	}
	if notes := namespace(t, p, "monitoring").Notes; len(notes) == 0 {
		t.Error("monitoring: two PSPs admit its service accounts, but no note calls it out")
	}
}

func TestExistingLabelsKeptUnlessOverwrite(t *testing.T) {
	dir := t.TempDir()
	input := `apiVersion: v1
kind: Namespace
metadata:
  name: team
  labels:
    pod-security.kubernetes.io/enforce: privileged
`
	if err := os.WriteFile(filepath.Join(dir, "ns.yaml"), []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	kept := namespace(t, build(t, defaultOptions(t), dir), "team")
	if kept.Labels["pod-security.kubernetes.io/enforce"] != "privileged" || len(kept.Notes) == 0 {
		t.Errorf("without --overwrite: labels %v notes %v; want the existing enforce kept and a note", kept.Labels, kept.Notes)
	}
	opts := defaultOptions(t)
	opts.Overwrite = true
	replaced := namespace(t, build(t, opts, dir), "team")
	if replaced.Labels["pod-security.kubernetes.io/enforce"] != "baseline" {
		t.Errorf("with --overwrite: labels %v; want enforce baseline (empty namespace level)", replaced.Labels)
	}
}

// TestGolden keeps the whole plan for the demo cluster and for the shared
// corpus (real PSPs, RBAC and workloads); review changes like code.
func TestGolden(t *testing.T) {
	corpus := filepath.Join("..", "..", "shared", "corpus")
	cases := map[string][]string{"demo": {"../testdata/demo"}}
	if _, err := os.Stat(corpus); err == nil {
		cases["corpus"] = []string{corpus}
	} else if os.Getenv("CI") != "" {
		t.Fatalf("the shared corpus is missing under CI: %v", err)
	} else {
		t.Logf("skipping the corpus golden: %v", err)
	}
	for name, paths := range cases {
		t.Run(name, func(t *testing.T) {
			p := build(t, defaultOptions(t), paths...)
			got, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./plan -update)", err)
			}
			if string(want) != string(got)+"\n" {
				t.Errorf("plan differs from %s; run go test ./plan -update and review the diff", golden)
			}
		})
	}
}
