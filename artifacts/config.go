package artifacts

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/plan"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// AdmissionConfigName is the file, under --write-dir, holding the
// cluster-wide PodSecurity configuration.
const AdmissionConfigName = "admission-configuration.yaml"

// ConfigOptions are the choices behind the cluster-wide configuration.
type ConfigOptions struct {
	// Server is the Kubernetes version of the kube-apiserver that reads
	// the file; it decides the PodSecurityConfiguration apiVersion.
	Server api.Version
	// Enforce is the default enforce level; baseline when empty.
	Enforce api.Level
	// Exemptions are added to those the plan needs. Exempting users,
	// namespaces or runtime classes is the user's decision: the plan never
	// proposes one beyond the system namespaces it leaves unlabelled.
	Exemptions pss.Exemptions
}

// systemNamespaces are the namespaces every cluster has, which the plan
// labels only with --include-system.
var systemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// AdmissionConfigFile returns DIR/admission-configuration.yaml with what
// it holds now, for --write-dir.
func AdmissionConfigFile(p *plan.Plan, dir string, opts ConfigOptions) (File, error) {
	data, err := AdmissionConfig(p, opts)
	if err != nil {
		return File{}, err
	}
	files, err := withCurrentContents([]File{newFile(filepath.Join(dir, AdmissionConfigName), data)})
	if err != nil {
		return File{}, err
	}
	return files[0], nil
}

// AdmissionConfig is the AdmissionConfiguration the plan proposes for
// kube-apiserver: the default policy for namespaces the plan does not
// label (new ones above all, once PodSecurityPolicy no longer guards
// them) and the system namespaces left out of the plan as exemptions. The
// header says why each default and exemption is there.
func AdmissionConfig(p *plan.Plan, opts ConfigOptions) ([]byte, error) {
	version, err := pss.ParseVersion(p.PSSVersion)
	if err != nil {
		return nil, fmt.Errorf("the plan's %w", err)
	}
	enforce := opts.Enforce
	if enforce == "" {
		enforce = pss.Baseline
	}
	watch := pss.Restricted
	cfg := pss.Config{
		Defaults: api.Policy{
			Enforce: api.LevelVersion{Level: enforce, Version: version},
			Audit:   api.LevelVersion{Level: watch, Version: version},
			Warn:    api.LevelVersion{Level: watch, Version: version},
		},
	}
	reasons := exemptSystemNamespaces(p, &cfg.Exemptions)
	reasons = append(reasons, addRequested(&cfg.Exemptions, opts.Exemptions)...)
	body, err := pss.Configuration(cfg, opts.Server)
	if err != nil {
		return nil, fmt.Errorf("admission configuration: %w", err)
	}
	return append([]byte(configHeader(cfg.Defaults, reasons)), body...), nil
}

// exemptSystemNamespaces exempts each system namespace whose pods nothing
// else would judge as they are judged today: one the plan leaves
// unlabelled and whose own labels do not set enforce. Without the
// exemption the default enforce level would fall on Kubernetes' own pods
// (kube-proxy, CNI and storage agents often run privileged). It returns
// a line per namespace saying why it is or is not exempt.
func exemptSystemNamespaces(p *plan.Plan, ex *pss.Exemptions) []string {
	planned := map[string]*plan.Namespace{}
	for i := range p.Namespaces {
		planned[p.Namespaces[i].Name] = &p.Namespaces[i]
	}
	var reasons []string
	for _, name := range systemNamespaces {
		why := "a Kubernetes system namespace"
		if name == "kube-system" {
			why += " whose pods (kube-proxy, CNI and storage agents) often need privileges the default enforce level refuses"
		}
		ns := planned[name]
		switch {
		case ns != nil && len(ns.Labels) > 0:
			reasons = append(reasons, fmt.Sprintf("%s is not exempt: the plan labels it (rollout/).", name))
		case ns != nil && ns.Current[pss.LevelLabel(pss.Enforce)] != "":
			reasons = append(reasons, fmt.Sprintf("%s is not exempt: its own label %s=%s decides.",
				name, pss.LevelLabel(pss.Enforce), ns.Current[pss.LevelLabel(pss.Enforce)]))
		case ns != nil:
			ex.Namespaces = append(ex.Namespaces, name)
			reasons = append(reasons, fmt.Sprintf("%s: %s; the plan leaves it unlabelled (plan --include-system labels it).", name, why))
		default:
			ex.Namespaces = append(ex.Namespaces, name)
			reasons = append(reasons, fmt.Sprintf("%s: %s; not in the plan's input, but every cluster has one.", name, why))
		}
	}
	return reasons
}

// addRequested adds the exemptions the user asked for, once each, and
// says so.
func addRequested(ex *pss.Exemptions, requested pss.Exemptions) []string {
	var reasons []string
	add := func(list *[]string, kind string, names []string) {
		for _, name := range names {
			if slices.Contains(*list, name) {
				continue
			}
			*list = append(*list, name)
			reasons = append(reasons, fmt.Sprintf("%s %s: exempt on request.", kind, name))
		}
	}
	add(&ex.Namespaces, "namespace", requested.Namespaces)
	add(&ex.Usernames, "user", requested.Usernames)
	add(&ex.RuntimeClasses, "runtime class", requested.RuntimeClasses)
	return reasons
}

// configHeader explains the choices; pss.Configuration's own header, which
// follows, says how to install the file.
func configHeader(d api.Policy, reasons []string) string {
	lines := []string{
		"Why these defaults and exemptions (psp2psa plan):",
		fmt.Sprintf("Defaults: enforce %s, audit and warn %s, pinned to %s. They judge every", d.Enforce.Level, d.Warn.Level, d.Enforce.Version),
		"namespace without Pod Security labels, above all those created after",
		"PodSecurityPolicy is gone; rollout/ labels the existing ones.",
		"Exemptions (exempt requests are not checked, warned about or audited):",
	}
	for _, r := range reasons {
		lines = append(lines, "  "+r)
	}
	return "# " + strings.Join(lines, "\n# ") + "\n#\n"
}
