package convert

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/psp2psa/psp2psa/manifest"
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

// The PSPs of the differential test: the corpus, the seed, and generated
// ones covering every value class of the docs' mapping table
// (REFERENCE.md §4) as variations of three bases, so that a class shows
// both alone and among permissive neighbours.

// diffPolicy is one PSP with where it comes from.
type diffPolicy struct {
	origin string // "corpus file#index", "seed" or "generated"
	psp    *psp.PodSecurityPolicy
}

// permissivePSP allows everything a PSP can allow (AppArmor unchecked, as
// without its annotation).
const permissivePSP = `
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: permissive
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: '*'
spec:
  privileged: true
  allowPrivilegeEscalation: true
  allowedCapabilities: ['*']
  volumes: ['*']
  hostNetwork: true
  hostPorts: [{min: 0, max: 65535}]
  hostPID: true
  hostIPC: true
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  allowedUnsafeSysctls: ['*']
  allowedProcMountTypes: [Default, Unmasked]
`

// baselinePSP allows what baseline allows and restricted does not: root,
// privilege escalation, baseline capabilities, non-restricted volumes
// other than hostPath, an unset seccomp profile.
const baselinePSP = `
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: baseline
  annotations:
    apparmor.security.beta.kubernetes.io/allowedProfileNames: runtime/default,localhost/k8s-app
    apparmor.security.beta.kubernetes.io/defaultProfileName: runtime/default
spec:
  allowPrivilegeEscalation: true
  allowedCapabilities: [AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT]
  volumes: [configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret, nfs, iscsi, gitRepo]
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: MustRunAs, seLinuxOptions: {type: container_t}}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
`

// valueClass is one value of one PSP field, as a merge patch on a base;
// a class that only makes sense with a companion change (no required drop
// beside allowedCapabilities "*", hostPath among the volumes for
// allowedHostPaths) carries it.
type valueClass struct {
	name, patch string
}

const (
	seccompAllowed  = psp.SeccompAllowedProfilesAnnotation
	seccompDefault  = psp.SeccompDefaultProfileAnnotation
	apparmorAllowed = psp.AppArmorAllowedProfilesAnnotation
	apparmorDefault = psp.AppArmorDefaultProfileAnnotation
)

// valueClasses are the docs' table's classes per field. A seccomp list
// with a trailing comma is missing: 1.24 validation rejects the empty
// profile name it adds (AppArmor's accepts it, so it is here).
var valueClasses = []valueClass{
	{"privileged", `{spec: {privileged: true}}`},
	{"unprivileged", `{spec: {privileged: false}}`},

	{"default-add-net-bind-service", `{spec: {defaultAddCapabilities: [NET_BIND_SERVICE]}}`},
	{"default-add-chown", `{spec: {defaultAddCapabilities: [CHOWN]}}`},
	{"default-add-sys-admin", `{spec: {defaultAddCapabilities: [SYS_ADMIN]}}`},

	{"drop-none", `{spec: {requiredDropCapabilities: null}}`},
	{"drop-all", `{spec: {requiredDropCapabilities: [ALL], allowedCapabilities: null}}`},
	{"drop-partial", `{spec: {requiredDropCapabilities: [NET_RAW, SYS_ADMIN], allowedCapabilities: null}}`},
	{"drop-all-lowercase", `{spec: {requiredDropCapabilities: [all], allowedCapabilities: null}}`},

	{"caps-empty", `{spec: {allowedCapabilities: null}}`},
	{"caps-net-bind-service", `{spec: {allowedCapabilities: [NET_BIND_SERVICE]}}`},
	{"caps-net-bind-service-lowercase", `{spec: {allowedCapabilities: [net_bind_service]}}`},
	{"caps-baseline", `{spec: {allowedCapabilities: [CHOWN, KILL]}}`},
	{"caps-sys-admin", `{spec: {allowedCapabilities: [SYS_ADMIN]}}`},
	{"caps-all", `{spec: {allowedCapabilities: ['*'], requiredDropCapabilities: null}}`},
	{"caps-literal-all", `{spec: {allowedCapabilities: [ALL], requiredDropCapabilities: null}}`},

	{"volumes-restricted", `{spec: {volumes: [configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret]}}`},
	{"volumes-secret-only", `{spec: {volumes: [secret]}}`},
	{"volumes-nfs", `{spec: {volumes: [configMap, emptyDir, projected, secret, nfs]}}`},
	{"volumes-hostpath", `{spec: {volumes: [configMap, emptyDir, projected, secret, hostPath], allowedHostPaths: null}}`},
	{"volumes-all", `{spec: {volumes: ['*']}}`},
	{"volumes-flex-driver", `{spec: {volumes: [secret, projected, flexVolume], allowedFlexVolumes: [{driver: example.com/lvm}]}}`},
	{"volumes-csi-driver", `{spec: {volumes: [secret, projected, csi], allowedCSIDrivers: [{name: secrets-store.csi.k8s.io}]}}`},
	{"hostpaths-read-only", `{spec: {volumes: [secret, projected, hostPath], allowedHostPaths: [{pathPrefix: /var/log, readOnly: true}]}}`},
	{"hostpaths-writable", `{spec: {volumes: [secret, projected, hostPath], allowedHostPaths: [{pathPrefix: /data}, {pathPrefix: /etc/ssl, readOnly: true}]}}`},

	{"host-network", `{spec: {hostNetwork: true}}`},
	{"host-pid", `{spec: {hostPID: true}}`},
	{"host-ipc", `{spec: {hostIPC: true}}`},
	{"no-host-namespaces", `{spec: {hostNetwork: false, hostPID: false, hostIPC: false}}`},

	{"host-ports-none", `{spec: {hostPorts: null}}`},
	{"host-ports-range", `{spec: {hostPorts: [{min: 8000, max: 8080}]}}`},
	{"host-ports-all", `{spec: {hostPorts: [{min: 0, max: 65535}]}}`},
	{"host-ports-zero", `{spec: {hostPorts: [{min: 0, max: 0}]}}`},
	{"host-ports-past-65535", `{spec: {hostPorts: [{min: 65535, max: 65536}]}}`},

	{"selinux-run-as-any", `{spec: {seLinux: {rule: RunAsAny, seLinuxOptions: null}}}`},
	{"selinux-container-t", `{spec: {seLinux: {rule: MustRunAs, seLinuxOptions: {user: null, role: null, type: container_t, level: null}}}}`},
	{"selinux-container-init-t", `{spec: {seLinux: {rule: MustRunAs, seLinuxOptions: {user: null, role: null, type: container_init_t, level: null}}}}`},
	{"selinux-container-engine-t", `{spec: {seLinux: {rule: MustRunAs, seLinuxOptions: {user: null, role: null, type: container_engine_t, level: null}}}}`},
	{"selinux-spc-t", `{spec: {seLinux: {rule: MustRunAs, seLinuxOptions: {user: null, role: null, type: spc_t, level: null}}}}`},
	{"selinux-user", `{spec: {seLinux: {rule: MustRunAs, seLinuxOptions: {user: system_u, role: null, type: container_t, level: null}}}}`},
	{"selinux-role", `{spec: {seLinux: {rule: MustRunAs, seLinuxOptions: {user: null, role: system_r, type: null, level: null}}}}`},
	{"selinux-level-only", `{spec: {seLinux: {rule: MustRunAs, seLinuxOptions: {user: null, role: null, type: null, level: 's0:c123,c456'}}}}`},

	{"run-as-any", `{spec: {runAsUser: {rule: RunAsAny, ranges: null}}}`},
	{"run-as-non-root", `{spec: {runAsUser: {rule: MustRunAsNonRoot, ranges: null}}}`},
	{"run-as-range-from-0", `{spec: {runAsUser: {rule: MustRunAs, ranges: [{min: 0, max: 65535}]}}}`},
	{"run-as-range-1000-2000", `{spec: {runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 2000}]}}}`},
	{"run-as-root-only", `{spec: {runAsUser: {rule: MustRunAs, ranges: [{min: 0, max: 0}]}}}`},
	{"run-as-second-range-root", `{spec: {runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 1000}, {min: 0, max: 10}]}}}`},

	{"run-as-group-range", `{spec: {runAsGroup: {rule: MustRunAs, ranges: [{min: 1000, max: 2000}]}}}`},
	{"groups-must-run-as", `{spec: {supplementalGroups: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}, fsGroup: {rule: MustRunAs, ranges: [{min: 1, max: 65535}]}}}`},
	{"groups-may-run-as-root", `{spec: {supplementalGroups: {rule: MayRunAs, ranges: [{min: 0, max: 0}]}, fsGroup: {rule: MayRunAs, ranges: [{min: 0, max: 10}]}}}`},
	{"read-only-root-filesystem", `{spec: {readOnlyRootFilesystem: true}}`},

	{"escalation-true", `{spec: {allowPrivilegeEscalation: true}}`},
	{"escalation-false", `{spec: {allowPrivilegeEscalation: false, defaultAllowPrivilegeEscalation: null}}`},
	{"escalation-unset", `{spec: {allowPrivilegeEscalation: null, defaultAllowPrivilegeEscalation: null}}`},
	{"escalation-default-false", `{spec: {allowPrivilegeEscalation: true, defaultAllowPrivilegeEscalation: false}}`},
	{"escalation-default-true", `{spec: {allowPrivilegeEscalation: true, defaultAllowPrivilegeEscalation: true}}`},
	{"escalation-unset-default-false", `{spec: {allowPrivilegeEscalation: null, defaultAllowPrivilegeEscalation: false}}`},

	{"sysctls-none", `{spec: {allowedUnsafeSysctls: null}}`},
	{"sysctls-safe-from-1.29", `{spec: {allowedUnsafeSysctls: [net.ipv4.tcp_keepalive_time]}}`},
	{"sysctls-safe-from-1.27", `{spec: {allowedUnsafeSysctls: [net.ipv4.ip_local_reserved_ports]}}`},
	{"sysctls-unsafe", `{spec: {allowedUnsafeSysctls: [kernel.msgmax]}}`},
	{"sysctls-pattern", `{spec: {allowedUnsafeSysctls: ['net.ipv4.tcp_*']}}`},
	{"sysctls-all", `{spec: {allowedUnsafeSysctls: ['*'], forbiddenSysctls: null}}`},
	{"sysctls-all-forbidden", `{spec: {allowedUnsafeSysctls: null, forbiddenSysctls: ['*']}}`},

	{"proc-mount-default", `{spec: {allowedProcMountTypes: [Default]}}`},
	{"proc-mount-unmasked", `{spec: {allowedProcMountTypes: [Default, Unmasked]}}`},

	{"runtime-class", `{spec: {runtimeClass: {allowedRuntimeClassNames: ['*'], defaultRuntimeClassName: gvisor}}}`},

	{"seccomp-none", seccomp(`null`, `null`)},
	{"seccomp-runtime-default", seccomp(`runtime/default`, `null`)},
	{"seccomp-docker-default", seccomp(`docker/default`, `null`)},
	{"seccomp-any", seccomp(`'*'`, `null`)},
	{"seccomp-localhost", seccomp(`localhost/profiles/audit.json`, `null`)},
	{"seccomp-unconfined", seccomp(`'runtime/default,unconfined'`, `null`)},
	{"seccomp-any-default-runtime", seccomp(`'*'`, `runtime/default`)},
	{"seccomp-any-default-unconfined", seccomp(`'*'`, `unconfined`)},
	{"seccomp-localhost-default", seccomp(`localhost/profiles/audit.json`, `localhost/profiles/audit.json`)},
	{"seccomp-default-only", seccomp(`null`, `runtime/default`)},
	{"seccomp-empty-annotation", seccomp(`''`, `null`)},
	{"seccomp-localhost-without-name", seccomp(`localhost/`, `localhost/`)},
	{"seccomp-docker-default-default", seccomp(`'runtime/default,docker/default'`, `docker/default`)},

	{"apparmor-none", appArmor(`null`, `null`)},
	{"apparmor-runtime-default", appArmor(`runtime/default`, `null`)},
	{"apparmor-localhost", appArmor(`localhost/k8s-app`, `null`)},
	{"apparmor-unconfined", appArmor(`'runtime/default,unconfined'`, `null`)},
	{"apparmor-trailing-comma", appArmor(`'runtime/default,'`, `runtime/default`)},
	{"apparmor-with-default", appArmor(`runtime/default`, `runtime/default`)},
	{"apparmor-default-unconfined", appArmor(`'unconfined,runtime/default'`, `unconfined`)},
	{"apparmor-default-only", appArmor(`null`, `runtime/default`)},
}

func seccomp(allowed, defaultProfile string) string {
	return profilePatch(seccompAllowed, allowed, seccompDefault, defaultProfile)
}

func appArmor(allowed, defaultProfile string) string {
	return profilePatch(apparmorAllowed, allowed, apparmorDefault, defaultProfile)
}

func profilePatch(allowedKey, allowed, defaultKey, defaultProfile string) string {
	return fmt.Sprintf("{metadata: {annotations: {%s: %s, %s: %s}}}", allowedKey, allowed, defaultKey, defaultProfile)
}

// generatedPolicies applies every value class to every base. Each must be
// a PSP the 1.24 apiserver accepts: a generated PSP it would reject tests
// nothing.
func generatedPolicies(t *testing.T) []diffPolicy {
	t.Helper()
	bases := []struct{ name, manifest string }{
		{"restricted", basePSP}, {"baseline", baselinePSP}, {"permissive", permissivePSP},
	}
	var out []diffPolicy
	for _, base := range bases {
		out = append(out, diffPolicy{origin: "generated", psp: validPSP(t, patchedPSP(t, base.manifest, `{}`), base.name)})
		for _, class := range valueClasses {
			name := base.name + "." + class.name
			out = append(out, diffPolicy{origin: "generated", psp: validPSP(t, patchedPSP(t, base.manifest, class.patch), name)})
		}
	}
	return out
}

func validPSP(t *testing.T, p *psp.PodSecurityPolicy, name string) *psp.PodSecurityPolicy {
	t.Helper()
	p.Name = name
	if errs := psp.Validate(p); len(errs) > 0 {
		t.Fatalf("generated PSP %s is invalid: %v", name, errs.ToAggregate())
	}
	return p
}

// readPolicies reads the valid PSPs of the files as the CLI does.
func readPolicies(t *testing.T, origin string, paths ...string) []diffPolicy {
	t.Helper()
	docs, errs := manifest.Read(paths, nil)
	for _, err := range errs {
		t.Fatalf("reading %v: %v", paths, err)
	}
	var out []diffPolicy
	for _, p := range psp.FromDocuments(docs).Policies {
		out = append(out, diffPolicy{origin: origin, psp: p.PSP})
	}
	return out
}

// differentialPolicies is the corpus's valid PSPs, the seed, each of them
// also tightened (see tightened), and the generated ones.
func differentialPolicies(t *testing.T) (all []diffPolicy, corpus int) {
	t.Helper()
	for _, p := range corpusPolicies(t) {
		all = append(all, diffPolicy{origin: fmt.Sprintf("%s#%d", filepath.Base(p.Source.File), p.Source.Index), psp: p.PSP})
	}
	corpus = len(all)
	seed := filepath.Join(sharedDir(t), "seed-restricted-psp.yaml")
	if _, err := os.Stat(seed); err != nil {
		t.Fatalf("seed PSP: %v", err)
	}
	seeds := readPolicies(t, "seed", seed)
	if len(seeds) != 1 {
		t.Fatalf("seed file holds %d valid PSPs, want 1", len(seeds))
	}
	all = append(all, seeds...)
	for _, p := range all[:corpus+1] {
		all = append(all, diffPolicy{origin: p.origin + ", tightened", psp: tightened(t, p.psp)})
	}
	return append(all, generatedPolicies(t)...), corpus
}

// tightened is the PSP with SELinux held to container_t and AppArmor to
// runtime/default. Every corpus PSP and the seed leave both open, which
// alone makes them privileged (REFERENCE.md §7), so only their witnesses
// would be tested; tightened they spread over all three levels, and the
// rest of each real PSP is held to the level it gets.
func tightened(t *testing.T, p *psp.PodSecurityPolicy) *psp.PodSecurityPolicy {
	t.Helper()
	out := p.DeepCopy()
	out.Spec.SELinux = psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Type: "container_t"}}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[apparmorAllowed] = psp.AppArmorProfileRuntimeDefault
	out.Annotations[apparmorDefault] = psp.AppArmorProfileRuntimeDefault
	return validPSP(t, out, p.Name+".tightened")
}
