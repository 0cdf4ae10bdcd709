package psp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/psp2psa/psp2psa/internal/testcluster"
	"github.com/psp2psa/psp2psa/manifest"
)

// pspCreator dry-runs PSP creation on a real kube-apiserver v1.24.
type pspCreator struct {
	client *http.Client
	url    string
}

// startPSPCreator starts a v1.24 test cluster for this test, or skips: in
// -short mode, or when hack/testservers/build.sh has not been run (unless
// CI is set).
func startPSPCreator(t *testing.T) *pspCreator {
	t.Helper()
	c := testcluster.Private(t, "v1.24")
	client, err := rest.HTTPClientFor(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &pspCreator{client: client, url: c.Host() + "/apis/policy/v1beta1/podsecuritypolicies?dryRun=All"}
}

// create sends raw as it is and returns whether the server accepted it
// and, when it refused it as invalid, the fields it named.
func (s *pspCreator) create(t *testing.T, raw []byte) (accepted bool, fields []string, detail string) {
	t.Helper()
	resp, err := s.client.Post(s.url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil, ""
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		var status metav1.Status
		if err := json.Unmarshal(body, &status); err != nil {
			t.Fatalf("decoding %d response %s: %v", resp.StatusCode, body, err)
		}
		if status.Details != nil {
			for _, c := range status.Details.Causes {
				fields = append(fields, serverFieldPath(c.Field))
			}
		}
		return false, fields, status.Message
	default:
		t.Fatalf("unexpected response %d: %s", resp.StatusCode, body)
		return false, nil, ""
	}
}

// serverFieldPath maps the paths 1.24 misnames to where Validate
// puts them (see Validate's comment).
func serverFieldPath(p string) string {
	switch {
	case p == "requiredDropCapabilities", p == "defaultAddCapabilities", p == "allowedCapabilities":
		return "spec." + p
	case strings.HasPrefix(p, "spec.allowedFlexVolumes.allowedFlexVolumes["):
		return strings.Replace(p, "spec.allowedFlexVolumes.allowedFlexVolumes[", "spec.allowedFlexVolumes[", 1)
	case strings.HasPrefix(p, "spec.allowedCSIDrivers.allowedCSIDriver["):
		return strings.Replace(p, "spec.allowedCSIDrivers.allowedCSIDriver[", "spec.allowedCSIDrivers[", 1)
	}
	return p
}

// TestValidateAgreesWithAPIServer dry-runs the creation of every PSP of
// the validation tables and of the corpus on a real 1.24 apiserver: the
// server must accept exactly the PSPs that Validate and FromDocuments
// accept, and name the same fields when it refuses one.
func TestValidateAgreesWithAPIServer(t *testing.T) {
	server := startPSPCreator(t)
	t.Run("tables", func(t *testing.T) {
		tables := map[string][]validateCase{
			"metadata":     validateMetadataCases(),
			"annotations":  validateProfileAnnotationCases(),
			"strategies":   validateStrategyCases(),
			"volumes":      validateVolumeAndHostCases(),
			"capabilities": validateCapabilityAndEscalationCases(),
			"sysctls":      validateSysctlCases(),
			"runtimeClass": validateRuntimeClassCases(),
			"restricted":   {{name: "the docs' restricted PSP", mutate: func(*PodSecurityPolicy) {}}},
		}
		for _, group := range sortedStringKeys(tables) {
			for _, tc := range tables[group] {
				t.Run(group+"/"+tc.name, func(t *testing.T) {
					p := validPSP()
					tc.mutate(p)
					p.TypeMeta = metav1.TypeMeta{APIVersion: APIVersionPolicy, Kind: Kind}
					raw, err := json.Marshal(p)
					if err != nil {
						t.Fatal(err)
					}
					var ours []string
					for _, e := range Validate(p) {
						ours = append(ours, e.Field)
					}
					compareWithServer(t, server, raw, ours)
				})
			}
		}
	})
	t.Run("decoding", func(t *testing.T) {
		const base = `{"apiVersion":"policy/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"decoding"%s},` +
			`"spec":{"runAsUser":{"rule":"RunAsAny"},"seLinux":{"rule":"RunAsAny"},"supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"}%s}}`
		for _, tc := range []struct{ name, metadata, spec string }{
			{"string where an integer belongs", "", `,"runAsGroup":{"rule":"MustRunAs","ranges":[{"min":"1","max":2}]}`},
			{"fraction where an integer belongs", "", `,"hostPorts":[{"min":1.5,"max":2}]`},
			{"host port beyond int32", "", `,"hostPorts":[{"min":1,"max":4294967296}]`},
			{"list where an object belongs", "", `,"runtimeClass":[]`},
			{"unknown and capitalised fields", "", `,"hostNetwrk":true,"Privileged":true`},
			{"duplicate field", "", `,"privileged":true,"privileged":false`},
			{"time that is not a time", `,"creationTimestamp":"yesterday"`, ""},
			{"annotation that is not a string", `,"annotations":{"a":1}`, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				raw := []byte(fmt.Sprintf(base, tc.metadata, tc.spec))
				doc := manifest.Document{Source: manifest.Source{File: "test"}, APIVersion: APIVersionPolicy, Kind: Kind, Name: "decoding", Raw: raw}
				load := FromDocuments([]manifest.Document{doc})
				compareWithServer(t, server, raw, inputErrorFields(load.Errors))
			})
		}
	})
	t.Run("corpus", func(t *testing.T) {
		for _, file := range inputCorpusFiles(t) {
			docs, errs := manifest.Read([]string{file}, nil)
			if len(errs) != 0 {
				t.Fatalf("reading %s: %v", file, errs)
			}
			for _, doc := range docs {
				if doc.Kind != Kind {
					continue
				}
				t.Run(filepath.Base(file)+"/"+doc.Name, func(t *testing.T) {
					load := FromDocuments([]manifest.Document{doc})
					compareWithServer(t, server, asCreatable(t, doc.Raw), inputErrorFields(load.Errors))
				})
			}
		}
	})
}

func compareWithServer(t *testing.T, server *pspCreator, raw []byte, ours []string) {
	t.Helper()
	accepted, theirs, detail := server.create(t, raw)
	if accepted != (len(ours) == 0) {
		t.Fatalf("server accepted=%v (%s), we found %q", accepted, detail, ours)
	}
	if accepted {
		return
	}
	slices.Sort(ours)
	slices.Sort(theirs)
	// The server stops at its first failing phase: decoding, then
	// ValidatePodSecurityPolicy, so its fields are always among ours; it
	// names none for a decoding error.
	for _, f := range theirs {
		if !slices.Contains(ours, f) {
			t.Errorf("server names %s, we do not (ours %q, server %q: %s)", f, ours, theirs, detail)
		}
	}
	if len(theirs) > 0 && !slices.Equal(ours, theirs) {
		t.Errorf("fields differ:\n ours   %q\n server %q (%s)", ours, theirs, detail)
	}
}

// asCreatable drops what a create request may not carry but a manifest
// dumped from a cluster does (metadata.resourceVersion), and sends
// extensions/v1beta1 PSPs, which 1.24 no longer serves, as policy/v1beta1.
func asCreatable(t *testing.T, raw []byte) []byte {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	obj["apiVersion"] = APIVersionPolicy
	if meta, ok := obj["metadata"].(map[string]any); ok {
		delete(meta, "resourceVersion")
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
