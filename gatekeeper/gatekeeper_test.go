package gatekeeper

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/convert"
	"github.com/psp2psa/psp2psa/internal/gapcases"
	"github.com/psp2psa/psp2psa/internal/golden"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// summary is a Constraint as kind and compact JSON parameters.
func summary(k Kept) string {
	params, _ := json.Marshal(k.Parameters)
	return k.Kind + " " + strings.Join(k.Fields, ",") + " " + string(params)
}

// TestForPolicy: the Constraints and parameters of each differential case.
func TestForPolicy(t *testing.T) {
	want := map[string][]string{
		"allowedHostPaths":                         {`K8sPSPVolumeTypes volumes {"volumes":["hostPath","configMap","emptyDir","image"]}`, `K8sPSPHostFilesystem allowedHostPaths {"allowedHostPaths":[{"pathPrefix":"/var/log"},{"pathPrefix":"/etc/ssl","readOnly":true},{"pathPrefix":"/data/","readOnly":true},{"pathPrefix":"/data/shared"},{"pathPrefix":"/srv//","readOnly":true}]}`},
		"allowedHostPaths root":                    {`K8sPSPVolumeTypes volumes {"volumes":["hostPath"]}`, `K8sPSPHostFilesystem allowedHostPaths {"allowedHostPaths":[{"pathPrefix":"/","readOnly":true}]}`},
		"runAsUser MustRunAs":                      {`K8sPSPAllowedUsers runAsUser {"runAsUser":{"ranges":[{"max":2000,"min":1000},{"max":5000,"min":5000}],"rule":"MustRunAs"}}`},
		"runAsUser MustRunAsNonRoot":               {`K8sPSPAllowedUsers runAsUser {"runAsUser":{"rule":"MustRunAsNonRoot"}}`},
		"readOnlyRootFilesystem":                   {`K8sPSPReadOnlyRootFilesystem readOnlyRootFilesystem null`},
		"capabilities":                             {`K8sPSPCapabilities allowedCapabilities,requiredDropCapabilities {"allowedCapabilities":["CHOWN","NET_BIND_SERVICE","SETUID"],"requiredDropCapabilities":["NET_RAW","SYS_ADMIN"]}`},
		"allowedCapabilities empty":                {`K8sPSPCapabilities allowedCapabilities {"allowedCapabilities":[]}`},
		"allowedFlexVolumes and allowedCSIDrivers": {`K8sPSPVolumeTypes volumes {"volumes":["flexVolume","csi","emptyDir","image"]}`, `K8sPSPFlexVolumes allowedFlexVolumes {"allowedFlexVolumes":[{"driver":"example.com/lvm"},{"driver":"example.com/cifs"}]}`},
		"forbiddenSysctls":                         {`K8sPSPForbiddenSysctls forbiddenSysctls {"forbiddenSysctls":["kernel.shm_rmid_forced","net.ipv4.ip_local*"]}`},
		"runtimeClass":                             nil,
		"hostPorts":                                {`K8sPSPHostNetworkingPorts hostPorts {"hostNetwork":true,"max":8080,"min":80}`},
		"volumes":                                  {`K8sPSPVolumeTypes volumes {"volumes":["configMap","secret","emptyDir","image","projected"]}`},
		"seLinux MustRunAs":                        {`K8sPSPSELinuxV2 seLinux {"allowedSELinuxOptions":[{"level":"s0:c1,c2,c2","type":"container_t","user":"system_u"}]}`},
	}
	for _, tc := range gapcases.Cases() {
		var got []string
		for _, k := range ForPolicy(tc.PSP) {
			got = append(got, summary(k))
		}
		w, ok := want[tc.Name]
		if !ok {
			continue // the groups cases: TestGroups
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s:\n got %q\nwant %q", tc.Name, got, w)
		}
	}
}

// TestGroups: the four ID fields share one K8sPSPAllowedUsers.
func TestGroups(t *testing.T) {
	p := gapcases.PSPWith("g", func(s *psp.PodSecurityPolicySpec) {
		r := []psp.IDRange{{Min: 100, Max: 200}}
		s.RunAsGroup = &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategyMayRunAs, Ranges: r}
		s.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: r}
		s.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMayRunAs, Ranges: r}
	})
	kept := ForPolicy(p)
	want := `K8sPSPAllowedUsers runAsGroup,supplementalGroups,fsGroup {"fsGroup":{"ranges":[{"max":200,"min":100}],"rule":"MustRunAs"},"runAsGroup":{"ranges":[{"max":200,"min":100}],"rule":"MayRunAs"},"supplementalGroups":{"ranges":[{"max":200,"min":100}],"rule":"MayRunAs"}}`
	if len(kept) != 1 || summary(kept[0]) != want {
		t.Errorf("got %v\nwant %s", kept, want)
	}
}

// TestForGaps: only gap fields get a parameter; gaps no template keeps are
// returned with a reason.
func TestForGaps(t *testing.T) {
	p := gapcases.PSPWith("p", func(s *psp.PodSecurityPolicySpec) {
		s.AllowedCapabilities = []corev1.Capability{"CHOWN"}
		s.RequiredDropCapabilities = []corev1.Capability{"NET_RAW"}
		s.Volumes = []psp.FSType{psp.CSI}
		s.AllowedCSIDrivers = []psp.AllowedCSIDriver{{Name: "x"}}
	})
	gaps := []convert.Gap{{Field: "requiredDropCapabilities"}, {Field: "allowedCSIDrivers"}}
	kept, unexpressed := ForGaps(p, gaps)
	want := `K8sPSPCapabilities requiredDropCapabilities {"allowedCapabilities":["*"],"requiredDropCapabilities":["NET_RAW"]}`
	if len(kept) != 1 || summary(kept[0]) != want {
		t.Errorf("kept %v\nwant %s", kept, want)
	}
	if len(unexpressed) != 1 || unexpressed[0].Field != "allowedCSIDrivers" || NotExpressed("allowedCSIDrivers") == "" {
		t.Errorf("unexpressed %v", unexpressed)
	}
}

// TestConstraintFor: Pods in the sorted namespaces, warn or deny.
func TestConstraintFor(t *testing.T) {
	k := Kept{Kind: "K8sPSPReadOnlyRootFilesystem", Fields: []string{"readOnlyRootFilesystem"}}
	c := ConstraintFor("p", k, []string{"shop", "batch"}, false)
	if c.APIVersion != APIVersion || c.Kind != k.Kind || c.Metadata.Name != "psp2psa-p" || c.Spec.EnforcementAction != Warn {
		t.Errorf("constraint %+v", c)
	}
	if !slices.Equal(c.Spec.Match.Namespaces, []string{"batch", "shop"}) || c.Spec.Match.Kinds[0].Kinds[0] != "Pod" {
		t.Errorf("match %+v", c.Spec.Match)
	}
	if ConstraintFor("p", k, []string{"x"}, true).Spec.EnforcementAction != Deny {
		t.Error("deny is not deny")
	}
}

// TestCorpusGolden keeps the Constraints of the gaps of every valid corpus
// PSP in testdata/gatekeeper/corpus-constraints.golden, with the gaps left
// out, to be reviewed like code.
func TestCorpusGolden(t *testing.T) {
	version, err := pss.ParseVersion("latest")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	kept, left := 0, 0
	for _, pol := range corpusPolicies(t) {
		result := convert.Convert(pol.PSP, version)
		constraints, unexpressed := ForGaps(pol.PSP, result.Gaps)
		fmt.Fprintf(&b, "=== %s (%s)\n", pol.PSP.Name, filepath.Base(pol.Source.File))
		for _, k := range constraints {
			fmt.Fprintf(&b, "%s\n", summary(k))
			for _, l := range k.Limits {
				fmt.Fprintf(&b, "  differs: %s\n", l)
			}
		}
		for _, g := range unexpressed {
			fmt.Fprintf(&b, "not kept: %s\n", g.Field)
		}
		kept += len(result.Gaps) - len(unexpressed)
		left += len(unexpressed)
	}
	t.Logf("corpus gaps: %d kept by a Constraint, %d left", kept, left)
	golden.Check(t, filepath.Join("..", "testdata", "gatekeeper", "corpus-constraints.golden"), b.String(), *update)
}

// corpusPolicies are the corpus PSPs a 1.24 apiserver accepts; the test
// skips without the shared corpus unless CI is set.
func corpusPolicies(t *testing.T) []psp.Policy {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus", "psp")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: %v", dir, err)
		}
		t.Skipf("%s not found; the shared corpus lives beside the repository", dir)
	}
	docs, _ := manifest.Read([]string{dir}, nil)
	policies := psp.FromDocuments(docs).Policies
	if len(policies) < 20 {
		t.Fatalf("only %d valid corpus PSPs", len(policies))
	}
	return policies
}
