package patch

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/pod-security-admission/api"
)

// everyField is a patch that touches every field, place and annotation
// kind a Change can have.
var everyField = Patch{Changes: []Change{
	{Field: FieldRuntimeClassName, Value: "gvisor"},
	{Field: FieldRunAsNonRoot, Value: true},
	{Field: FieldSupplementalGroups, Value: []int64{3000, 3001}},
	{Field: FieldFSGroup, Value: int64(2000)},
	{Field: FieldSELinuxOptions, Value: map[string]string{"level": "s0:c1"}},
	{Field: FieldSeccompProfile, Value: map[string]string{"type": "Localhost", "localhostProfile": "audit.json"}, RemoveAnnotation: "seccomp.security.alpha.kubernetes.io/pod"},
	{Container: "setup", ContainerKind: ContainerKindInit, Field: FieldRunAsUser, Value: int64(1000)},
	{Container: "setup", ContainerKind: ContainerKindInit, Field: FieldRunAsGroup, Value: int64(1001)},
	{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldCapabilitiesAdd, Value: []string{"NET_BIND_SERVICE"}},
	{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldCapabilitiesDrop, Value: []string{"ALL"}},
	{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldReadOnlyRootFilesystem, Value: true},
	{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldAllowPrivilegeEscalation, Value: false},
	{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldAppArmorProfile, Value: map[string]string{"type": "RuntimeDefault"}, RemoveAnnotation: "container.apparmor.security.beta.kubernetes.io/web"},
	{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldSeccompProfile, Value: map[string]string{"type": "RuntimeDefault"}},
	{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldSELinuxOptions, Value: map[string]string{"type": "container_t"}},
	{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldRunAsNonRoot, Value: true},
	{RemoveAnnotation: "container.apparmor.security.beta.kubernetes.io/gone"},
}}

const everyFieldTemplate = `
metadata:
  labels: {app: web}
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: localhost/audit.json
    container.apparmor.security.beta.kubernetes.io/web: runtime/default
    container.apparmor.security.beta.kubernetes.io/gone: unconfined
    keep: me
spec:
  initContainers: [{name: setup, image: busybox}]
  containers:
  - {name: web, image: nginx, securityContext: {capabilities: {drop: [KILL]}}}
  - {name: log, image: fluentd}
`

const everyFieldPatched = `
metadata:
  labels: {app: web}
  annotations: {keep: me}
spec:
  runtimeClassName: gvisor
  securityContext:
    runAsNonRoot: true
    supplementalGroups: [3000, 3001]
    fsGroup: 2000
    seLinuxOptions: {level: "s0:c1"}
    seccompProfile: {type: Localhost, localhostProfile: audit.json}
  initContainers: [{name: setup, image: busybox, securityContext: {runAsUser: 1000, runAsGroup: 1001}}]
  containers:
  - name: web
    image: nginx
    securityContext:
      capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      appArmorProfile: {type: RuntimeDefault}
      seccompProfile: {type: RuntimeDefault}
      seLinuxOptions: {type: container_t}
      runAsNonRoot: true
  - {name: log, image: fluentd}
`

func TestApplySetsEveryFieldWhereTheChangeSays(t *testing.T) {
	template := mustTemplate(t, everyFieldTemplate)
	original := template.DeepCopy()
	got, err := everyField.Apply(template)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(template, original) {
		t.Error("Apply modified its input")
	}
	if want := mustTemplate(t, everyFieldPatched); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", asJSON(t, got), asJSON(t, want))
	}
}

// A patch written out as JSON and read back (numbers as float64, maps as
// map[string]any) applies the same.
func TestApplyAfterJSONRoundTrip(t *testing.T) {
	data, err := json.Marshal(everyField)
	if err != nil {
		t.Fatal(err)
	}
	var back Patch
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	template := mustTemplate(t, everyFieldTemplate)
	got, err := back.Apply(template)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustTemplate(t, everyFieldPatched); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", asJSON(t, got), asJSON(t, want))
	}
}

// TemplatePatch, applied by the apiserver's own strategic merge code, gives
// what Apply gives.
func TestTemplatePatchMatchesApply(t *testing.T) {
	cases := map[string]struct {
		template *corev1.PodTemplateSpec
		patch    Patch
	}{"every field": {mustTemplate(t, everyFieldTemplate), everyField}}
	for name, pod := range psaFixtures(t, "restricted", "v1.37", "fail") {
		template := templateOf(pod)
		patch, _ := LevelPatch(template, api.LevelRestricted, api.MajorMinorVersion(1, 37), nil)
		cases["restricted fixture "+name] = struct {
			template *corev1.PodTemplateSpec
			patch    Patch
		}{template, patch}
	}
	for name, tc := range cases {
		want, err := tc.patch.Apply(tc.template)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		merged, err := strategicpatch.StrategicMergePatch(asJSON(t, tc.template), asJSON(t, tc.patch.TemplatePatch()), corev1.PodTemplateSpec{})
		if err != nil {
			t.Fatalf("%s: strategic merge: %v", name, err)
		}
		var got corev1.PodTemplateSpec
		if err := json.Unmarshal(merged, &got); err != nil {
			t.Fatal(err)
		}
		// A merge that removes the last annotation leaves an empty map.
		if len(got.Annotations) == 0 && len(want.Annotations) == 0 {
			got.Annotations, want.Annotations = nil, nil
		}
		if !reflect.DeepEqual(&got, want) {
			t.Errorf("%s: strategic merge gives\n%s\nApply gives\n%s", name, merged, asJSON(t, want))
		}
	}
}

func TestApplyRejectsChangesThatDoNotFit(t *testing.T) {
	template := mustTemplate(t, everyFieldTemplate)
	for _, tc := range []struct {
		name   string
		change Change
		want   string
	}{
		{"unknown field", Change{Field: "securityContext.windowsOptions"}, "unknown field"},
		{"container-only field on the pod", Change{Field: FieldCapabilitiesDrop, Value: []string{"ALL"}}, "not a pod field"},
		{"pod-only field on a container", Change{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldFSGroup, Value: 1}, "not a container field"},
		{"no such container", Change{Container: "db", ContainerKind: ContainerKindRegular, Field: FieldRunAsUser, Value: 1}, `no containers entry "db"`},
		{"container of another kind", Change{Container: "web", ContainerKind: ContainerKindInit, Field: FieldRunAsUser, Value: 1}, `no initContainers entry "web"`},
		{"value of the wrong shape", Change{Field: FieldFSGroup, Value: "two thousand"}, "decoding the value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Patch{Changes: []Change{tc.change}}.Apply(template)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestChangePaths(t *testing.T) {
	for _, tc := range []struct {
		change     Change
		path, anno string
	}{
		{Change{Field: FieldFSGroup, Value: 1}, "spec securityContext fsGroup", ""},
		{Change{Container: "web", ContainerKind: ContainerKindRegular, Field: FieldCapabilitiesDrop, RemoveAnnotation: "a/b"},
			"spec containers [name=web] securityContext capabilities drop", "metadata annotations a/b"},
		{Change{RemoveAnnotation: "container.apparmor.security.beta.kubernetes.io/x"}, "", "metadata annotations container.apparmor.security.beta.kubernetes.io/x"},
	} {
		if got := strings.Join(tc.change.Path(), " "); got != tc.path {
			t.Errorf("%+v: Path() = %q, want %q", tc.change, got, tc.path)
		}
		if got := strings.Join(tc.change.AnnotationPath(), " "); got != tc.anno {
			t.Errorf("%+v: AnnotationPath() = %q, want %q", tc.change, got, tc.anno)
		}
	}
}

func asJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
