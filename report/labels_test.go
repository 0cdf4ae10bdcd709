package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/psp2psa/psp2psa/nslabels"
)

func init() {
	// Other golden tests of the package may register it too: only once.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

func updateLabelsGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const psaLabel = nslabels.Prefix

// labelsReport has one namespace of every status, with keep, change and
// equal labels and PodSecurity's warnings as a 1.37 apiserver words them.
func labelsReport(apply bool) *nslabels.Report {
	added := []nslabels.LabelChange{
		{Key: psaLabel + "enforce", Action: nslabels.Add, Planned: "restricted"},
		{Key: psaLabel + "enforce-version", Action: nslabels.Add, Planned: "v1.37"},
	}
	status := nslabels.DryRun
	if apply {
		status = nslabels.Applied
	}
	return &nslabels.Report{
		Cluster: "prod-eu",
		Apply:   apply,
		Namespaces: []nslabels.Result{
			{Namespace: "shop", Status: status, Applied: apply, Labels: added, Warnings: []string{}},
			{Namespace: "batch", Status: status, Applied: apply, Labels: []nslabels.LabelChange{
				{Key: psaLabel + "enforce", Action: nslabels.Keep, Planned: "baseline", Live: "privileged"},
				{Key: psaLabel + "warn", Action: nslabels.Change, Planned: "restricted", Live: "baseline"},
				{Key: psaLabel + "warn-version", Action: nslabels.Equal, Planned: "v1.37", Live: "v1.37"},
			}, Warnings: []string{
				`existing pods in namespace "batch" violate the new PodSecurity enforce level "baseline:v1.37"`,
				"report-7f9c (and 2 other pods): privileged",
			}},
			{Namespace: "monitoring", Status: nslabels.Unchanged, Labels: []nslabels.LabelChange{
				{Key: psaLabel + "enforce", Action: nslabels.Equal, Planned: "privileged", Live: "privileged"},
			}, Warnings: []string{}},
			{Namespace: "legacy", Status: nslabels.Missing, Labels: []nslabels.LabelChange{}, Warnings: []string{}},
			{Namespace: "locked", Status: nslabels.Failed, Labels: added, Warnings: []string{},
				Error: `dry run of the label patch on namespace locked: namespaces "locked" is forbidden: User "ci" cannot patch resource "namespaces"`},
		},
		Skipped: []string{"kube-system"},
	}
}

func TestLabelsGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		apply bool
		f     Format
	}{
		{"dry-run.txt", false, Text},
		{"applied.txt", true, Text},
		{"dry-run.md", false, Markdown},
		{"dry-run.json", false, JSON},
		{"dry-run.yaml", false, YAML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Labels(&out, tc.f, labelsReport(tc.apply)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "testdata", "labels", "report-"+tc.name)
			if updateLabelsGolden() {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./report -run TestLabelsGolden -update writes it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s (-update rewrites it):\n%s", path, out.String())
			}
		})
	}
}

func TestLabelsHeldHeadline(t *testing.T) {
	r := labelsReport(true)
	r.Namespaces[0].Status, r.Namespaces[0].Applied = nslabels.Held, false
	var out bytes.Buffer
	if err := Labels(&out, Text, r); err != nil {
		t.Fatal(err)
	}
	if want := "Pod Security labels on prod-eu: nothing applied: dry runs returned warnings"; !bytes.HasPrefix(out.Bytes(), []byte(want)) {
		t.Errorf("held run starts %q, want %q", out.String()[:60], want)
	}
}
