package pss

import (
	"reflect"
	"testing"

	"k8s.io/pod-security-admission/api"
)

func TestLabelsArePinnedAndParseAsPSADoes(t *testing.T) {
	v := api.MajorMinorVersion(1, 37)
	labels := Labels(map[Mode]api.Level{Enforce: Baseline, Audit: Restricted, Warn: Restricted}, v)
	want := map[string]string{
		"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.37",
		"pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/audit-version": "v1.37",
		"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.37",
	}
	if !reflect.DeepEqual(labels, want) {
		t.Fatalf("Labels = %v\nwant %v", labels, want)
	}
	// The admission plugin itself must read them back as intended.
	policy, errs := api.PolicyToEvaluate(labels, api.Policy{})
	if len(errs) > 0 {
		t.Fatalf("PSA rejects the labels: %v", errs)
	}
	if policy.Enforce.Level != Baseline || policy.Warn.Level != Restricted || policy.Audit.Version != v {
		t.Errorf("PSA reads %s", policy.String())
	}
	if !IsLabel("pod-security.kubernetes.io/warn") || IsLabel("pod-security.kubernetes.io.example/warn") {
		t.Error("IsLabel misjudges the prefix")
	}
}
