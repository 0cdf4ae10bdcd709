// Package plantest plans manifest files for tests of the packages that
// consume plans, the way the CLI does, failing the test on bad input.
package plantest

import (
	"testing"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// Plan is a plan of the paths at PSS v1.37 with the CLI's defaults and the
// given --to-level ("" for none), with the policies and documents it came
// from.
type Plan struct {
	*plan.Plan
	Policies  []psp.Policy
	Documents []manifest.Document
}

// Build reads the paths and plans them.
func Build(t testing.TB, toLevel api.Level, paths ...string) Plan {
	t.Helper()
	v, err := pss.ParseVersion("v1.37")
	if err != nil {
		t.Fatal(err)
	}
	return BuildFor(t, apiserver.Target{Version: v, From: apiserver.FromFlag}, toLevel, paths...)
}

// BuildFor plans the paths for a target server, with labels pinned to its
// version.
func BuildFor(t testing.TB, server apiserver.Target, toLevel api.Level, paths ...string) Plan {
	t.Helper()
	docs, errs := manifest.Read(paths, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	inv, invErrs := inventory.FromDocuments(docs, "")
	if len(invErrs) > 0 {
		t.Fatal(invErrs)
	}
	policies := psp.FromDocuments(docs).Policies
	p := plan.Build(plan.Input{Policies: policies, Inventory: inv},
		plan.Options{Target: server, Version: server.Version, ToLevel: toLevel, EmptyNamespaceLevel: pss.Baseline, ControllerIdentity: psp.ModeServiceAccounts})
	return Plan{Plan: p, Policies: policies, Documents: docs}
}
