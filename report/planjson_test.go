package report

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/psp2psa/psp2psa/internal/plantest"
	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// TestPlanJSONIsMarshalIndent compares the plan's JSON, written one
// workload at a time, with json.MarshalIndent of the whole plan.
func TestPlanJSONIsMarshalIndent(t *testing.T) {
	root := testinputs.RepoRoot(t)
	for _, paths := range [][]string{
		{filepath.Join(root, "testdata", "demo")},
		{filepath.Join(root, "testdata", "cluster", "demo-snapshot.yaml")},
	} {
		for _, level := range []api.Level{"", pss.Restricted} {
			p := plantest.Build(t, level, paths...)
			var got, want bytes.Buffer
			if err := planJSON(&got, p.Plan); err != nil {
				t.Fatal(err)
			}
			if err := writeData(&want, JSON, p.Plan); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("%v: the streamed JSON differs from json.MarshalIndent:\n%s\n---\n%s", paths, got.String(), want.String())
			}
		}
	}
}
