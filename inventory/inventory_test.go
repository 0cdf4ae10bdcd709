package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
	rbacv1 "k8s.io/api/rbac/v1"
)

const fixtures = "../testdata/inventory/"

func TestFromDocumentsWorkloads(t *testing.T) {
	inv, errs := FromDocuments(readDocuments(t, fixtures+"workloads.yaml"), "dev")
	for _, err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	type want struct {
		kind, apiVersion, namespace, name string
		serviceAccount                    string
		controller                        bool
		controllerKind, ownedBy           string
		admittedBy                        string
		templatePath                      string
		creatorKind                       string
		image                             string
	}
	wants := []want{
		{"Deployment", "extensions/v1beta1", "shop", "web", "web", true, "", "", "", "spec.template", "Deployment", "nginx"},
		{"ReplicaSet", "apps/v1", "shop", "web-5d4f", "web", true, "Deployment", "Deployment/web", "", "spec.template", "ReplicaSet", "nginx"},
		{"Pod", "v1", "shop", "web-5d4f-abcde", "web", true, "ReplicaSet", "ReplicaSet/web-5d4f", "restricted", "", "ReplicaSet", "nginx"},
		{"Pod", "v1", "dev", "debug", "legacy-sa", false, "", "", "", "", "", "busybox"},
		{"StatefulSet", "apps/v1beta1", "shop", "db", "default", true, "", "", "", "spec.template", "StatefulSet", "postgres"},
		{"DaemonSet", "apps/v1beta2", "kube-system", "agent", "default", true, "", "", "", "spec.template", "DaemonSet", "agent"},
		{"CronJob", "batch/v1beta1", "batch", "nightly", "default", true, "", "", "", "spec.jobTemplate.spec.template", "CronJob", "report"},
		{"Job", "batch/v1", "batch", "nightly-27000000", "default", true, "CronJob", "", "", "spec.template", "Job", "report"},
		{"ReplicationController", "v1", "legacy", "old-frontend", "default", true, "", "", "", "spec.template", "ReplicationController", "fe"},
		{"Pod", "v1", "kube-system", "kube-apiserver-node1", "", false, "", "", "privileged", "", "", "registry.k8s.io/kube-apiserver:v1.24.17"},
	}
	if len(inv.Workloads) != len(wants) {
		t.Fatalf("got %d workloads, want %d", len(inv.Workloads), len(wants))
	}
	for i, w := range wants {
		got := inv.Workloads[i]
		summary := want{
			got.Kind, got.APIVersion, got.Namespace, got.Name, got.ServiceAccount, got.Controller,
			got.ControllerKind, got.OwnedBy, got.AdmittedBy, strings.Join(got.TemplatePath, "."),
			got.CreatorKind(), got.Template.Spec.Containers[0].Image,
		}
		if summary != w {
			t.Errorf("workload %d:\n got %+v\nwant %+v", i, summary, w)
		}
	}
}

func TestFromDocumentsBarePodTemplateCarriesPodMetadata(t *testing.T) {
	inv, _ := FromDocuments(readDocuments(t, fixtures+"workloads.yaml"), "")
	pod := inv.Workloads[2]
	meta := pod.Template.ObjectMeta
	if meta.Name != "web-5d4f-abcde" || meta.Namespace != "shop" || meta.Annotations["kubernetes.io/psp"] != "restricted" {
		t.Errorf("pod template metadata = %+v", meta)
	}
	if bare := inv.Workloads[3]; bare.Namespace != DefaultNamespace || bare.Template.Namespace != DefaultNamespace {
		t.Errorf("pod without namespace and no default given: namespace %q, template %q, want %q",
			bare.Namespace, bare.Template.Namespace, DefaultNamespace)
	}
}

func TestFromDocumentsOtherObjects(t *testing.T) {
	inv, _ := FromDocuments(readDocuments(t, fixtures+"workloads.yaml"), "dev")
	wantUnknown := map[string]int{"v1/ConfigMap": 1, "example.com/v1/Deployment": 1}
	if !reflect.DeepEqual(inv.Unknown, wantUnknown) {
		t.Errorf("Unknown = %v, want %v (PodSecurityPolicy is not counted)", inv.Unknown, wantUnknown)
	}
	if len(inv.Namespaces) != 1 || inv.Namespaces[0].Name != "shop" || inv.Namespaces[0].Labels["team"] != "web" {
		t.Errorf("Namespaces = %+v", inv.Namespaces)
	}
	if len(inv.ServiceAccounts) != 1 || inv.ServiceAccounts[0].Namespace != "shop" || inv.ServiceAccounts[0].Name != "web" {
		t.Errorf("ServiceAccounts = %+v", inv.ServiceAccounts)
	}
	wantNames := []string{"batch", "dev", "kube-system", "legacy", "shop"}
	if got := inv.NamespaceNames(); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("NamespaceNames() = %v, want %v", got, wantNames)
	}
}

func TestFromDocumentsErrors(t *testing.T) {
	inv, errs := FromDocuments(readDocuments(t, fixtures+"errors.yaml"), "")
	tests := []struct {
		name      string
		object    string
		field     string
		sentinel  error
		message   string
		wantIndex int
	}{
		{name: "string where an integer belongs", object: "Deployment/shop/bad-uid",
			field: "spec.template.spec.containers[0].securityContext.runAsUser", message: `container "app": want int64, got string "1000"`, wantIndex: 0},
		{name: "controller without a pod template", object: "Deployment/shop/no-template",
			field: "spec.template", sentinel: errNoTemplate, wantIndex: 1},
		{name: "CronJob without a job template", object: "CronJob/shop/no-job-template",
			field: "spec.jobTemplate.spec.template", sentinel: errNoTemplate, wantIndex: 2},
		{name: "the same Deployment in two API versions", object: "Deployment/shop/twice",
			sentinel: ErrDuplicate, message: "document 4", wantIndex: 5},
		{name: "invalid aggregation selector", object: "ClusterRole/bad-selector",
			field: "aggregationRule.clusterRoleSelectors[0]", message: "Sometimes", wantIndex: 3},
	}
	if len(errs) != len(tests) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(tests), errs)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *manifest.Error
			if !errors.As(errs[i], &e) {
				t.Fatalf("error %d is %T, want *manifest.Error: %v", i, errs[i], errs[i])
			}
			if e.Object != tt.object || e.Field != tt.field || e.Source.Index != tt.wantIndex {
				t.Errorf("got object %q field %q document %d, want %q %q %d", e.Object, e.Field, e.Source.Index, tt.object, tt.field, tt.wantIndex)
			}
			if tt.sentinel != nil && !errors.Is(e, tt.sentinel) {
				t.Errorf("error %v is not %v", e, tt.sentinel)
			}
			if !strings.Contains(e.Error(), tt.message) {
				t.Errorf("error %q does not mention %q", e.Error(), tt.message)
			}
		})
	}
	if len(inv.Workloads) != 1 {
		t.Fatalf("got %d workloads, want only the duplicate's later copy", len(inv.Workloads))
	}
	if w := inv.Workloads[0]; w.APIVersion != "apps/v1" || w.Template.Spec.Containers[0].Name != "new" {
		t.Errorf("duplicate kept %s with container %s, want the later apps/v1 copy", w.APIVersion, w.Template.Spec.Containers[0].Name)
	}
	if rules := inv.ClusterRoles[0].Rules; len(rules) != 1 {
		t.Errorf("a ClusterRole whose selector does not parse should keep its rules, got %v", rules)
	}
}

// ruleNames renders rules as "group:resourceName" for comparison.
func ruleNames(rules []rbacv1.PolicyRule) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, strings.Join(r.APIGroups, ",")+":"+strings.Join(r.ResourceNames, ","))
	}
	return out
}

func TestFromDocumentsAggregatesClusterRoles(t *testing.T) {
	inv, errs := FromDocuments(readDocuments(t, fixtures+"aggregation.yaml"), "")
	for _, err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	got := map[string][]string{}
	for _, r := range inv.ClusterRoles {
		got[r.Name] = ruleNames(r.Rules)
	}
	tests := []struct {
		name string
		role string
		want []string
	}{
		{"aggregation replaces the role's own rules, nested aggregation expands in place",
			"psp-users", []string{"extensions:baseline", "policy:restricted"}},
		{"nested aggregating role", "psp-baseline-group", []string{"extensions:baseline", "policy:restricted"}},
		{"source role keeps its rules", "psp-restricted", []string{"policy:restricted"}},
		{"empty selector list clears the rules", "empty-aggregate", []string{}},
		{"cycle ends with every source (a)", "loop-a", []string{"policy:loop"}},
		{"cycle ends with every source (b)", "loop-b", []string{"policy:loop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(got[tt.role], tt.want) {
				t.Errorf("%s rules = %v, want %v", tt.role, got[tt.role], tt.want)
			}
		})
	}
}

// TestFromDocumentsStrict: workloads are decoded as the apiserver's
// strict field validation decodes them, and refused where its validation
// refuses them.
func TestFromDocumentsStrict(t *testing.T) {
	inv, errs := FromDocuments(readDocuments(t, fixtures+"strict.yaml"), "")
	want := []struct {
		object, field, message string
		warning                bool
	}{
		{"Pod/shop/typo", "spec.containers[0].securityContxt", "unknown field: the apiserver's strict field validation rejects it", true},
		{"Job/shop/quoted-uid", "spec.template.spec.containers[1].securityContext.runAsUser", `container "second": want int64, got string "0"`, false},
		{"Deployment/shop/empty", "spec.template.spec.containers", "no containers: the apiserver rejects a pod without one", false},
		{"CronJob/shop/twins", "spec.jobTemplate.spec.template.spec.containers[0].name",
			`container name "app" is also used at spec.jobTemplate.spec.template.spec.initContainers[0].name`, false},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), errs)
	}
	for i, w := range want {
		var e *manifest.Error
		if !errors.As(errs[i], &e) {
			t.Fatalf("error %d is %T: %v", i, errs[i], errs[i])
		}
		if e.Object != w.object || e.Field != w.field || !strings.Contains(e.Err.Error(), w.message) || IsWarning(errs[i]) != w.warning {
			t.Errorf("error %d: %s %s: %v (warning %v); want %s %s: %q (warning %v)",
				i, e.Object, e.Field, e.Err, IsWarning(errs[i]), w.object, w.field, w.message, w.warning)
		}
	}
	if len(inv.Workloads) != 1 || inv.Workloads[0].Name != "typo" {
		t.Fatalf("workloads read: %+v; want only the Pod with the unknown field", inv.Workloads)
	}
	if sc := inv.Workloads[0].Template.Spec.Containers[0].SecurityContext; sc != nil {
		t.Errorf("the misspelt securityContext was read: %+v", sc)
	}
}

// TestFromDocumentsReadsWhatAListRecords: a snapshot's List records what
// its read missed and warned about; the inventory has it once however many
// items carry it, whether the List came from a file, a directory or stdin.
func TestFromDocumentsReadsWhatAListRecords(t *testing.T) {
	list := "apiVersion: v1\nkind: List\nmetadata:\n  annotations:\n" +
		"    psp2psa.io/incomplete: '[\"v1 pods: forbidden\", \"rbac.authorization.k8s.io/v1 roles: forbidden\"]'\n" +
		"    psp2psa.io/warnings: '[\"cannot read v1 pods: forbidden\"]'\n" +
		"items:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n- {apiVersion: v1, kind: Namespace, metadata: {name: b}}\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "snapshot.yaml"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() ([]manifest.Document, []error){
		"path": func() ([]manifest.Document, []error) {
			return manifest.Read([]string{filepath.Join(dir, "snapshot.yaml")}, nil)
		},
		"directory": func() ([]manifest.Document, []error) { return manifest.Read([]string{dir}, nil) },
		"stdin": func() ([]manifest.Document, []error) {
			return manifest.Read([]string{manifest.Stdin}, strings.NewReader(list))
		},
	} {
		t.Run(name, func(t *testing.T) {
			docs, errs := read()
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			inv, errs := FromDocuments(docs, "")
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if want := []string{"v1 pods: forbidden", "rbac.authorization.k8s.io/v1 roles: forbidden"}; !reflect.DeepEqual(inv.Incomplete, want) {
				t.Errorf("incomplete %q, want %q", inv.Incomplete, want)
			}
			if want := []string{"cannot read v1 pods: forbidden"}; !reflect.DeepEqual(inv.Warnings, want) {
				t.Errorf("warnings %q, want %q", inv.Warnings, want)
			}
		})
	}
}

// TestFromDocumentsListNotesThatDoNotDecode: a damaged record is an input
// problem naming the List and the annotation, never a complete plan.
func TestFromDocumentsListNotesThatDoNotDecode(t *testing.T) {
	list := "apiVersion: v1\nkind: List\nmetadata:\n  annotations:\n    psp2psa.io/incomplete: 'v1 pods: forbidden'\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n"
	docs, errs := manifest.Read([]string{manifest.Stdin}, strings.NewReader(list))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	_, errs = FromDocuments(docs, "")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "<stdin>: document 0: List: metadata.annotations[psp2psa.io/incomplete]: want a JSON array of strings") {
		t.Errorf("errors %v", errs)
	}
}

// TestFromDocumentsCommentsRecordNothing: only the List's data counts; a
// comment that looks like a snapshot's header is a comment.
func TestFromDocumentsCommentsRecordNothing(t *testing.T) {
	text := "# psp2psa snapshot of c (Kubernetes v1), all namespaces, taken now\n# incomplete: just a comment\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n"
	docs, _ := manifest.Read([]string{manifest.Stdin}, strings.NewReader(text))
	inv, errs := FromDocuments(docs, "")
	if len(errs) > 0 || len(inv.Incomplete) > 0 || len(inv.Warnings) > 0 {
		t.Errorf("incomplete %q, warnings %q, errors %v: want nothing", inv.Incomplete, inv.Warnings, errs)
	}
}
