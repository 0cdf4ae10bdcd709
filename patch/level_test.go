package patch

import (
	"reflect"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// change is the part of a Change these cases pin down; reasons are
// checked by form, warnings by presence.
type change struct {
	container, field string
	value            any
	warns            bool
	removes          string
}

func TestLevelPatch(t *testing.T) {
	v137 := api.MajorMinorVersion(1, 37)
	runtimeDefault := map[string]string{"type": "RuntimeDefault"}
	for _, tc := range []struct {
		name      string
		level     api.Level
		version   api.Version
		template  string
		want      []change
		unfixable []string
	}{{
		name:     "bare nginx at restricted gets every restricted field, with warnings where the image's user is unknown",
		level:    api.LevelRestricted,
		template: `{spec: {containers: [{name: web, image: nginx}]}}`,
		want: []change{
			{field: FieldRunAsNonRoot, value: true, warns: true},
			{field: FieldSeccompProfile, value: runtimeDefault},
			{container: "web", field: FieldCapabilitiesDrop, value: []string{"ALL"}, warns: true},
			{container: "web", field: FieldAllowPrivilegeEscalation, value: false},
		},
	}, {
		name:     "runAsUser 1000 on the pod: runAsNonRoot without a warning, drop ALL without one either",
		level:    api.LevelRestricted,
		template: `{spec: {securityContext: {runAsUser: 1000}, containers: [{name: web, image: nginx}]}}`,
		want: []change{
			{field: FieldRunAsNonRoot, value: true},
			{field: FieldSeccompProfile, value: runtimeDefault},
			{container: "web", field: FieldCapabilitiesDrop, value: []string{"ALL"}},
			{container: "web", field: FieldAllowPrivilegeEscalation, value: false},
		},
	}, {
		name:      "a container running as UID 0 makes runAsNonRoot and runAsUser unfixable",
		level:     api.LevelRestricted,
		template:  `{spec: {securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: web, image: nginx, securityContext: {runAsUser: 0, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}`,
		unfixable: []string{"runAsNonRoot", "runAsUser"},
	}, {
		name:     "NET_BIND_SERVICE stays added next to drop ALL",
		level:    api.LevelRestricted,
		template: `{spec: {securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}, containers: [{name: web, image: nginx, securityContext: {allowPrivilegeEscalation: false, capabilities: {add: [NET_BIND_SERVICE]}}}]}}`,
		want:     []change{{container: "web", field: FieldCapabilitiesDrop, value: []string{"ALL"}}},
	}, {
		name:      "an added NET_ADMIN is unfixable: no drop ALL is proposed for that check",
		level:     api.LevelRestricted,
		template:  `{spec: {securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}, containers: [{name: web, image: nginx, securityContext: {allowPrivilegeEscalation: false, capabilities: {add: [NET_ADMIN]}}}]}}`,
		unfixable: []string{"capabilities_restricted"},
	}, {
		name:      "privileged: allowPrivilegeEscalation false would be rejected by the API, so both are unfixable",
		level:     api.LevelRestricted,
		template:  `{spec: {securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}, containers: [{name: web, image: nginx, securityContext: {privileged: true, capabilities: {drop: [ALL]}}}]}}`,
		unfixable: []string{"privileged", "allowPrivilegeEscalation"},
	}, {
		name:      "an added CAP_SYS_ADMIN blocks allowPrivilegeEscalation false (capabilities_restricted overrides the baseline check)",
		level:     api.LevelRestricted,
		template:  `{spec: {securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}, containers: [{name: web, image: nginx, securityContext: {capabilities: {add: [CAP_SYS_ADMIN], drop: [ALL]}}}]}}`,
		unfixable: []string{"allowPrivilegeEscalation", "capabilities_restricted"},
	}, {
		name:     "explicit seccomp Unconfined on the pod becomes RuntimeDefault with a warning",
		level:    api.LevelBaseline,
		template: `{spec: {securityContext: {seccompProfile: {type: Unconfined}}, containers: [{name: web, image: nginx}]}}`,
		want:     []change{{field: FieldSeccompProfile, value: runtimeDefault, warns: true}},
	}, {
		name:     "a legacy pod seccomp annotation becomes the field at restricted and is removed",
		level:    api.LevelRestricted,
		template: `{metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: localhost/audit.json}}, spec: {securityContext: {runAsNonRoot: true}, containers: [{name: web, image: nginx, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}`,
		want: []change{{field: FieldSeccompProfile, value: map[string]string{"type": "Localhost", "localhostProfile": "audit.json"},
			removes: "seccomp.security.alpha.kubernetes.io/pod"}},
	}, {
		name:     "a legacy container seccomp annotation unconfined is replaced on the container, the pod gets RuntimeDefault for the rest",
		level:    api.LevelRestricted,
		template: `{metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/web: unconfined}}, spec: {securityContext: {runAsNonRoot: true}, containers: [{name: web, image: nginx, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}, {name: log, image: fluentd, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}`,
		want: []change{
			{field: FieldSeccompProfile, value: runtimeDefault},
			{container: "web", field: FieldSeccompProfile, value: runtimeDefault, warns: true, removes: "container.seccomp.security.alpha.kubernetes.io/web"},
		},
	}, {
		name:     "at restricted a valid container seccomp annotation becomes that container's field, keeping its profile",
		level:    api.LevelRestricted,
		template: `{metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/web: localhost/web.json}}, spec: {securityContext: {runAsNonRoot: true}, containers: [{name: web, image: nginx, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}`,
		want: []change{{container: "web", field: FieldSeccompProfile, value: map[string]string{"type": "Localhost", "localhostProfile": "web.json"},
			removes: "container.seccomp.security.alpha.kubernetes.io/web"}},
	}, {
		name:     "before 1.19 baseline checks the seccomp annotation: it becomes the field and goes",
		level:    api.LevelBaseline,
		version:  api.MajorMinorVersion(1, 18),
		template: `{metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: unconfined}}, spec: {containers: [{name: web, image: nginx}]}}`,
		want:     []change{{field: FieldSeccompProfile, value: runtimeDefault, warns: true, removes: "seccomp.security.alpha.kubernetes.io/pod"}},
	}, {
		name:     "AppArmor unconfined annotation: the container gets RuntimeDefault, the annotation goes",
		level:    api.LevelBaseline,
		template: `{metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/web: unconfined}}, spec: {containers: [{name: web, image: nginx}]}}`,
		want: []change{{container: "web", field: FieldAppArmorProfile, value: runtimeDefault, warns: true,
			removes: "container.apparmor.security.beta.kubernetes.io/web"}},
	}, {
		name:     "AppArmor unconfined on the pod field",
		level:    api.LevelBaseline,
		template: `{spec: {securityContext: {appArmorProfile: {type: Unconfined}}, containers: [{name: web, image: nginx}]}}`,
		want:     []change{{field: FieldAppArmorProfile, value: runtimeDefault, warns: true}},
	}, {
		name:     "an AppArmor annotation naming no container is only removed",
		level:    api.LevelBaseline,
		template: `{metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/gone: unconfined}}, spec: {containers: [{name: web, image: nginx}]}}`,
		want:     []change{{removes: "container.apparmor.security.beta.kubernetes.io/gone"}},
	}, {
		name:     "an unconfined AppArmor annotation contradicting a valid field is only removed",
		level:    api.LevelBaseline,
		template: `{metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/web: unconfined}}, spec: {containers: [{name: web, image: nginx, securityContext: {appArmorProfile: {type: RuntimeDefault}}}]}}`,
		want:     []change{{container: "web", removes: "container.apparmor.security.beta.kubernetes.io/web"}},
	}, {
		name:     "a Windows pod is exempt from the Linux-only restricted checks",
		level:    api.LevelRestricted,
		template: `{spec: {os: {name: windows}, containers: [{name: web, image: iis}]}}`,
		want:     []change{{field: FieldRunAsNonRoot, value: true, warns: true}},
	}, {
		name:     "hostUsers false relaxes runAsNonRoot from 1.35",
		level:    api.LevelRestricted,
		template: `{spec: {hostUsers: false, securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: web, image: nginx, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}`,
	}, {
		name:     "hostUsers false before 1.35 still needs runAsNonRoot",
		level:    api.LevelRestricted,
		version:  api.MajorMinorVersion(1, 34),
		template: `{spec: {hostUsers: false, securityContext: {seccompProfile: {type: RuntimeDefault}}, containers: [{name: web, image: nginx, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}`,
		want:     []change{{field: FieldRunAsNonRoot, value: true, warns: true}},
	}, {
		name:      "host namespaces and hostPath stay, the fixable rest of baseline is fixed",
		level:     api.LevelBaseline,
		template:  `{metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/web: unconfined}}, spec: {hostNetwork: true, volumes: [{name: root, hostPath: {path: /}}], containers: [{name: web, image: nginx}]}}`,
		want:      []change{{container: "web", field: FieldAppArmorProfile, value: runtimeDefault, warns: true, removes: "container.apparmor.security.beta.kubernetes.io/web"}},
		unfixable: []string{"hostNamespaces", "hostPathVolumes"},
	}, {
		name:     "privileged asks for nothing",
		level:    api.LevelPrivileged,
		template: `{spec: {hostNetwork: true, containers: [{name: web, image: nginx, securityContext: {privileged: true}}]}}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			version := tc.version
			if version == (api.Version{}) {
				version = v137
			}
			template := mustTemplate(t, tc.template)
			original := template.DeepCopy()
			patch, still := LevelPatch(template, tc.level, version, nil)
			if !reflect.DeepEqual(template, original) {
				t.Error("LevelPatch modified the template")
			}
			var got []change
			for _, ch := range patch.Changes {
				got = append(got, change{ch.Container, ch.Field, ch.Value, ch.Warning != "", ch.RemoveAnnotation})
				if want := "required by " + string(tc.level) + " (" + ch.Check + ")"; ch.Reason != want {
					t.Errorf("reason %q, want %q", ch.Reason, want)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("changes:\n got %+v\nwant %+v", got, tc.want)
			}
			var checks []string
			for _, u := range still {
				checks = append(checks, u.Check)
			}
			if strings.Join(checks, ",") != strings.Join(tc.unfixable, ",") {
				t.Errorf("unfixable %v, want %v (%+v)", checks, tc.unfixable, still)
			}
			assertPatchHonest(t, tc.name, pss.NewEvaluator(), api.LevelVersion{Level: tc.level, Version: version}, template, patch, still)
		})
	}
}
