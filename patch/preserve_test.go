package patch

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The admitted pods below are written by hand, as psp.Admit would produce
// them, so that these cases test the diff alone; the corpus property test
// runs the real Admit.

func mustTemplate(t *testing.T, doc string) *corev1.PodTemplateSpec {
	t.Helper()
	var tmpl corev1.PodTemplateSpec
	if err := yaml.UnmarshalStrict([]byte(doc), &tmpl); err != nil {
		t.Fatalf("template: %v\n%s", err, doc)
	}
	return &tmpl
}

func mustPod(t *testing.T, doc string) *corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(doc), &pod); err != nil {
		t.Fatalf("pod: %v\n%s", err, doc)
	}
	return &pod
}

const twoContainers = `
metadata: {name: app}
spec:
  initContainers: [{name: setup, image: busybox}]
  containers: [{name: app, image: nginx}, {name: sidecar, image: envoy}]
`

func TestPreservePatch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		template string
		admitted string
		want     []Change
	}{{
		name:     "fsGroup and supplementalGroups MustRunAs are written on the pod",
		template: `{spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{spec: {securityContext: {fsGroup: 2000, supplementalGroups: [3000]}, containers: [{name: app, image: nginx}]}}`,
		want: []Change{
			{Field: FieldSupplementalGroups, Value: []int64{3000}},
			{Field: FieldFSGroup, Value: int64(2000)},
		},
	}, {
		name:     "runAsUser MustRunAs on every container stays on each container",
		template: twoContainers,
		admitted: `
metadata: {name: app, annotations: {kubernetes.io/psp: p}}
spec:
  initContainers: [{name: setup, image: busybox, securityContext: {runAsUser: 1000}}]
  containers:
  - {name: app, image: nginx, securityContext: {runAsUser: 1000}}
  - {name: sidecar, image: envoy, securityContext: {runAsUser: 1000}}
`,
		want: []Change{
			{Field: FieldRunAsNonRoot, Value: true},
			{Container: "setup", ContainerKind: ContainerKindInit, Field: FieldRunAsUser, Value: int64(1000)},
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldRunAsUser, Value: int64(1000)},
			{Container: "sidecar", ContainerKind: ContainerKindRegular, Field: FieldRunAsUser, Value: int64(1000)},
		},
	}, {
		name:     "a container's own runAsUser and runAsGroup are left alone",
		template: `{spec: {containers: [{name: app, image: nginx, securityContext: {runAsUser: 5, runAsGroup: 6}}]}}`,
		admitted: `{spec: {containers: [{name: app, image: nginx, securityContext: {runAsUser: 5, runAsGroup: 6}}]}}`,
	}, {
		name:     "runAsNonRoot from MustRunAsNonRoot and the runAsGroup default",
		template: `{spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{spec: {containers: [{name: app, image: nginx, securityContext: {runAsNonRoot: true, runAsGroup: 1}}]}}`,
		want: []Change{
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldRunAsGroup, Value: int64(1)},
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldRunAsNonRoot, Value: true},
		},
	}, {
		name:     "seLinux MustRunAs and runtimeClass default on the pod",
		template: `{spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{spec: {runtimeClassName: gvisor, securityContext: {seLinuxOptions: {level: "s0:c1,c2"}}, containers: [{name: app, image: nginx}]}}`,
		want: []Change{
			{Field: FieldRuntimeClassName, Value: "gvisor"},
			{Field: FieldSELinuxOptions, Value: map[string]string{"level": "s0:c1,c2"}},
		},
	}, {
		name:     "seccomp default runtime/default becomes the pod field",
		template: `{spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: runtime/default}}, spec: {containers: [{name: app, image: nginx}]}}`,
		want:     []Change{{Field: FieldSeccompProfile, Value: map[string]string{"type": "RuntimeDefault"}}},
	}, {
		name:     "seccomp default docker/default is RuntimeDefault too",
		template: `{spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: docker/default}}, spec: {containers: [{name: app, image: nginx}]}}`,
		want:     []Change{{Field: FieldSeccompProfile, Value: map[string]string{"type": "RuntimeDefault"}}},
	}, {
		name:     "seccomp default localhost/<name> becomes Localhost with the name",
		template: `{spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: localhost/profiles/audit.json}}, spec: {containers: [{name: app, image: nginx}]}}`,
		want:     []Change{{Field: FieldSeccompProfile, Value: map[string]string{"type": "Localhost", "localhostProfile": "profiles/audit.json"}}},
	}, {
		name:     "seccomp default unconfined needs nothing on a pod without a profile (unset runs Unconfined)",
		template: `{spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: unconfined}}, spec: {containers: [{name: app, image: nginx}]}}`,
	}, {
		name:     "seccomp field the PSP only copied into the annotation needs nothing",
		template: `{spec: {securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: app, image: nginx}]}}`,
		admitted: `{metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: runtime/default}}, spec: {securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: app, image: nginx}]}}`,
	}, {
		name:     "the template's own legacy seccomp annotation needs nothing",
		template: `{metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: docker/default}}, spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: docker/default}}, spec: {containers: [{name: app, image: nginx}]}}`,
	}, {
		name:     "AppArmor default annotation becomes each container's field",
		template: `{spec: {containers: [{name: app, image: nginx}, {name: log, image: fluentd}]}}`,
		admitted: `
metadata:
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: runtime/default
    container.apparmor.security.beta.kubernetes.io/log: runtime/default
spec: {containers: [{name: app, image: nginx}, {name: log, image: fluentd}]}`,
		want: []Change{
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldAppArmorProfile, Value: map[string]string{"type": "RuntimeDefault"}},
			{Container: "log", ContainerKind: ContainerKindRegular, Field: FieldAppArmorProfile, Value: map[string]string{"type": "RuntimeDefault"}},
		},
	}, {
		name:     "an empty AppArmor annotation is unset: the default replaces it and the annotation goes",
		template: `{metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/app: ""}}, spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-nginx}}, spec: {containers: [{name: app, image: nginx}]}}`,
		want: []Change{{
			Container: "app", ContainerKind: ContainerKindRegular, Field: FieldAppArmorProfile,
			Value:            map[string]string{"type": "Localhost", "localhostProfile": "k8s-nginx"},
			RemoveAnnotation: "container.apparmor.security.beta.kubernetes.io/app",
		}},
	}, {
		name:     "a pod-level AppArmor field equal to the injected default needs nothing",
		template: `{spec: {securityContext: {appArmorProfile: {type: RuntimeDefault}}, containers: [{name: app, image: nginx}]}}`,
		admitted: `{metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/app: runtime/default}}, spec: {securityContext: {appArmorProfile: {type: RuntimeDefault}}, containers: [{name: app, image: nginx}]}}`,
	}, {
		name:     "capabilities: the full resulting lists, only those that changed",
		template: `{spec: {containers: [{name: app, image: nginx, securityContext: {capabilities: {add: [NET_ADMIN], drop: [KILL]}}}]}}`,
		admitted: `{spec: {containers: [{name: app, image: nginx, securityContext: {capabilities: {add: [CHOWN, NET_ADMIN], drop: [KILL]}}}]}}`,
		want: []Change{
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldCapabilitiesAdd, Value: []string{"CHOWN", "NET_ADMIN"}},
		},
	}, {
		name:     "requiredDropCapabilities on a container without capabilities",
		template: `{spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{spec: {containers: [{name: app, image: nginx, securityContext: {capabilities: {drop: [ALL]}}}]}}`,
		want: []Change{
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldCapabilitiesDrop, Value: []string{"ALL"}},
		},
	}, {
		name:     "readOnlyRootFilesystem and allowPrivilegeEscalation defaults",
		template: `{spec: {containers: [{name: app, image: nginx, securityContext: {allowPrivilegeEscalation: true}}, {name: log, image: fluentd}]}}`,
		admitted: `{spec: {containers: [{name: app, image: nginx, securityContext: {allowPrivilegeEscalation: true, readOnlyRootFilesystem: true}}, {name: log, image: fluentd, securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}}]}}`,
		want: []Change{
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldReadOnlyRootFilesystem, Value: true},
			{Container: "log", ContainerKind: ContainerKindRegular, Field: FieldReadOnlyRootFilesystem, Value: true},
			{Container: "log", ContainerKind: ContainerKindRegular, Field: FieldAllowPrivilegeEscalation, Value: false},
		},
	}, {
		name:     "ephemeral containers come after regular ones",
		template: `{spec: {containers: [{name: app, image: nginx}], ephemeralContainers: [{name: debug, image: busybox}]}}`,
		admitted: `{spec: {containers: [{name: app, image: nginx, securityContext: {runAsUser: 7}}], ephemeralContainers: [{name: debug, image: busybox, securityContext: {runAsUser: 7}}]}}`,
		want: []Change{
			{Field: FieldRunAsNonRoot, Value: true},
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldRunAsUser, Value: int64(7)},
			{Container: "debug", ContainerKind: ContainerKindEphemeral, Field: FieldRunAsUser, Value: int64(7)},
		},
	}, {
		name:     "runAsUser MustRunAs that injected UID 0 keeps no runAsNonRoot",
		template: `{spec: {containers: [{name: app, image: nginx}]}}`,
		admitted: `{spec: {containers: [{name: app, image: nginx, securityContext: {runAsUser: 0}}]}}`,
		want: []Change{
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldRunAsUser, Value: int64(0)},
		},
	}, {
		name:     "runAsNonRoot is left to a container that says false",
		template: `{spec: {containers: [{name: app, image: nginx, securityContext: {runAsNonRoot: false}}, {name: b, image: nginx}]}}`,
		admitted: `{spec: {containers: [{name: app, image: nginx, securityContext: {runAsNonRoot: false, runAsUser: 9}}, {name: b, image: nginx, securityContext: {runAsUser: 9}}]}}`,
		want: []Change{
			{Container: "app", ContainerKind: ContainerKindRegular, Field: FieldRunAsUser, Value: int64(9)},
			{Container: "b", ContainerKind: ContainerKindRegular, Field: FieldRunAsUser, Value: int64(9)},
		},
	}, {
		name:     "an unmutated pod needs nothing, whatever annotation admission added",
		template: twoContainers,
		admitted: `
metadata: {name: app, annotations: {kubernetes.io/psp: p}}
spec:
  initContainers: [{name: setup, image: busybox}]
  containers: [{name: app, image: nginx}, {name: sidecar, image: envoy}]
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			template := mustTemplate(t, tc.template)
			original := template.DeepCopy()
			patch := PreservePatch(template, mustPod(t, tc.admitted), "p")
			if !reflect.DeepEqual(template, original) {
				t.Error("PreservePatch modified the template")
			}
			for i, ch := range patch.Changes {
				if !(strings.HasPrefix(ch.Reason, "injected by PSP p (") || strings.HasPrefix(ch.Reason, "kept from PSP p (")) || ch.Warning != "" || ch.Check != "" {
					t.Errorf("change %d: reason %q, warning %q, check %q", i, ch.Reason, ch.Warning, ch.Check)
				}
				patch.Changes[i].Reason = ""
			}
			if !reflect.DeepEqual(patch.Changes, tc.want) {
				t.Errorf("changes:\n got %#v\nwant %#v", patch.Changes, tc.want)
			}
			if patch.Empty() != (len(tc.want) == 0) {
				t.Errorf("Empty() = %v with %d changes", patch.Empty(), len(tc.want))
			}
		})
	}
}
