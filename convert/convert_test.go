package convert

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// TestEveryPSPFieldHasExactlyOneRule reads the JSON names of
// PodSecurityPolicySpec by reflection, so a field added there without a
// rule fails here.
func TestEveryPSPFieldHasExactlyOneRule(t *testing.T) {
	var want []string
	typ := reflect.TypeFor[psp.PodSecurityPolicySpec]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Fatalf("PodSecurityPolicySpec.%s has no JSON name", typ.Field(i).Name)
		}
		want = append(want, name)
	}
	for _, key := range []string{
		"seccomp.security.alpha.kubernetes.io/allowedProfileNames",
		"seccomp.security.alpha.kubernetes.io/defaultProfileName",
		"apparmor.security.beta.kubernetes.io/allowedProfileNames",
		"apparmor.security.beta.kubernetes.io/defaultProfileName",
	} {
		want = append(want, "annotations["+key+"]")
	}
	var got []string
	for _, r := range rules() {
		got = append(got, r.field)
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules, in order:\n got %q\nwant %q", got, want)
	}
	if len(registry) != len(want) {
		t.Errorf("%d rules registered, want %d", len(registry), len(want))
	}
}

// TestCleanPodPassesRestrictedAtEveryVersion: every finding is charged to
// a witness's change, so the pod it changes must pass everything.
func TestCleanPodPassesRestrictedAtEveryVersion(t *testing.T) {
	e := pss.NewEvaluator()
	pod := cleanPod()
	newest := pss.NewestVersion()
	for minor := 0; minor <= newest.Minor(); minor++ {
		lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.MajorMinorVersion(1, minor)}
		if failures := e.Failures(lv, &pod.ObjectMeta, &pod.Spec); len(failures) > 0 {
			t.Errorf("v1.%d: clean pod fails %v", minor, failures)
		}
	}
}

func TestWitnessNamesAreUniquePerRule(t *testing.T) {
	p := patchedPSP(t, basePSP, `spec: {volumes: ["*"], allowedCapabilities: ["*"], requiredDropCapabilities: null, seLinux: {rule: RunAsAny, seLinuxOptions: null}}`)
	for _, f := range analyzeAll(p) {
		seen := map[string]bool{}
		for _, c := range append(slices.Clone(f.witnesses), f.restrictions...) {
			if seen[c.name] {
				t.Errorf("%s: two changes named %q", f.field, c.name)
			}
			seen[c.name] = true
		}
	}
}

// TestSeedRestrictedPSP is the docs' "restricted" PSP, the first input a
// user tries: its seLinux RunAsAny admits custom SELinux options, so it is
// privileged, and nothing else keeps it from restricted.
func TestSeedRestrictedPSP(t *testing.T) {
	p := readPSP(t, filepath.Join(sharedDir(t), "seed-restricted-psp.yaml"))
	for _, v := range []string{"v1.24", "v1.30", "latest"} {
		t.Run(v, func(t *testing.T) {
			got := Convert(p, version(t, v))
			if got.Level != api.LevelPrivileged {
				t.Errorf("level = %s, want privileged", got.Level)
			}
			if b := got.BlockedBy(api.LevelBaseline); !slices.Equal(b, []string{"seLinux"}) {
				t.Errorf("baseline blocked by %q, want only seLinux", b)
			}
			if r := got.BlockedBy(api.LevelRestricted); len(r) > 0 {
				t.Errorf("restricted also blocked by %q, want nothing more", r)
			}
			wantMutations := []string{
				"requiredDropCapabilities",
				"runAsUser",
				"supplementalGroups",
				"fsGroup",
				"allowPrivilegeEscalation",
				"annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]",
				"annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]",
			}
			var m []string
			for _, mutation := range got.Mutations {
				m = append(m, mutation.Field)
			}
			if !slices.Equal(m, wantMutations) {
				t.Errorf("mutations = %q, want %q", m, wantMutations)
			}
			if len(got.Notes) > 0 {
				t.Errorf("notes = %v, want none", got.Notes)
			}
			checkAgainstAdmission(t, p, version(t, v))
		})
	}
}

func TestSeedRestrictedPSPMessages(t *testing.T) {
	p := readPSP(t, filepath.Join(sharedDir(t), "seed-restricted-psp.yaml"))
	got := Convert(p, version(t, "v1.30"))
	want := Finding{
		Field:  "seLinux",
		Level:  api.LevelBaseline,
		Checks: []string{"seLinuxOptions"},
		Message: "seLinux.rule RunAsAny lets pods set any SELinux user, role and type; " +
			"baseline allows only the types container_t, container_init_t, container_kvm_t and no user or role",
	}
	if len(got.Findings) != 1 || !reflect.DeepEqual(got.Findings[0], want) {
		t.Errorf("findings = %+v, want [%+v]", got.Findings, want)
	}
	wantMutation := Mutation{
		Field:   "fsGroup",
		Sets:    "pod securityContext.fsGroup: 1",
		Message: "fsGroup MustRunAs → pod securityContext.fsGroup: 1 when unset",
	}
	if !slices.Contains(got.Mutations, wantMutation) {
		t.Errorf("mutations %+v lack %+v", got.Mutations, wantMutation)
	}
}

// TestConvertIsSafeConcurrently is meant for go test -race.
func TestConvertIsSafeConcurrently(t *testing.T) {
	p := readPSP(t, filepath.Join(sharedDir(t), "seed-restricted-psp.yaml"))
	want := Convert(p, version(t, "latest"))
	var wg sync.WaitGroup
	results := make([]PolicyResult, 8)
	for i := range results {
		wg.Go(func() { results[i] = Convert(p, version(t, "latest")) })
	}
	wg.Wait()
	for i, got := range results {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("concurrent Convert %d differs", i)
		}
	}
}
