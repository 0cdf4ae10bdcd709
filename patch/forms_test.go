package patch

import (
	"reflect"
	"testing"

	"github.com/psp2psa/psp2psa/apiserver"
	"k8s.io/pod-security-admission/api"
)

func server(minor int) apiserver.Target {
	return apiserver.Target{Version: api.MajorMinorVersion(1, minor), From: apiserver.FromFlag}
}

func TestForServerWritesAppArmorAsAnnotationsBefore130(t *testing.T) {
	template := mustTemplate(t, `
metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/own: localhost/custom}}
spec:
  initContainers: [{name: setup, image: busybox}]
  containers: [{name: app, image: nginx}, {name: own, image: nginx}]`)
	runtimeDefault := map[string]string{"type": "RuntimeDefault"}
	p := Patch{Changes: []Change{
		{Field: FieldAppArmorProfile, Value: runtimeDefault, Reason: "pod"},
		{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldRunAsNonRoot, Value: true},
		{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldAppArmorProfile, Value: runtimeDefault,
			RemoveAnnotation: "container.apparmor.security.beta.kubernetes.io/app", Reason: "app"},
	}}
	if got := p.ForServer(server(30), template); !reflect.DeepEqual(got, p) {
		t.Errorf("1.30 has the field; the patch changed:\n%+v", got.Changes)
	}
	got := p.ForServer(server(29), template).Changes
	want := []Change{
		{Container: "setup", ContainerKind: ContainerKindInit, Annotation: "container.apparmor.security.beta.kubernetes.io/setup", Value: "runtime/default", Reason: "pod"},
		{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldRunAsNonRoot, Value: true},
		{Container: "app", ContainerKind: ContainerKindRegular, Annotation: "container.apparmor.security.beta.kubernetes.io/app", Value: "runtime/default", Reason: "app"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("on 1.29:\n got %+v\nwant %+v", got, want)
	}
	patched, err := Patch{Changes: got}.Apply(template)
	if err != nil {
		t.Fatal(err)
	}
	for name, profile := range map[string]string{"setup": "runtime/default", "app": "runtime/default", "own": "localhost/custom"} {
		if v := patched.Annotations["container.apparmor.security.beta.kubernetes.io/"+name]; v != profile {
			t.Errorf("container %s: annotation %q, want %q", name, v, profile)
		}
	}
	for _, c := range patched.Spec.Containers {
		if c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil {
			t.Errorf("container %s carries the 1.30 field on a 1.29 server", c.Name)
		}
	}
	annotations := Patch{Changes: got}.TemplatePatch()["metadata"].(map[string]any)["annotations"].(map[string]any)
	if annotations["container.apparmor.security.beta.kubernetes.io/setup"] != "runtime/default" {
		t.Errorf("the strategic merge patch lacks the annotation: %v", annotations)
	}
}

func TestLegacyForms(t *testing.T) {
	template := mustTemplate(t, `
metadata:
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: docker/default
    container.seccomp.security.alpha.kubernetes.io/app: unconfined
    container.seccomp.security.alpha.kubernetes.io/own: localhost/
    container.seccomp.security.alpha.kubernetes.io/field: unconfined
spec:
  containers:
  - {name: app, image: nginx}
  - {name: own, image: nginx}
  - {name: field, image: nginx, securityContext: {seccompProfile: {type: RuntimeDefault}}}`)
	for _, minor := range []int{24, 26} {
		if p := LegacyForms(template, server(minor)); !p.Empty() {
			t.Errorf("1.%d copies the annotations itself; LegacyForms gave %+v", minor, p.Changes)
		}
	}
	got := LegacyForms(template, server(27)).Changes
	for i := range got {
		got[i].Reason = ""
	}
	want := []Change{
		{Field: FieldSeccompProfile, Value: map[string]string{"type": "RuntimeDefault"}, RemoveAnnotation: "seccomp.security.alpha.kubernetes.io/pod"},
		{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldSeccompProfile, Value: map[string]string{"type": "Unconfined"},
			RemoveAnnotation: "container.seccomp.security.alpha.kubernetes.io/app"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("on 1.27:\n got %+v\nwant %+v", got, want)
	}
}
