package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

// seccompCases are pods whose seccomp annotations and fields a 1.19–1.26
// server syncs; want is the pod Pod Security admission sees there. The
// e2e test replays them on real 1.24 and 1.37 servers.
var seccompCases = []struct {
	name, pod, want string
}{
	{
		name: "container annotation unconfined becomes the container field",
		pod: `
metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/app: unconfined}}
spec: {containers: [{name: app, image: nginx}]}`,
		want: `
metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/app: unconfined}}
spec: {containers: [{name: app, image: nginx, securityContext: {seccompProfile: {type: Unconfined}}}]}`,
	},
	{
		name: "pod annotation runtime/default and docker/default become RuntimeDefault",
		pod: `
metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: docker/default}}
spec: {containers: [{name: app, image: nginx}]}`,
		want: `
metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: docker/default}}
spec: {securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: app, image: nginx}]}`,
	},
	{
		name: "localhost profile",
		pod: `
metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/app: localhost/audit.json}}
spec: {containers: [{name: app, image: nginx}]}`,
		want: `
metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/app: localhost/audit.json}}
spec: {containers: [{name: app, image: nginx, securityContext: {seccompProfile: {type: Localhost, localhostProfile: audit.json}}}]}`,
	},
	{
		name: "a field without annotation gets the annotation",
		pod: `
spec: {securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: app, image: nginx, securityContext: {seccompProfile: {type: Unconfined}}}]}`,
		want: `
metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: runtime/default, container.seccomp.security.alpha.kubernetes.io/app: unconfined}}
spec: {securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: app, image: nginx, securityContext: {seccompProfile: {type: Unconfined}}}]}`,
	},
	{
		name: "init containers too",
		pod: `
metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/setup: unconfined}}
spec: {initContainers: [{name: setup, image: busybox}], containers: [{name: app, image: nginx}]}`,
		want: `
metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/setup: unconfined}}
spec: {initContainers: [{name: setup, image: busybox, securityContext: {seccompProfile: {type: Unconfined}}}], containers: [{name: app, image: nginx}]}`,
	},
	{
		name: "an annotation for a container the pod does not have is left alone",
		pod: `
metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/gone: unconfined}}
spec: {containers: [{name: app, image: nginx}]}`,
		want: `
metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/gone: unconfined}}
spec: {containers: [{name: app, image: nginx}]}`,
	},
}

func mustPod(t *testing.T, doc string) *corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(doc), &pod); err != nil {
		t.Fatal(err)
	}
	return &pod
}

func TestPrepareForAdmission(t *testing.T) {
	v124 := Target{Version: api.MajorMinorVersion(1, 24)}
	v127 := Target{Version: api.MajorMinorVersion(1, 27)}
	for _, tc := range seccompCases {
		t.Run(tc.name, func(t *testing.T) {
			pod := mustPod(t, tc.pod)
			v124.PrepareForAdmission(pod)
			if want := mustPod(t, tc.want); !equality.Semantic.DeepEqual(pod, want) {
				got, _ := yaml.Marshal(pod)
				t.Errorf("on 1.24:\n%s\nwant\n%s", got, tc.want)
			}
			pod = mustPod(t, tc.pod)
			v127.PrepareForAdmission(pod)
			if want := mustPod(t, tc.pod); !equality.Semantic.DeepEqual(pod, want) {
				t.Errorf("on 1.27 the pod changed: %+v", pod)
			}
		})
	}
}
