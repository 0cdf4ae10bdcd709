package vap

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/internal/golden"
	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
)

func readDir(t *testing.T, dir string) []manifest.Document {
	t.Helper()
	docs, errs := manifest.Read([]string{dir}, nil)
	for _, err := range errs {
		t.Logf("%s: %v", dir, err)
	}
	return docs
}

// corpusPolicies are the corpus PSPs a 1.24 apiserver accepts.
func corpusPolicies(t *testing.T) []psp.Policy {
	t.Helper()
	policies := psp.FromDocuments(readDir(t, testinputs.CorpusDir(t, "psp"))).Policies
	if len(policies) < 20 {
		t.Fatalf("only %d valid corpus PSPs", len(policies))
	}
	return policies
}

// corpusWorkloads are the workloads of the corpus, each with its pod
// template.
func corpusWorkloads(t *testing.T) []inventory.Workload {
	t.Helper()
	inv, errs := inventory.FromDocuments(readDir(t, testinputs.CorpusDir(t, "workloads")), "")
	for _, err := range errs {
		t.Logf("corpus workloads: %v", err)
	}
	if len(inv.Workloads) < 10 {
		t.Fatalf("only %d corpus workloads", len(inv.Workloads))
	}
	return inv.Workloads
}

// TestCorpusRulesGolden keeps the validations of every valid corpus PSP
// in testdata/vap/corpus-rules.golden, to be reviewed like code; the e2e
// test installs each on a real apiserver.
func TestCorpusRulesGolden(t *testing.T) {
	var b strings.Builder
	for _, pol := range corpusPolicies(t) {
		fmt.Fprintf(&b, "=== %s (%s)\n", pol.PSP.Name, filepath.Base(pol.Source.File))
		for _, r := range ForPolicy(pol.PSP) {
			fmt.Fprintf(&b, "%s\n  message: %s\n  expression: %s\n", r.Field, r.Message, strings.ReplaceAll(r.Expression, "\n", "\n    "))
		}
	}
	golden.Check(t, filepath.Join("..", "testdata", "vap", "corpus-rules.golden"), b.String(), *update)
}

// TestCorpusGapsAreExpressed: over every valid corpus PSP, the only gaps
// ForGaps leaves without a rule are the seccomp and AppArmor profile
// lists, and each rule it returns keeps a gap.
func TestCorpusGapsAreExpressed(t *testing.T) {
	version, err := pss.ParseVersion("latest")
	if err != nil {
		t.Fatal(err)
	}
	kept, left := 0, 0
	for _, pol := range corpusPolicies(t) {
		result := convert.Convert(pol.PSP, version)
		rules, unexpressed := ForGaps(pol.PSP, result.Gaps)
		for _, g := range unexpressed {
			if slices.Contains(ExpressedFields(), g.Field) {
				t.Errorf("%s: gap %s (%s) has no rule", pol.PSP.Name, g.Field, g.Message)
			}
		}
		kept += len(result.Gaps) - len(unexpressed)
		left += len(unexpressed)
		if len(result.Gaps) > len(unexpressed) && len(rules) == 0 {
			t.Errorf("%s: expressible gaps, no rule", pol.PSP.Name)
		}
	}
	t.Logf("corpus gaps: %d kept by a rule, %d left (profile lists)", kept, left)
}
