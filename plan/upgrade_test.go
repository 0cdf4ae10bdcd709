package plan_test

import (
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/internal/plantest"
	"k8s.io/pod-security-admission/api"
)

// TestUpgradeNotes: a plan for an older server says what to plan again on
// the way up, and only what applies to its workloads.
func TestUpgradeNotes(t *testing.T) {
	const appArmor, seccomp = "AppArmor is written as the container annotations", "seccomp annotations in pod templates still count"
	for _, tt := range []struct {
		minor  int
		paths  []string
		want   []string
		unwant []string
	}{
		{24, []string{"../testdata/demo"}, []string{appArmor}, []string{seccomp}},
		{24, []string{"../testdata/demo", "../testdata/target"}, []string{appArmor, seccomp}, nil},
		{29, []string{"../testdata/demo", "../testdata/target"}, []string{appArmor}, []string{seccomp}},
		{30, []string{"../testdata/demo", "../testdata/target"}, nil, []string{appArmor, seccomp}},
	} {
		server := apiserver.Target{Version: api.MajorMinorVersion(1, tt.minor), From: apiserver.FromFlag}
		p := plantest.BuildFor(t, server, "", tt.paths...)
		notes := strings.Join(p.Notes, "\n")
		for _, w := range tt.want {
			if !strings.Contains(notes, w) {
				t.Errorf("v1.%d %v: notes lack %q:\n%s", tt.minor, tt.paths, w, notes)
			}
		}
		for _, u := range tt.unwant {
			if strings.Contains(notes, u) {
				t.Errorf("v1.%d %v: notes have %q:\n%s", tt.minor, tt.paths, u, notes)
			}
		}
	}
}
