package main

import (
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestNameFor(t *testing.T) {
	for arg0, want := range map[string]string{
		"psp2psa":                            "psp2psa",
		"/usr/local/bin/psp2psa":             "psp2psa",
		"/home/me/.krew/bin/kubectl-psp2psa": "kubectl psp2psa",
		`C:\krew\bin\kubectl-psp2psa.exe`:    "kubectl psp2psa",
		"kubectl-":                           "psp2psa",
	} {
		if got := nameFor(strings.ReplaceAll(arg0, `\`, "/")); got != want {
			t.Errorf("nameFor(%q) = %q, want %q", arg0, got, want)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	r := runCLI(t, "", "--version")
	version, _, _ := buildVersion()
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "psp2psa "+version+" (") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
}

// The krew manifest in the repository is one krew takes: a Plugin with a
// version, and for each platform an archive URI of that version, a sha256
// and the binary to link as kubectl-psp2psa.
func TestKrewManifest(t *testing.T) {
	data, err := os.ReadFile("../../deploy/krew/psp2psa.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Version          string `json:"version"`
			Homepage         string `json:"homepage"`
			ShortDescription string `json:"shortDescription"`
			Description      string `json:"description"`
			Platforms        []struct {
				Selector struct {
					MatchLabels map[string]string `json:"matchLabels"`
				} `json:"selector"`
				URI    string `json:"uri"`
				SHA256 string `json:"sha256"`
				Bin    string `json:"bin"`
				Files  []struct {
					From string `json:"from"`
					To   string `json:"to"`
				} `json:"files"`
			} `json:"platforms"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "psp2psa" || m.Spec.ShortDescription == "" {
		t.Errorf("manifest head: %+v", m)
	}
	if len(m.Spec.Platforms) < 4 {
		t.Fatalf("%d platforms", len(m.Spec.Platforms))
	}
	for _, p := range m.Spec.Platforms {
		os, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
		if !strings.Contains(p.URI, "/releases/download/"+m.Spec.Version+"/psp2psa_"+m.Spec.Version+"_"+os+"_"+arch+".") ||
			len(p.SHA256) != 64 || !strings.HasPrefix(p.Bin, "psp2psa") || len(p.Files) == 0 {
			t.Errorf("platform %s/%s: %+v", os, arch, p)
		}
	}
}
