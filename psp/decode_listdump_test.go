package psp

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/psp2psa/psp2psa/manifest"
)

// The list dump fixtures are what a user feeds the tool from a live
// cluster. They hold the PSPs of listDumpSources as a 1.24 apiserver
// stored them (defaults applied, system metadata added), in three forms:
// the raw API list (items without kind), and the List that kubectl get
// psp -o yaml / -o json prints. testdata/input/INDEX says the same.
var listDumpSources = []string{
	"kubernetes__website__content_en_examples_policy_baseline-psp.yaml",
	"kubernetes__kops__upup_models_cloudup_resources_addons_podsecuritypolicy.addons.k8s.io_k8s-1.12.yaml.template",
	"kubernetes__ingress-nginx__docs_examples_psp_psp.yaml",
	"kubernetes__website__content_en_examples_policy_restricted-psp.yaml",
}

const (
	listDumpRawAPI      = "psp-list-raw-api.json"
	listDumpKubectlYAML = "psp-list-kubectl.yaml"
	listDumpKubectlJSON = "psp-list-kubectl.json"
)

// TestListDumpFixturesRegenerate rewrites the list dump fixtures from a
// real 1.24 apiserver. The server gives every object a new uid and
// timestamp, so a plain -update leaves them alone: it runs only with
// -update and -run naming it.
func TestListDumpFixturesRegenerate(t *testing.T) {
	run := flag.Lookup("test.run")
	if !inputUpdatingGolden() || run == nil || !strings.Contains(run.Value.String(), "TestListDumpFixturesRegenerate") {
		t.Skip("regenerate with: go test ./psp/ -run TestListDumpFixturesRegenerate -update")
	}
	server := startPSPCreator(t)
	for _, name := range listDumpSources {
		docs, errs := manifest.Read([]string{filepath.Join(inputSharedPath(t, "corpus", "psp"), name)}, nil)
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		for _, doc := range docs {
			if doc.Kind == Kind {
				server.store(t, asCreatable(t, doc.Raw))
			}
		}
	}
	raw := server.list(t)
	writeFixture(t, listDumpRawAPI, raw)

	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	// kubectl prints a v1 List whose items carry their kind, without
	// managedFields.
	for _, item := range list.Items {
		item["apiVersion"], item["kind"] = APIVersionPolicy, Kind
		delete(item["metadata"].(map[string]any), "managedFields")
	}
	kubectlList := map[string]any{"apiVersion": "v1", "kind": "List", "items": list.Items, "metadata": map[string]any{"resourceVersion": ""}}
	js, err := json.MarshalIndent(kubectlList, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	writeFixture(t, listDumpKubectlJSON, append(js, '\n'))
	y, err := yaml.Marshal(kubectlList)
	if err != nil {
		t.Fatal(err)
	}
	writeFixture(t, listDumpKubectlYAML, y)
}

// store creates a PSP for real, so that it shows in the list.
func (s *pspCreator) store(t *testing.T, raw []byte) {
	t.Helper()
	url := strings.TrimSuffix(s.url, "?dryRun=All")
	resp, err := s.client.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("create PSP: %d %s", resp.StatusCode, body)
	}
}

// list returns GET podsecuritypolicies as the server sends it.
func (s *pspCreator) list(t *testing.T) []byte {
	t.Helper()
	resp, err := s.client.Get(strings.TrimSuffix(s.url, "?dryRun=All"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list PSPs: %d %s %v", resp.StatusCode, body, err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	return append(out.Bytes(), '\n')
}

func writeFixture(t *testing.T, name string, data []byte) {
	t.Helper()
	if strings.HasSuffix(name, ".yaml") {
		header := "# A kubectl get psp -o yaml dump of a kube-apiserver v1.24.17 holding the PSPs of\n" +
			"# four corpus files; see INDEX. Regenerate: go test ./psp/ -run TestListDumpFixturesRegenerate -update\n"
		data = append([]byte(header), data...)
	}
	if err := os.WriteFile(filepath.Join("testdata", "input", name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadListDumps reads the list dumps a user would take from a
// cluster: kubectl's YAML and JSON give every PSP, with the line where
// its item starts; the raw API list lacks the items' kinds, and each item
// is an error naming it.
func TestReadListDumps(t *testing.T) {
	want := []string{"baseline", "ingress-nginx", "kube-system", "restricted"} // the server lists by name
	for _, name := range []string{listDumpKubectlYAML, listDumpKubectlJSON} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "input", name)
			docs, errs := manifest.Read([]string{path}, nil)
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			load := FromDocuments(docs)
			var names []string
			for i, p := range load.Policies {
				names = append(names, p.PSP.Name)
				if p.Source.Index != 0 || p.Source.Item == nil || *p.Source.Item != i {
					t.Errorf("%s: source %v, want document 0, item %d", p.PSP.Name, p.Source, i)
				}
				checkItemLine(t, path, p)
			}
			if !slices.Equal(names, want) || len(load.Errors) != 0 || len(load.Skipped) != 0 {
				t.Errorf("policies %q (want %q), errors %v, skipped %v", names, want, load.Errors, load.Skipped)
			}
			// The stored PSPs carry what the server added: the defaulted
			// allowPrivilegeEscalation and no namespace.
			for _, p := range load.Policies {
				if p.PSP.Spec.AllowPrivilegeEscalation == nil || p.PSP.Namespace != "" || p.PSP.ResourceVersion == "" {
					t.Errorf("%s does not look stored by a server: %+v", p.PSP.Name, p.PSP.ObjectMeta)
				}
			}
		})
	}
	t.Run(listDumpRawAPI, func(t *testing.T) {
		docs, errs := manifest.Read([]string{filepath.Join("testdata", "input", listDumpRawAPI)}, nil)
		if len(docs) != 0 || len(errs) != len(want) {
			t.Fatalf("read %d documents, errors %v; want one error per item", len(docs), errs)
		}
		for i, err := range errs {
			if !strings.Contains(err.Error(), fmt.Sprintf("document 0, item %d", i)) || !strings.Contains(err.Error(), "has no kind") {
				t.Errorf("error %d: %v", i, err)
			}
		}
	})
}

// checkItemLine checks that a list item's line is where its text starts:
// the line opens the item ("- apiVersion: ..." in YAML, "{" in JSON) and
// the item's name follows within its metadata.
func checkItemLine(t *testing.T, path string, p Policy) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	if p.Source.Line < 1 || p.Source.Line > len(lines) {
		t.Fatalf("%s: line %d out of range", p.PSP.Name, p.Source.Line)
	}
	first := strings.TrimSpace(lines[p.Source.Line-1])
	if first != "{" && !strings.HasPrefix(first, "- apiVersion:") {
		t.Errorf("%s: line %d is %q, not the start of an item", p.PSP.Name, p.Source.Line, first)
	}
	item := strings.Join(lines[p.Source.Line-1:min(p.Source.Line+20, len(lines))], "\n")
	if !strings.Contains(item, "name: "+p.PSP.Name+"\n") && !strings.Contains(item, `"name": "`+p.PSP.Name+`"`) {
		t.Errorf("%s: its name does not follow line %d", p.PSP.Name, p.Source.Line)
	}
}
