// Package gapcases holds, for the tests of the packages that keep PSP
// restrictions as admission policies (vap, kyverno, gatekeeper), PSPs
// restricting along those fields and probe pods around the edges of each
// restriction, and the reading of 1.24 PSP errors by field.
package gapcases

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A differential case is a PSP restricting along some expressed fields and
// pods around its edges: values just inside and just outside its ranges,
// sibling paths of its prefixes, read-only and writable mounts. The e2e
// test installs ForPolicy(psp) on a real apiserver and checks, pod by pod,
// that the validations that fail are exactly those whose field the 1.24
// PSP (psp.Admit) rejects.
type Case struct {
	Name string
	PSP  *psp.PodSecurityPolicy
	Pods []Pod
}

type Pod struct {
	Name string
	Pod  *corev1.Pod
}

// variation changes a clean pod; target is the container under test.
type variation struct {
	name   string
	change func(pod *corev1.Pod, target *corev1.Container)
}

// targets are the container kinds a variation is tried in. The server
// refuses ephemeral containers on create; TestEphemeralContainersOnUpdate
// covers them.
var targets = []string{"containers", "initContainers"}

// PSPWith returns a PSP that restricts nothing but what spec sets: every
// rule RunAsAny, every volume type, no default.
func PSPWith(name string, edit func(s *psp.PodSecurityPolicySpec)) *psp.PodSecurityPolicy {
	p := &psp.PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: psp.PodSecurityPolicySpec{
			AllowedCapabilities: []corev1.Capability{psp.AllowAllCapabilities},
			Volumes:             []psp.FSType{psp.All},
			HostPorts:           []psp.HostPortRange{{Min: 0, Max: 65535}},
			SELinux:             psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyRunAsAny},
			RunAsUser:           psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyRunAsAny},
			SupplementalGroups:  psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyRunAsAny},
			FSGroup:             psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyRunAsAny},
		},
	}
	edit(&p.Spec)
	return p
}

// CleanPod is a pod every PSPWith PSP admits untouched: no token volume
// (the ServiceAccount admission plugin would add one on the server), no
// security settings.
func CleanPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pod"},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: new(false),
			Containers:                   []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
		},
	}
}

// expand applies every variation in every target container kind.
func expand(vs []variation) []Pod {
	var out []Pod
	for _, kind := range targets {
		for _, v := range vs {
			pod := CleanPod()
			target := &pod.Spec.Containers[0]
			if kind == "initContainers" {
				pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "registry.example/init:1"}}
				target = &pod.Spec.InitContainers[0]
			}
			v.change(pod, target)
			out = append(out, Pod{Name: kind + "/" + v.name, Pod: pod})
		}
	}
	return out
}

func Security(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

func PodSecurity(pod *corev1.Pod) *corev1.PodSecurityContext {
	if pod.Spec.SecurityContext == nil {
		pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return pod.Spec.SecurityContext
}

func Cases() []Case {
	return []Case{
		hostPathCase(),
		rootPrefixCase(),
		runAsUserCase(),
		mustRunAsNonRootCase(),
		groupsCase(psp.RunAsGroupStrategyMustRunAs),
		groupsCase(psp.RunAsGroupStrategyMayRunAs),
		readOnlyRootFilesystemCase(),
		capabilitiesCase(),
		noCapabilitiesCase(),
		driversCase(),
		sysctlsCase(),
		runtimeClassCase(),
		hostPortsCase(),
		volumeTypesCase(),
		seLinuxCase(),
	}
}

// hostPathVolume adds a hostPath volume and, when mount is "ro" or "rw",
// mounts it in the target container.
func hostPathVolume(path, mount string) func(*corev1.Pod, *corev1.Container) {
	return func(pod *corev1.Pod, target *corev1.Container) {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name:         "host",
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}},
		})
		if mount != "" {
			target.VolumeMounts = append(target.VolumeMounts, corev1.VolumeMount{Name: "host", MountPath: "/host", ReadOnly: mount == "ro"})
		}
	}
}

func hostPathCase() Case {
	p := PSPWith("host-paths", func(s *psp.PodSecurityPolicySpec) {
		s.Volumes = []psp.FSType{psp.HostPath, psp.ConfigMap, psp.EmptyDir}
		s.AllowedHostPaths = []psp.AllowedHostPath{
			{PathPrefix: "/var/log"},
			{PathPrefix: "/etc/ssl", ReadOnly: true},
			{PathPrefix: "/data/", ReadOnly: true},
			{PathPrefix: "/data/shared"},
			{PathPrefix: "/srv//", ReadOnly: true},
		}
	})
	var vs []variation
	for _, path := range []string{
		"/var/log", "/var/log/", "/var/log/pods", "/var/logs", "/var/lo", "/var", "/", "/var/log//x",
		"/etc/ssl", "/etc/ssl/certs", "/etc/ssl2", "/etc",
		"/data", "/data/", "/data/x", "/data/shared", "/data/shared/x", "/data/sharedx",
		"/srv", "/srv/", "/srv//", "/srv//x", "/srv/x",
	} {
		for _, mount := range []string{"", "ro", "rw"} {
			vs = append(vs, variation{fmt.Sprintf("hostPath %s mount %q", path, mount), hostPathVolume(path, mount)})
		}
	}
	vs = append(vs,
		variation{"read-only path mounted read-only here and writable in a second container", func(pod *corev1.Pod, target *corev1.Container) {
			hostPathVolume("/etc/ssl", "ro")(pod, target)
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{
				Name: "second", Image: "registry.example/app:1",
				VolumeMounts: []corev1.VolumeMount{{Name: "host", MountPath: "/host"}},
			})
		}},
		variation{"two hostPath volumes, one outside every prefix", func(pod *corev1.Pod, target *corev1.Container) {
			hostPathVolume("/var/log", "rw")(pod, target)
			pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
				Name: "other", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/proc"}},
			})
		}},
		variation{"writable mount of a different volume", func(pod *corev1.Pod, target *corev1.Container) {
			hostPathVolume("/etc/ssl", "ro")(pod, target)
			pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
			target.VolumeMounts = append(target.VolumeMounts, corev1.VolumeMount{Name: "scratch", MountPath: "/scratch"})
		}},
	)
	return Case{Name: "allowedHostPaths", PSP: p, Pods: expand(vs)}
}

// rootPrefixCase: a prefix of "/" covers every absolute path.
func rootPrefixCase() Case {
	p := PSPWith("root-prefix", func(s *psp.PodSecurityPolicySpec) {
		s.Volumes = []psp.FSType{psp.HostPath}
		s.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/", ReadOnly: true}}
	})
	var vs []variation
	for _, path := range []string{"/", "/etc", "/var/run/docker.sock"} {
		for _, mount := range []string{"ro", "rw"} {
			vs = append(vs, variation{fmt.Sprintf("hostPath %s mount %q", path, mount), hostPathVolume(path, mount)})
		}
	}
	return Case{Name: "allowedHostPaths root", PSP: p, Pods: expand(vs)}
}

func runAsUserCase() Case {
	ranges := []psp.IDRange{{Min: 1000, Max: 2000}, {Min: 5000, Max: 5000}}
	p := PSPWith("uid-ranges", func(s *psp.PodSecurityPolicySpec) {
		s.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: ranges}
	})
	vs := []variation{{"runAsUser unset (PSP default)", func(*corev1.Pod, *corev1.Container) {}}}
	for _, uid := range []int64{0, 999, 1000, 1001, 1999, 2000, 2001, 4999, 5000, 5001} {
		vs = append(vs,
			variation{fmt.Sprintf("container runAsUser %d", uid), func(_ *corev1.Pod, c *corev1.Container) { Security(c).RunAsUser = new(uid) }},
			variation{fmt.Sprintf("pod runAsUser %d", uid), func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).RunAsUser = new(uid) }},
			variation{fmt.Sprintf("pod runAsUser %d, container 1500", uid), func(pod *corev1.Pod, c *corev1.Container) {
				PodSecurity(pod).RunAsUser = new(uid)
				Security(c).RunAsUser = new(int64(1500))
			}},
			variation{fmt.Sprintf("pod runAsUser 1500, container %d", uid), func(pod *corev1.Pod, c *corev1.Container) {
				PodSecurity(pod).RunAsUser = new(int64(1500))
				Security(c).RunAsUser = new(uid)
			}},
		)
	}
	return Case{Name: "runAsUser MustRunAs", PSP: p, Pods: expand(vs)}
}

func mustRunAsNonRootCase() Case {
	p := PSPWith("non-root", func(s *psp.PodSecurityPolicySpec) {
		s.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}
	})
	var vs []variation
	for _, nonRoot := range []*bool{nil, new(true), new(false)} {
		for _, uid := range []*int64{nil, new(int64(0)), new(int64(1))} {
			for _, where := range []string{"pod", "container"} {
				name := fmt.Sprintf("%s runAsNonRoot %v runAsUser %v", where, deref(nonRoot), deref(uid))
				vs = append(vs, variation{name, func(pod *corev1.Pod, c *corev1.Container) {
					if where == "pod" {
						PodSecurity(pod).RunAsNonRoot, PodSecurity(pod).RunAsUser = nonRoot, uid
					} else {
						Security(c).RunAsNonRoot, Security(c).RunAsUser = nonRoot, uid
					}
				}})
			}
		}
	}
	vs = append(vs, variation{"pod runAsNonRoot true, container runAsNonRoot false", func(pod *corev1.Pod, c *corev1.Container) {
		PodSecurity(pod).RunAsNonRoot = new(true)
		Security(c).RunAsNonRoot = new(false)
	}})
	return Case{Name: "runAsUser MustRunAsNonRoot", PSP: p, Pods: expand(vs)}
}

func deref[T any](v *T) any {
	if v == nil {
		return "unset"
	}
	return *v
}

// groupsCase restricts runAsGroup, fsGroup and supplementalGroups with the
// same rule and ranges.
func groupsCase(rule psp.RunAsGroupStrategy) Case {
	ranges := []psp.IDRange{{Min: 100, Max: 200}, {Min: 300, Max: 300}}
	p := PSPWith("groups-"+toLowerASCII(string(rule)), func(s *psp.PodSecurityPolicySpec) {
		s.RunAsGroup = &psp.RunAsGroupStrategyOptions{Rule: rule, Ranges: ranges}
		s.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyType(rule), Ranges: ranges}
		s.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyType(rule), Ranges: ranges}
	})
	vs := []variation{
		{"nothing set", func(*corev1.Pod, *corev1.Container) {}},
		{"empty supplementalGroups", func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).SupplementalGroups = []int64{} }},
		{"supplementalGroups 100, 300", func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).SupplementalGroups = []int64{100, 300} }},
		{"supplementalGroups 100, 301", func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).SupplementalGroups = []int64{100, 301} }},
	}
	for _, gid := range []int64{0, 99, 100, 200, 201, 299, 300, 301} {
		vs = append(vs,
			variation{fmt.Sprintf("container runAsGroup %d", gid), func(_ *corev1.Pod, c *corev1.Container) { Security(c).RunAsGroup = new(gid) }},
			variation{fmt.Sprintf("pod runAsGroup %d", gid), func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).RunAsGroup = new(gid) }},
			variation{fmt.Sprintf("pod runAsGroup %d, container 150", gid), func(pod *corev1.Pod, c *corev1.Container) {
				PodSecurity(pod).RunAsGroup = new(gid)
				Security(c).RunAsGroup = new(int64(150))
			}},
			variation{fmt.Sprintf("fsGroup %d", gid), func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).FSGroup = new(gid) }},
			variation{fmt.Sprintf("supplementalGroups %d", gid), func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).SupplementalGroups = []int64{gid} }},
		)
	}
	return Case{Name: "groups " + string(rule), PSP: p, Pods: expand(vs)}
}

func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func readOnlyRootFilesystemCase() Case {
	p := PSPWith("read-only-root", func(s *psp.PodSecurityPolicySpec) { s.ReadOnlyRootFilesystem = true })
	vs := []variation{{"unset (PSP default)", func(*corev1.Pod, *corev1.Container) {}}}
	for _, v := range []bool{true, false} {
		vs = append(vs, variation{fmt.Sprintf("readOnlyRootFilesystem %v", v), func(_ *corev1.Pod, c *corev1.Container) {
			Security(c).ReadOnlyRootFilesystem = new(v)
		}})
	}
	return Case{Name: "readOnlyRootFilesystem", PSP: p, Pods: expand(vs)}
}

func capabilities(add, drop []corev1.Capability) func(*corev1.Pod, *corev1.Container) {
	return func(_ *corev1.Pod, c *corev1.Container) {
		Security(c).Capabilities = &corev1.Capabilities{Add: add, Drop: drop}
	}
}

func capabilitiesCase() Case {
	p := PSPWith("capabilities", func(s *psp.PodSecurityPolicySpec) {
		s.AllowedCapabilities = []corev1.Capability{"CHOWN", "NET_BIND_SERVICE"}
		s.DefaultAddCapabilities = []corev1.Capability{"SETUID"}
		s.RequiredDropCapabilities = []corev1.Capability{"NET_RAW", "SYS_ADMIN"}
	})
	type caps = []corev1.Capability
	vs := []variation{
		{"nothing set (PSP default)", func(*corev1.Pod, *corev1.Container) {}},
		{"add CHOWN", capabilities(caps{"CHOWN"}, nil)},
		{"add SETUID (a default add)", capabilities(caps{"SETUID"}, nil)},
		{"add SYS_TIME", capabilities(caps{"SYS_TIME"}, nil)},
		{"add chown (names are compared as written)", capabilities(caps{"chown"}, nil)},
		{"add CHOWN and SYS_TIME", capabilities(caps{"CHOWN", "SYS_TIME"}, nil)},
		{"drop NET_RAW and SYS_ADMIN", capabilities(nil, caps{"NET_RAW", "SYS_ADMIN"})},
		{"drop ALL", capabilities(nil, caps{"ALL"})},
		{"drop ALL, add SYS_TIME", capabilities(caps{"SYS_TIME"}, caps{"ALL"})},
		{"drop SETUID (no default add)", capabilities(nil, caps{"SETUID"})},
	}
	return Case{Name: "capabilities", PSP: p, Pods: expand(vs)}
}

// noCapabilitiesCase: an empty allowedCapabilities list allows adding
// nothing.
func noCapabilitiesCase() Case {
	p := PSPWith("no-capabilities", func(s *psp.PodSecurityPolicySpec) { s.AllowedCapabilities = nil })
	type caps = []corev1.Capability
	vs := []variation{
		{"nothing set", func(*corev1.Pod, *corev1.Container) {}},
		{"add NET_BIND_SERVICE", capabilities(caps{"NET_BIND_SERVICE"}, nil)},
		{"empty add", capabilities(caps{}, caps{"ALL"})},
	}
	return Case{Name: "allowedCapabilities empty", PSP: p, Pods: expand(vs)}
}

func volume(name string, source corev1.VolumeSource) func(*corev1.Pod, *corev1.Container) {
	return func(pod *corev1.Pod, _ *corev1.Container) {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: source})
	}
}

func flexVolume(driver string) corev1.VolumeSource {
	return corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: driver}}
}

func csiVolume(driver string) corev1.VolumeSource {
	return corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: driver}}
}

func driversCase() Case {
	p := PSPWith("drivers", func(s *psp.PodSecurityPolicySpec) {
		s.Volumes = []psp.FSType{psp.FlexVolume, psp.CSI, psp.EmptyDir}
		s.AllowedFlexVolumes = []psp.AllowedFlexVolume{{Driver: "example.com/lvm"}, {Driver: "example.com/cifs"}}
		s.AllowedCSIDrivers = []psp.AllowedCSIDriver{{Name: "secrets-store.csi.k8s.io"}}
	})
	vs := []variation{
		{"flexVolume example.com/lvm", volume("flex", flexVolume("example.com/lvm"))},
		{"flexVolume example.com/cifs", volume("flex", flexVolume("example.com/cifs"))},
		{"flexVolume example.com/nfs", volume("flex", flexVolume("example.com/nfs"))},
		{"flexVolume example.com/lvm2", volume("flex", flexVolume("example.com/lvm2"))},
		{"csi secrets-store.csi.k8s.io", volume("csi", csiVolume("secrets-store.csi.k8s.io"))},
		{"csi other.csi.k8s.io", volume("csi", csiVolume("other.csi.k8s.io"))},
		{"emptyDir", volume("scratch", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}})},
	}
	return Case{Name: "allowedFlexVolumes and allowedCSIDrivers", PSP: p, Pods: expand(vs)}
}

func sysctlsCase() Case {
	p := PSPWith("sysctls", func(s *psp.PodSecurityPolicySpec) {
		s.ForbiddenSysctls = []string{"kernel.shm_rmid_forced", "net.ipv4.ip_local*"}
		s.AllowedUnsafeSysctls = []string{"net.core.somaxconn", "kernel.msg*"}
	})
	var vs []variation
	for _, name := range []string{
		"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
		"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.core.somaxconn", "kernel.msgmax",
		"kernel.shm_rmid_forced2", "net.ipv4.ip_unprivileged_port_start", "kernel.sem",
	} {
		vs = append(vs, variation{"sysctl " + name, func(pod *corev1.Pod, _ *corev1.Container) {
			PodSecurity(pod).Sysctls = []corev1.Sysctl{{Name: name, Value: "1"}}
		}})
	}
	return Case{Name: "forbiddenSysctls", PSP: p, Pods: expand(vs)}
}

// RuntimeClasses must exist on the server: the RuntimeClass admission
// plugin rejects pods naming an unknown one.
var RuntimeClasses = []string{"gvisor", "kata", "runc"}

func runtimeClassCase() Case {
	p := PSPWith("runtime-classes", func(s *psp.PodSecurityPolicySpec) {
		s.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"gvisor", "kata"}, DefaultRuntimeClassName: new("gvisor")}
	})
	vs := []variation{{"unset (PSP default)", func(*corev1.Pod, *corev1.Container) {}}}
	for _, name := range RuntimeClasses {
		vs = append(vs, variation{"runtimeClassName " + name, func(pod *corev1.Pod, _ *corev1.Container) { pod.Spec.RuntimeClassName = new(name) }})
	}
	return Case{Name: "runtimeClass", PSP: p, Pods: expand(vs)}
}

func hostPortsCase() Case {
	p := PSPWith("host-ports", func(s *psp.PodSecurityPolicySpec) {
		s.HostPorts = []psp.HostPortRange{{Min: 80, Max: 80}, {Min: 8000, Max: 8080}}
	})
	vs := []variation{{"container port without host port", func(_ *corev1.Pod, c *corev1.Container) {
		c.Ports = []corev1.ContainerPort{{ContainerPort: 8080}}
	}}}
	for _, port := range []int32{79, 80, 81, 7999, 8000, 8080, 8081} {
		vs = append(vs, variation{fmt.Sprintf("host port %d", port), func(_ *corev1.Pod, c *corev1.Container) {
			c.Ports = []corev1.ContainerPort{{ContainerPort: 9000, HostPort: port}}
		}})
	}
	vs = append(vs, variation{"host ports 80 and 9000", func(_ *corev1.Pod, c *corev1.Container) {
		c.Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}, {ContainerPort: 9000, HostPort: 9000}}
	}})
	return Case{Name: "hostPorts", PSP: p, Pods: expand(vs)}
}

func volumeTypesCase() Case {
	p := PSPWith("volume-types", func(s *psp.PodSecurityPolicySpec) {
		s.Volumes = []psp.FSType{psp.ConfigMap, psp.Secret, psp.EmptyDir}
	})
	token := corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}
	rootCA := corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{
		LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
		Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
	}}
	namespace := corev1.VolumeProjection{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
		Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
	}}}}
	projected := func(sources ...corev1.VolumeProjection) corev1.VolumeSource {
		return corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: sources}}
	}
	withAudience := token
	withAudience.ServiceAccountToken = &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault"}
	otherPath := token
	otherPath.ServiceAccountToken = &corev1.ServiceAccountTokenProjection{Path: "other"}
	otherConfigMap := corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}
	podName := corev1.VolumeProjection{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
		Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"},
	}}}}
	vs := []variation{
		{"configMap", volume("v", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}})},
		{"secret", volume("v", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}})},
		{"emptyDir", volume("v", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}})},
		{"image (unknown to 1.24: emptyDir)", volume("v", corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry.example/data:1"}})},
		{"downwardAPI", volume("v", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}})},
		{"persistentVolumeClaim", volume("v", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}})},
		{"hostPath", hostPathVolume("/tmp", "")},
		{"nfs", volume("v", corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.example", Path: "/export"}})},
		{"csi", volume("v", csiVolume("csi.example.com"))},
		{"projected service account token", volume("v", projected(token, rootCA, namespace))},
		{"projected token only", volume("v", projected(token))},
		{"projected token with an audience", volume("v", projected(withAudience, rootCA, namespace))},
		{"projected token at another path", volume("v", projected(otherPath))},
		{"projected other config map", volume("v", projected(token, otherConfigMap))},
		{"projected pod name", volume("v", projected(token, podName))},
	}
	return Case{Name: "volumes", PSP: p, Pods: expand(vs)}
}

func seLinuxCase() Case {
	want := corev1.SELinuxOptions{User: "system_u", Type: "container_t", Level: "s0:c1,c2,c2"}
	p := PSPWith("selinux", func(s *psp.PodSecurityPolicySpec) {
		s.SELinux = psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &want}
	})
	with := func(edit func(o *corev1.SELinuxOptions)) *corev1.SELinuxOptions {
		o := want
		edit(&o)
		return &o
	}
	options := map[string]*corev1.SELinuxOptions{
		"the PSP's":                 with(func(*corev1.SELinuxOptions) {}),
		"categories reordered":      with(func(o *corev1.SELinuxOptions) { o.Level = "s0:c2,c1,c2" }),
		"a repeat lost":             with(func(o *corev1.SELinuxOptions) { o.Level = "s0:c1,c2" }),
		"a category swapped":        with(func(o *corev1.SELinuxOptions) { o.Level = "s0:c1,c1,c2" }),
		"an extra category":         with(func(o *corev1.SELinuxOptions) { o.Level = "s0:c1,c2,c2,c3" }),
		"another sensitivity":       with(func(o *corev1.SELinuxOptions) { o.Level = "s1:c1,c2,c2" }),
		"no categories":             with(func(o *corev1.SELinuxOptions) { o.Level = "s0" }),
		"no level":                  with(func(o *corev1.SELinuxOptions) { o.Level = "" }),
		"another type":              with(func(o *corev1.SELinuxOptions) { o.Type = "spc_t" }),
		"no user":                   with(func(o *corev1.SELinuxOptions) { o.User = "" }),
		"a role":                    with(func(o *corev1.SELinuxOptions) { o.Role = "system_r" }),
		"a range with a colon more": with(func(o *corev1.SELinuxOptions) { o.Level = "s0:c1,c2,c2:x" }),
	}
	vs := []variation{{"nothing set (PSP default)", func(*corev1.Pod, *corev1.Container) {}}}
	for name, o := range options {
		vs = append(vs,
			variation{"pod " + name, func(pod *corev1.Pod, _ *corev1.Container) { PodSecurity(pod).SELinuxOptions = o }},
			variation{"container " + name, func(_ *corev1.Pod, c *corev1.Container) { Security(c).SELinuxOptions = o }},
			variation{"pod the PSP's, container " + name, func(pod *corev1.Pod, c *corev1.Container) {
				PodSecurity(pod).SELinuxOptions = options["the PSP's"]
				Security(c).SELinuxOptions = o
			}},
		)
	}
	sortVariations(vs)
	return Case{Name: "seLinux MustRunAs", PSP: p, Pods: expand(vs)}
}

// sortVariations orders variations built from a map by name, so that the
// pods keep their order from run to run.
func sortVariations(vs []variation) {
	slices.SortFunc(vs, func(a, b variation) int { return strings.Compare(a.name, b.name) })
}
