package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	"github.com/psp2psa/psp2psa/review"
	"github.com/xeipuuv/gojsonschema"
)

const demo = "../testdata/demo"

func demoReview(t *testing.T) *review.Review {
	t.Helper()
	docs, errs := manifest.Read([]string{demo}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	load := psp.FromDocuments(docs)
	inv, _ := inventory.FromDocuments(docs, "")
	p := plan.Build(plan.Input{Policies: load.Policies, Inventory: inv},
		plan.Options{Version: pss.NewestVersion(), EmptyNamespaceLevel: pss.Baseline, ControllerIdentity: "serviceaccounts"})
	return review.Build(review.Input{Plan: p, Policies: load.Policies, Inventory: inv, Documents: docs}, review.Options{})
}

// The SARIF is read back with go-sarif's SARIF 2.1.0 types, validated
// against the official SARIF 2.1.0 JSON schema they carry, and loses
// nothing on the way.
func TestReviewSARIFValidates(t *testing.T) {
	r := demoReview(t)
	var buf bytes.Buffer
	if err := Review(&buf, SARIF, r, ReviewOptions{Tool: ToolInfo{Name: "psp2psa", Version: "v0.0.0-test"}}); err != nil {
		t.Fatal(err)
	}
	res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(sarifSchemaText(t)), gojsonschema.NewBytesLoader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid() {
		t.Fatalf("not valid SARIF 2.1.0: %v", res.Errors())
	}
	rep, err := sarif.FromBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var back bytes.Buffer
	if err := rep.Write(&back); err != nil {
		t.Fatal(err)
	}
	if path := missingIn(normalized(t, buf.Bytes()), normalized(t, back.Bytes()), "$"); path != "" {
		t.Errorf("the round trip through go-sarif's types lost %s", path)
	}
	results := rep.Runs[0].Results
	if len(results) != len(r.Findings) {
		t.Fatalf("%d results for %d findings", len(results), len(r.Findings))
	}
	found := false
	for _, res := range results {
		if *res.RuleID != review.RuleWorkloadPatch {
			continue
		}
		loc := res.Locations[0].PhysicalLocation
		if *loc.ArtifactLocation.URI == "../testdata/demo/batch.yaml" && *loc.Region.StartLine == 8 {
			found = true
		}
	}
	if !found {
		t.Error("no workload-patch-pending result at ../testdata/demo/batch.yaml line 8")
	}
}

// sarifSchemaText is the SARIF 2.1.0 JSON schema (OASIS, errata 01) as
// the go-sarif module carries it, read from that module's source.
func sarifSchemaText(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("locating go-sarif: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "pkg", "report", "v210", "sarif", "schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "const schema = `")
	schema, _, ok2 := strings.Cut(rest, "`")
	if !ok || !ok2 || !strings.Contains(schema, `"Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"`) {
		t.Fatal("go-sarif's schema.go does not hold the SARIF 2.1.0 schema where expected")
	}
	return schema
}

// normalized is a JSON document as generic values, without the empty
// arrays, objects and nulls a library may add or drop.
func normalized(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return prune(v)
}

// missingIn returns the path of the first value of ours that theirs does
// not hold ("" when theirs holds all of ours; it may hold more, such as
// the defaults a library writes out).
func missingIn(ours, theirs any, path string) string {
	switch o := ours.(type) {
	case map[string]any:
		t, ok := theirs.(map[string]any)
		if !ok {
			return path
		}
		for k, v := range o {
			if p := missingIn(v, t[k], path+"."+k); p != "" {
				return p
			}
		}
		return ""
	case []any:
		t, ok := theirs.([]any)
		if !ok || len(t) != len(o) {
			return path
		}
		for i := range o {
			if p := missingIn(o[i], t[i], fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
		return ""
	}
	if !reflect.DeepEqual(ours, theirs) {
		return path
	}
	return ""
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if p := prune(val); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		for _, val := range x {
			out = append(out, prune(val))
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}

// The JUnit XML parses back: a suite per namespace, a case per workload
// and one for the namespace itself, failing where an error was found.
func TestReviewJUnitParsesBack(t *testing.T) {
	r := demoReview(t)
	var buf bytes.Buffer
	if err := Review(&buf, JUnit, r, ReviewOptions{}); err != nil {
		t.Fatal(err)
	}
	var got JUnitSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("parsing the JUnit XML back: %v\n%s", err, buf.String())
	}
	if len(got.Suites) != len(r.Namespaces) {
		t.Fatalf("%d suites for %d namespaces", len(got.Suites), len(r.Namespaces))
	}
	cases := map[string]JUnitCase{}
	tests, failures := 0, 0
	for _, s := range got.Suites {
		for _, c := range s.Cases {
			cases[c.Name] = c
		}
		tests += s.Tests
		failures += s.Failures
	}
	if tests != got.Tests || failures != got.Failures || tests != 8+5 {
		t.Errorf("tests %d (total %d), failures %d (total %d)", tests, got.Tests, failures, got.Failures)
	}
	frontend := cases["Deployment shop/frontend"]
	if frontend.Failure == nil || frontend.Failure.Type != review.RuleWorkloadPatch || frontend.File != "../testdata/demo/shop.yaml" || frontend.Line != 8 {
		t.Errorf("frontend: %+v", frontend)
	}
	if c := cases["Deployment legacy/vpn-gateway"]; c.Failure != nil || !strings.Contains(c.SystemOut, review.RuleNotAdmitted) {
		t.Errorf("a warning fails its case: %+v", c)
	}
	if c := cases["Namespace shop"]; c.Failure == nil || c.Failure.Type != review.RuleNamespaceLabels {
		t.Errorf("namespace case: %+v", c)
	}
}

// syntheticReview is a review of a cluster of n workloads in n/10
// namespaces, every one with findings: the worst case for the size of
// the markdown.
func syntheticReview(n int) *review.Review {
	p := &plan.Plan{PSSVersion: "v1.37", Workloads: make([]plan.Workload, n)}
	r := &review.Review{Plan: p, PSSVersion: "v1.37", Findings: []review.Finding{}}
	for ns := 0; ns < n/10; ns++ {
		name := fmt.Sprintf("team-%05d", ns)
		nr := review.Namespace{Name: name, Enforce: "baseline", LabelsPending: true, Errors: 11, Warnings: 10}
		r.Findings = append(r.Findings, review.Finding{Rule: review.RuleNamespaceLabels, Severity: review.Error, Namespace: name,
			Message: "namespace " + name + ": 6 labels to set", Proposal: "pod-security.kubernetes.io/enforce=baseline\npod-security.kubernetes.io/enforce-version=v1.37",
			Location: &review.Location{File: "clusters/prod/namespaces/" + name + ".yaml", Line: 1}})
		for i := 0; i < 10; i++ {
			ref := fmt.Sprintf("Deployment %s/service-%d", name, i)
			nr.Workloads = append(nr.Workloads, review.Workload{Ref: ref, Kind: "Deployment", Status: review.StatusPatchPending, AdmittedBy: "restricted", Errors: 1, Warnings: 1})
			r.Findings = append(r.Findings,
				review.Finding{Rule: review.RuleWorkloadPatch, Severity: review.Error, Namespace: name, Workload: ref,
					Message: ref + ": 3 changes to make: keeps what PSP restricted injected", Proposal: "spec.securityContext.fsGroup: 1\nspec.securityContext.seccompProfile: {\"type\":\"RuntimeDefault\"}"},
				review.Finding{Rule: review.RuleRunAsUserUnset, Severity: review.Warning, Namespace: name, Workload: ref, Message: ref + ": runAsUser unset"})
		}
		r.Namespaces = append(r.Namespaces, nr)
	}
	r.Verdict = review.Verdict{Status: "NOT READY", Summary: "NOT READY: many", FailOn: review.Error, ByRule: map[string]int{}}
	for _, f := range r.Findings {
		r.Verdict.ByRule[f.Rule]++
	}
	return r
}

// Markdown fits one pull-request comment for a 100,000-workload cluster,
// and says what it left out and how to get it; the full report does not
// leave anything out.
func TestReviewMarkdownFitsOneComment(t *testing.T) {
	r := syntheticReview(100_000)
	var buf bytes.Buffer
	if err := Review(&buf, Markdown, r, ReviewOptions{}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	if n := len([]rune(md)); n > CommentLimit {
		t.Fatalf("markdown is %d characters, more than %d", n, CommentLimit)
	}
	for _, want := range []string{"**NOT READY: many**", "| `team-00000` |", "<details>", "_Left out to fit one comment:", "namespace rows", "`psp2psa review --write-dir DIR` writes the full report"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Count(md, "<details>") != strings.Count(md, "</details>") {
		t.Error("unbalanced <details>")
	}
	buf.Reset()
	if err := Review(&buf, Markdown, syntheticReview(1000), ReviewOptions{Full: true}); err != nil {
		t.Fatal(err)
	}
	if full := buf.String(); strings.Contains(full, "Left out") || !strings.Contains(full, "Deployment team-00099/service-9") {
		t.Error("the full report leaves something out")
	}
}
