package hygiene

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/inventory"
	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/patch"
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

// template reads the only workload of a corpus file.
func template(t *testing.T, file string) *corev1.PodTemplateSpec {
	t.Helper()
	docs, errs := manifest.Read([]string{filepath.Join(testinputs.CorpusDir(t), "workloads", file)}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	inv, _ := inventory.FromDocuments(docs, "")
	if len(inv.Workloads) != 1 {
		t.Fatalf("%s: %d workloads", file, len(inv.Workloads))
	}
	return inv.Workloads[0].Template
}

// policy reads the named PSP of a corpus file.
func policy(t *testing.T, file, name string) *psp.PodSecurityPolicy {
	t.Helper()
	docs, errs := manifest.Read([]string{filepath.Join(testinputs.CorpusDir(t), "psp", file)}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, p := range psp.FromDocuments(docs).Policies {
		if p.PSP.Name == name {
			return p.PSP
		}
	}
	t.Fatalf("%s holds no valid PSP %s", file, name)
	return nil
}

// summary is each issue as "id[containers]".
func summary(issues []Issue) []string {
	out := []string{}
	for _, is := range issues {
		out = append(out, is.ID+"["+strings.Join(is.Containers, " ")+"]")
	}
	return out
}

func TestCheckCorpusWorkloads(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		// No securityContext at all, a hostPath volume: everything.
		{"aquasecurity__kube-bench__job.yaml", []string{"run-as-user-unset[kube-bench]", "run-as-group-unset[kube-bench]", "fs-group-unset[]", "run-as-non-root-missing[kube-bench]"}},
		// runAsUser 65534 and runAsNonRoot at the container: only the group is the image's.
		{"kubernetes__kube-state-metrics__examples_standard_deployment.yaml", []string{"run-as-group-unset[kube-state-metrics]"}},
		// Pod-level runAsUser 65534 and runAsNonRoot cover both containers; hostPath volumes, no fsGroup.
		{"prometheus-operator__kube-prometheus__manifests_node-exporter-daemonset.yaml", []string{"run-as-group-unset[node-exporter kube-rbac-proxy]", "fs-group-unset[]"}},
		// runAsUser: 0 explicitly, as a privileged debugging pod does.
		{"rook__rook__deploy_examples_direct-mount.yaml", []string{"run-as-user-root[rook-direct-mount]", "run-as-group-unset[rook-direct-mount]", "fs-group-unset[]", "run-as-non-root-missing[rook-direct-mount]"}},
		// runAsUser and runAsGroup 0 at the pod, the case gatekeeper's user-ranges template rejects.
		{"open-policy-agent__gatekeeper-library__library_pod-security-policy_users_samples_psp-pods-allowed-user-ranges_example_disallowed.yaml", []string{"run-as-user-root[nginx]", "run-as-group-root[nginx]", "run-as-non-root-missing[nginx]"}},
		// Init and regular containers, in that order.
		{"flannel-io__flannel__documentation_kustomization_kube-flannel_kube-flannel.yml", []string{"run-as-user-unset[install-cni-plugin install-cni kube-flannel]", "run-as-group-unset[install-cni-plugin install-cni kube-flannel]", "fs-group-unset[]", "run-as-non-root-missing[install-cni-plugin install-cni kube-flannel]"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if got := summary(Check(template(t, tc.file), nil)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

// The admitting PSP's ranges give the value to propose, and Pins patches
// exactly those, at the pod level.
func TestPinsFromCorpusPSPRanges(t *testing.T) {
	job := template(t, "aquasecurity__kube-bench__job.yaml")
	for _, tc := range []struct {
		file, name string
		want       []string // field=value from
	}{
		// runAsUser and fsGroup MustRunAs 1000-65535.
		{"cybozu-go__neco-apps__elastic_base_psp.yaml", "elastic.restricted", []string{
			"securityContext.runAsUser=1000 PSP elastic.restricted runAsUser MustRunAs 1000-65535",
			"securityContext.fsGroup=1000 PSP elastic.restricted fsGroup MustRunAs 1000-65535"}},
		// runAsGroup and fsGroup MustRunAs 1-65535.
		{"tektoncd__pipeline__config_101-podsecuritypolicy.yaml", "tekton-pipelines", []string{
			"securityContext.runAsGroup=1 PSP tekton-pipelines runAsGroup MustRunAs 1-65535",
			"securityContext.fsGroup=1 PSP tekton-pipelines fsGroup MustRunAs 1-65535"}},
		// fsGroup MayRunAs: PSP injected nothing, but allowed only these.
		{"cybozu-go__neco-apps__monitoring_base_machines-endpoints_pod-security-policy.yaml", "machines-endpoints", []string{
			"securityContext.fsGroup=1 PSP machines-endpoints fsGroup MayRunAs 1-65535"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := policy(t, tc.file, tc.name)
			p := Pins(job, pol)
			var got []string
			for _, ch := range p.Changes {
				if ch.Container != "" || ch.Warning == "" {
					t.Errorf("pin: %+v", ch)
				}
				from, _, _ := strings.Cut(strings.TrimPrefix(ch.Reason, "pins an ID the image would otherwise choose: "), " (--pin-ids)")
				got = append(got, fmt.Sprintf("%s=%v %s", ch.Field, ch.Value, from))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("pins:\n got  %q\n want %q", got, tc.want)
			}
			patched, err := p.Apply(job)
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range Check(patched, pol) {
				if is.Pin != nil {
					t.Errorf("still proposes %+v once pinned", is.Pin)
				}
			}
		})
	}
	// A range that starts at 0 proposes 1, never root.
	pol := policy(t, "cybozu-go__neco-apps__elastic_base_psp.yaml", "elastic.restricted")
	pol.Spec.RunAsUser.Ranges = []psp.IDRange{{Min: 0, Max: 0}, {Min: 0, Max: 100}}
	if pin := pinFor(pol, patch.FieldRunAsUser, nil); pin == nil || pin.Value != 1 {
		t.Errorf("pin from 0-0,0-100: %+v", pin)
	}
}
