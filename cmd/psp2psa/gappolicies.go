package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/artifacts"
	"github.com/psp2psa/psp2psa/plan"
)

// gapPolicyFlags choose how --write-dir keeps what PSS cannot express and
// whether it writes the PSPs' defaults as policies.
type gapPolicyFlags struct {
	GapPolicies      string `name:"gap-policies" enum:",vap,kyverno,gatekeeper,none" default:"" help:"How --write-dir keeps the PSP restrictions no PSS level expresses: vap (ValidatingAdmissionPolicies, Kubernetes 1.30+), kyverno (Kyverno 1.11+ ClusterPolicies), gatekeeper (Constraints of the gatekeeper-library's templates) or none. Default: vap when the target server is 1.30 or later, else none."`
	DefaultsAsPolicy bool   `name:"defaults-as-policy" help:"Also write --write-dir's mutating-admission-policies.yaml: MutatingAdmissionPolicies (Kubernetes 1.36+) giving new pods what their PSP gave them, for workloads whose manifests cannot carry the patches."`
}

// gapPolicyKind is --gap-policies, or its default for the target: vap from
// 1.30, else none. A ValidatingAdmissionPolicy is never written for an
// older target.
func (c *planCmd) gapPolicyKind(server apiserver.Target) (string, error) {
	kind := c.GapPolicies
	if kind == "" {
		kind = "none"
		if server.ValidatingAdmissionPolicies() {
			kind = "vap"
		}
	}
	if kind == "vap" && !server.ValidatingAdmissionPolicies() {
		return "", usageError(fmt.Errorf("--gap-policies vap: ValidatingAdmissionPolicy v1 needs Kubernetes 1.30, the target is %s; use kyverno or gatekeeper", server))
	}
	if c.DefaultsAsPolicy && !server.MutatingAdmissionPolicies() {
		return "", usageError(fmt.Errorf("--defaults-as-policy: MutatingAdmissionPolicy v1 needs Kubernetes 1.36, the target is %s", server))
	}
	return kind, nil
}

// gapPolicyFiles are the files keeping what PSS cannot express, of the
// chosen kind, and with --defaults-as-policy the MutatingAdmissionPolicies.
// Without policies for the gaps, the plan notes which restrictions are
// lost and the ways to keep them.
func (c *planCmd) gapPolicyFiles(p *plan.Plan, in *inputs, server apiserver.Target) ([]artifacts.File, error) {
	kind, err := c.gapPolicyKind(server)
	if err != nil {
		return nil, err
	}
	var files []artifacts.File
	add := func(f artifacts.File, ok bool, err error) error {
		if err != nil {
			return fmt.Errorf("the %s policies: %w", kind, err)
		}
		if ok {
			files = append(files, f)
		}
		return nil
	}
	switch kind {
	case "vap":
		err = add(artifacts.AdmissionPoliciesFile(p, in.plan.Policies, c.WriteDir, c.DenyGaps))
	case "kyverno":
		err = add(artifacts.KyvernoPoliciesFile(p, in.plan.Policies, c.WriteDir, c.DenyGaps))
	case "gatekeeper":
		err = add(artifacts.GatekeeperConstraintsFile(p, in.plan.Policies, c.WriteDir, c.DenyGaps))
	default:
		if lost := lostRestrictions(p); lost != "" {
			p.Notes = append(p.Notes, fmt.Sprintf("no policy keeps the restrictions no PSS level expresses (%s): "+
				"ValidatingAdmissionPolicy needs Kubernetes 1.30 and the target is %s; keep them with Kyverno "+
				"(--gap-policies kyverno) or Gatekeeper (--gap-policies gatekeeper)", lost, server))
		}
	}
	if err != nil {
		return nil, err
	}
	if c.DefaultsAsPolicy {
		f, relying, ok, err := artifacts.DefaultsPoliciesFile(p, in.plan.Policies, c.WriteDir)
		if err != nil {
			return nil, fmt.Errorf("the mutating admission policies: %w", err)
		}
		if ok {
			files = append(files, f)
		}
		if len(relying) > 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("%d workloads get their PSP's defaults from %s where they do not carry the patch: %s",
				len(relying), artifacts.DefaultsPoliciesName, strings.Join(relying, ", ")))
		}
	}
	return files, nil
}

// lostRestrictions words the gaps of the PSPs that admit workloads, by
// PSP: "restricted: fsGroup, volumes; baseline: volumes"; "" when none.
func lostRestrictions(p *plan.Plan) string {
	admitting := map[string]bool{}
	for i := range p.Workloads {
		admitting[p.Workloads[i].AdmittedBy] = true
	}
	var parts []string
	for i := range p.Policies {
		r := &p.Policies[i]
		if !admitting[r.Name] || len(r.Gaps) == 0 {
			continue
		}
		var fields []string
		for _, g := range r.Gaps {
			if !slices.Contains(fields, g.Field) {
				fields = append(fields, g.Field)
			}
		}
		parts = append(parts, r.Name+": "+strings.Join(fields, ", "))
	}
	return strings.Join(parts, "; ")
}

var errNoWriteDir = errors.New("--gap-policies and --defaults-as-policy need --write-dir")
