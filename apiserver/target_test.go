package apiserver

import (
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

func TestParseVersion(t *testing.T) {
	newest := pss.NewestVersion()
	tests := []struct {
		in, want, err string
	}{
		{in: "v1.24", want: "v1.24"},
		{in: "1.29", want: "v1.29"},
		{in: "v1.24.17", want: "v1.24"},
		{in: "v1.30.2-gke.1", want: "v1.30"},
		{in: "v1.30.2+k3s1", want: "v1.30"},
		{in: newest.String(), want: newest.String()},
		{in: "v1.21", err: "starts at v1.22"},
		{in: "v1.99", err: "knows servers up to"},
		{in: "v2.0", err: "want v1.N"},
		{in: "latest", err: "want v1.N"},
		{in: "", err: "want v1.N"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := ParseVersion(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseVersion(%q) = %v, %v; want an error with %q", tt.in, v, err, tt.err)
				}
				return
			}
			if err != nil || v.String() != tt.want {
				t.Fatalf("ParseVersion(%q) = %v, %v; want %s", tt.in, v, err, tt.want)
			}
		})
	}
}

// TestVersionGates pins each behaviour to the releases REFERENCE §8 names.
func TestVersionGates(t *testing.T) {
	for _, tt := range []struct {
		minor                                int
		appArmorField, copiesSeccomp, serves bool
	}{
		{22, false, true, false},
		{24, false, true, false},
		{26, false, true, false},
		{27, false, false, false},
		{29, false, false, false},
		{30, true, false, true},
		{37, true, false, true},
	} {
		tg := Target{Version: api.MajorMinorVersion(1, tt.minor)}
		if tg.AppArmorField() != tt.appArmorField || tg.CopiesSeccompAnnotations() != tt.copiesSeccomp || tg.ValidatingAdmissionPolicies() != tt.serves {
			t.Errorf("v1.%d: AppArmorField %v, CopiesSeccompAnnotations %v, ValidatingAdmissionPolicies %v; want %v %v %v",
				tt.minor, tg.AppArmorField(), tg.CopiesSeccompAnnotations(), tg.ValidatingAdmissionPolicies(), tt.appArmorField, tt.copiesSeccomp, tt.serves)
		}
	}
}

func TestPSSVersion(t *testing.T) {
	v124 := Target{Version: api.MajorMinorVersion(1, 24), From: FromCluster}
	if v, err := v124.PSSVersion(nil); err != nil || v.String() != "v1.24" {
		t.Errorf("default PSS version for a 1.24 server: %v, %v; want v1.24", v, err)
	}
	older := api.MajorMinorVersion(1, 23)
	if v, err := v124.PSSVersion(&older); err != nil || v != older {
		t.Errorf("an older pin: %v, %v; want v1.23", v, err)
	}
	newer := api.MajorMinorVersion(1, 30)
	if _, err := v124.PSSVersion(&newer); err == nil || !strings.Contains(err.Error(), "would pin nothing") {
		t.Errorf("a pin newer than the server: %v; want it refused", err)
	}
}
