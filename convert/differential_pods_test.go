package convert

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The pods of the differential test: the PSA module's own fixtures, and
// pods built from what each PSP says it allows.

// diffPod is one pod template the test sends through PSP admission.
type diffPod struct {
	name     string
	template *corev1.PodTemplateSpec
}

// psaFixturePods reads every fixture pod of the PSA module,
// test/testdata/{baseline,restricted}/v1.*/{pass,fail}/*.yaml, and keeps
// one of each distinct pod (name aside): most fixtures repeat unchanged
// from version to version. A pod is named by the first file holding it.
func psaFixturePods(t *testing.T) (pods []diffPod, files int) {
	t.Helper()
	pattern := filepath.Join(testinputs.PSAModuleDir(t), "test", "testdata", "*", "v1.*", "*", "*.yaml")
	paths, err := filepath.Glob(pattern)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no PSA fixtures match %s (%v)", pattern, err)
	}
	slices.Sort(paths)
	seen, seenFiles := map[string]bool{}, map[string]bool{}
	for _, path := range paths {
		rel, _ := filepath.Rel(filepath.Join(testinputs.PSAModuleDir(t), "test", "testdata"), path)
		if level := strings.Split(rel, string(filepath.Separator))[0]; level != "baseline" && level != "restricted" {
			continue
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if seenFiles[string(data)] {
			continue // most files repeat from version to version
		}
		seenFiles[string(data)] = true
		var pod corev1.Pod
		if err := yaml.UnmarshalStrict(data, &pod); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pod.Name = ""
		key, err := json.Marshal(&pod)
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		pods = append(pods, diffPod{name: filepath.ToSlash(rel), template: templateOf(&pod)})
	}
	return pods, files
}

// allowancePods builds, from what p says it allows, pods that use each
// allowance: every host port range's min and max, each allowed capability,
// a hostPath under each allowed prefix, exactly the SELinux options of
// MustRunAs (custom ones under RunAsAny), each unsafe sysctl (patterns
// expanded), one volume of each allowed type, each allowed seccomp and
// AppArmor profile, each runAsUser range's min and max UID, privileged
// containers, host namespaces, Windows HostProcess pods, privilege
// escalation, Unmasked proc mounts, runtime classes. Each starts from fittedTemplate(p), so that only the
// allowance under test differs from a pod p admits; a last pod combines
// them all.
func allowancePods(p *psp.PodSecurityPolicy) []diffPod {
	var changes []podEdit
	for _, group := range [][]podEdit{
		hostPortEdits(p), capabilityEdits(p), hostPathEdits(p), seLinuxEdits(p),
		sysctlEdits(p), volumeEdits(p), seccompEdits(p), appArmorEdits(p),
		runAsUserEdits(p), podLevelOverrideEdits(p), simpleFlagEdits(p), containerKindEdits(p),
	} {
		changes = append(changes, group...)
	}
	pods := make([]diffPod, 0, len(changes)+1)
	all := fittedTemplate(p)
	for _, c := range changes {
		tmpl := fittedTemplate(p)
		c.apply(tmpl)
		c.apply(all)
		pods = append(pods, diffPod{name: "allowance: " + c.name, template: tmpl})
	}
	return append(pods, diffPod{name: "allowance: all of them", template: all})
}

// podEdit is one named change to a template.
type podEdit struct {
	name  string
	apply func(*corev1.PodTemplateSpec)
}

const (
	fittedContainer     = "app"
	fittedInitContainer = "init"
	fittedImage         = "registry.example/app:1"
)

// fittedTemplate is a plain one-container pod with the profiles p insists
// on when it has no default for them: the first seccomp profile it lists
// (RuntimeDefault for "*"), the first AppArmor profile it lists. Every
// other requirement a PSP has, it defaults itself.
func fittedTemplate(p *psp.PodSecurityPolicy) *corev1.PodTemplateSpec {
	tmpl := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: fittedInitContainer, Image: fittedImage}},
		Containers:     []corev1.Container{{Name: fittedContainer, Image: fittedImage}},
	}}
	if names, set := psp.SeccompAllowedProfiles(p); set && p.Annotations[psp.SeccompDefaultProfileAnnotation] == "" && !slices.Contains(names, "") {
		if names[0] == psp.AllowAllProfiles {
			setPodSeccomp(tmpl, psp.SeccompProfileRuntimeDefault)
		} else {
			setPodSeccomp(tmpl, names[0])
		}
	}
	if names, set := psp.AppArmorAllowedProfiles(p); set && p.Annotations[psp.AppArmorDefaultProfileAnnotation] == "" {
		for _, name := range names {
			if name != "" {
				setAppArmor(tmpl, name)
				break
			}
		}
	}
	return tmpl
}

// setPodSeccomp sets the pod's seccomp profile in field form, as a client
// of today writes it (PSP reads the field when the annotation is absent),
// or as the annotation for a profile without a field form ("localhost/").
func setPodSeccomp(tmpl *corev1.PodTemplateSpec, profile string) {
	if field := seccompFieldForAnnotation(profile); field != nil {
		templateSecurity(tmpl).SeccompProfile = field
		return
	}
	setPodSeccompAnnotation(tmpl, profile)
}

func setPodSeccompAnnotation(tmpl *corev1.PodTemplateSpec, profile string) {
	if tmpl.Annotations == nil {
		tmpl.Annotations = map[string]string{}
	}
	tmpl.Annotations[psp.SeccompPodAnnotation] = profile
}

// setAppArmor sets the containers' AppArmor profile annotations, the form
// the 1.24 PSP read.
func setAppArmor(tmpl *corev1.PodTemplateSpec, profile string) {
	if tmpl.Annotations == nil {
		tmpl.Annotations = map[string]string{}
	}
	for _, name := range []string{fittedInitContainer, fittedContainer} {
		tmpl.Annotations[psp.AppArmorContainerAnnotationPrefix+name] = profile
	}
}

func templateSecurity(tmpl *corev1.PodTemplateSpec) *corev1.PodSecurityContext {
	if tmpl.Spec.SecurityContext == nil {
		tmpl.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return tmpl.Spec.SecurityContext
}

func containerSecurity(tmpl *corev1.PodTemplateSpec) *corev1.SecurityContext {
	c := &tmpl.Spec.Containers[0]
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

func hostPortEdits(p *psp.PodSecurityPolicy) []podEdit {
	var edits []podEdit
	for _, r := range p.Spec.HostPorts {
		for _, port := range slices.Compact([]int32{r.Min, r.Max}) {
			if port <= 0 {
				continue // 0 is no host port
			}
			edits = append(edits, podEdit{fmt.Sprintf("hostPort %d", port), func(tmpl *corev1.PodTemplateSpec) {
				c := &tmpl.Spec.Containers[0]
				c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: port, HostPort: port})
			}})
		}
	}
	return edits
}

// someCapabilities stand for "*": the one restricted allows, baseline
// ones, ones baseline forbids, and spellings PSA and 1.24 compare as
// written.
var someCapabilities = []corev1.Capability{
	"NET_BIND_SERVICE", "CHOWN", "KILL", "SETUID", "NET_RAW", "NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE",
	"ALL", "CAP_SYS_ADMIN", "net_bind_service",
}

func capabilityEdits(p *psp.PodSecurityPolicy) []podEdit {
	caps := p.Spec.AllowedCapabilities
	if slices.Contains(caps, psp.AllowAllCapabilities) {
		caps = someCapabilities
	}
	var edits []podEdit
	for _, c := range caps {
		edits = append(edits, podEdit{"adds capability " + string(c), func(tmpl *corev1.PodTemplateSpec) {
			sc := containerSecurity(tmpl)
			if sc.Capabilities == nil {
				sc.Capabilities = &corev1.Capabilities{}
			}
			sc.Capabilities.Add = append(sc.Capabilities.Add, c)
		}})
	}
	return edits
}

func pspAllowsVolumeType(p *psp.PodSecurityPolicy, t psp.FSType) bool {
	return slices.Contains(p.Spec.Volumes, psp.All) || slices.Contains(p.Spec.Volumes, t)
}

func hostPathEdits(p *psp.PodSecurityPolicy) []podEdit {
	if !pspAllowsVolumeType(p, psp.HostPath) {
		return nil
	}
	allowed := p.Spec.AllowedHostPaths
	if len(allowed) == 0 {
		allowed = []psp.AllowedHostPath{{PathPrefix: "/"}, {PathPrefix: "/var/run/docker.sock"}}
	}
	var edits []podEdit
	for i, a := range allowed {
		path := strings.TrimSuffix(a.PathPrefix, "/") + "/sub"
		name := fmt.Sprintf("hostpath-%d", i)
		edits = append(edits, podEdit{"hostPath " + path, func(tmpl *corev1.PodTemplateSpec) {
			tmpl.Spec.Volumes = append(tmpl.Spec.Volumes, corev1.Volume{Name: name,
				VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}})
			c := &tmpl.Spec.Containers[0]
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: "/mnt/" + name, ReadOnly: a.ReadOnly})
		}})
	}
	return edits
}

// seLinuxEdits: under MustRunAs the PSP's own options, set explicitly on
// the pod and the container; under RunAsAny options baseline forbids.
func seLinuxEdits(p *psp.PodSecurityPolicy) []podEdit {
	options := []corev1.SELinuxOptions{{Type: "spc_t"}, {User: "system_u", Role: "system_r", Type: "container_t"}, {Level: "s0:c1,c2"}}
	if p.Spec.SELinux.Rule == psp.SELinuxStrategyMustRunAs && p.Spec.SELinux.SELinuxOptions != nil {
		options = []corev1.SELinuxOptions{*p.Spec.SELinux.SELinuxOptions}
	}
	var edits []podEdit
	for _, o := range options {
		edits = append(edits, podEdit{fmt.Sprintf("seLinuxOptions %+v", o), func(tmpl *corev1.PodTemplateSpec) {
			templateSecurity(tmpl).SELinuxOptions = o.DeepCopy()
			containerSecurity(tmpl).SELinuxOptions = o.DeepCopy()
		}})
	}
	return edits
}

// someSysctls stand for sysctl patterns: names PSS calls safe from some
// version on, and unsafe ones.
var someSysctls = []string{
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_rmem",
	"net.ipv4.tcp_notsent_lowat", "kernel.msgmax", "kernel.sem", "net.core.somaxconn", "fs.mqueue.msg_max",
}

// sysctlEdits sets each unsafe sysctl p allows, a pattern standing for
// every name above it matches and a made-up name under its prefix; and,
// for every PSP, the sysctls 1.24 always called safe.
func sysctlEdits(p *psp.PodSecurityPolicy) []podEdit {
	var names []string
	for _, pattern := range p.Spec.AllowedUnsafeSysctls {
		prefix, isPattern := strings.CutSuffix(pattern, "*")
		if !isPattern {
			names = append(names, pattern)
			continue
		}
		for _, s := range someSysctls {
			if strings.HasPrefix(s, prefix) {
				names = append(names, s)
			}
		}
		if prefix != "" {
			names = append(names, prefix+"madeup")
		}
	}
	names = append(names, psp.SafeSysctls()...)
	slices.Sort(names)
	var edits []podEdit
	for _, name := range slices.Compact(names) {
		edits = append(edits, podEdit{"sysctl " + name, func(tmpl *corev1.PodTemplateSpec) {
			sc := templateSecurity(tmpl)
			sc.Sysctls = append(sc.Sysctls, corev1.Sysctl{Name: name, Value: "1"})
		}})
	}
	return edits
}

// volumeSources holds a minimal valid source of every volume type PSP
// names; TestVolumeSourcesCoverEveryFSType keeps it complete.
var volumeSources = map[psp.FSType]corev1.VolumeSource{
	psp.AzureFile:             {AzureFile: &corev1.AzureFileVolumeSource{SecretName: "s", ShareName: "share"}},
	psp.Flocker:               {Flocker: &corev1.FlockerVolumeSource{DatasetName: "d"}},
	psp.FlexVolume:            {FlexVolume: &corev1.FlexVolumeSource{Driver: "example.com/flex"}},
	psp.HostPath:              {HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/data"}},
	psp.EmptyDir:              {EmptyDir: &corev1.EmptyDirVolumeSource{}},
	psp.GCEPersistentDisk:     {GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "pd"}},
	psp.AWSElasticBlockStore:  {AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol"}},
	psp.GitRepo:               {GitRepo: &corev1.GitRepoVolumeSource{Repository: "https://example.com/repo.git"}},
	psp.Secret:                {Secret: &corev1.SecretVolumeSource{SecretName: "s"}},
	psp.NFS:                   {NFS: &corev1.NFSVolumeSource{Server: "nfs.example.com", Path: "/export"}},
	psp.ISCSI:                 {ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "10.0.0.1:3260", IQN: "iqn.2001-04.com.example:storage", Lun: 0}},
	psp.Glusterfs:             {Glusterfs: &corev1.GlusterfsVolumeSource{EndpointsName: "gluster", Path: "vol"}},
	psp.PersistentVolumeClaim: {PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "claim"}},
	psp.RBD:                   {RBD: &corev1.RBDVolumeSource{CephMonitors: []string{"10.0.0.1:6789"}, RBDImage: "img"}},
	psp.Cinder:                {Cinder: &corev1.CinderVolumeSource{VolumeID: "vol"}},
	psp.CephFS:                {CephFS: &corev1.CephFSVolumeSource{Monitors: []string{"10.0.0.1:6789"}}},
	psp.DownwardAPI:           {DownwardAPI: &corev1.DownwardAPIVolumeSource{}},
	psp.FC:                    {FC: &corev1.FCVolumeSource{WWIDs: []string{"wwid"}}},
	psp.ConfigMap:             {ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}},
	psp.VsphereVolume:         {VsphereVolume: &corev1.VsphereVirtualDiskVolumeSource{VolumePath: "[ds] vol.vmdk"}},
	psp.Quobyte:               {Quobyte: &corev1.QuobyteVolumeSource{Registry: "registry:7861", Volume: "vol"}},
	psp.AzureDisk:             {AzureDisk: &corev1.AzureDiskVolumeSource{DiskName: "disk", DataDiskURI: "https://example.com/disk.vhd"}},
	psp.PhotonPersistentDisk:  {PhotonPersistentDisk: &corev1.PhotonPersistentDiskVolumeSource{PdID: "pd"}},
	psp.StorageOS:             {StorageOS: &corev1.StorageOSVolumeSource{VolumeName: "vol"}},
	psp.Projected:             {Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}}}},
	psp.PortworxVolume:        {PortworxVolume: &corev1.PortworxVolumeSource{VolumeID: "vol"}},
	psp.ScaleIO:               {ScaleIO: &corev1.ScaleIOVolumeSource{Gateway: "https://gateway", System: "sys", SecretRef: &corev1.LocalObjectReference{Name: "s"}}},
	psp.CSI:                   {CSI: &corev1.CSIVolumeSource{Driver: "csi.example.com"}},
	psp.Ephemeral: {Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}},
	}}},
}

// volumeEdits mounts one volume of each type p allows (every type for
// "*"); flexVolume and csi once per allowed driver when p lists drivers.
func volumeEdits(p *psp.PodSecurityPolicy) []podEdit {
	var edits []podEdit
	for _, fsType := range slices.Sorted(maps.Keys(volumeSourcesByName())) {
		t := psp.FSType(fsType)
		if !pspAllowsVolumeType(p, t) || t == psp.HostPath { // hostPath: hostPathEdits
			continue
		}
		for i, source := range driverVariants(p, t) {
			name := fmt.Sprintf("%s-%d", strings.ToLower(fsType), i)
			edits = append(edits, podEdit{fmt.Sprintf("%s volume %s", fsType, volumeDriver(source)), func(tmpl *corev1.PodTemplateSpec) {
				tmpl.Spec.Volumes = append(tmpl.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: *source.DeepCopy()})
				c := &tmpl.Spec.Containers[0]
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: "/mnt/" + name})
			}})
		}
	}
	return edits
}

func volumeSourcesByName() map[string]corev1.VolumeSource {
	out := map[string]corev1.VolumeSource{}
	for t, s := range volumeSources {
		out[string(t)] = s
	}
	return out
}

func driverVariants(p *psp.PodSecurityPolicy, t psp.FSType) []corev1.VolumeSource {
	source := volumeSources[t]
	var out []corev1.VolumeSource
	switch {
	case t == psp.FlexVolume && len(p.Spec.AllowedFlexVolumes) > 0:
		for _, d := range p.Spec.AllowedFlexVolumes {
			s := *source.DeepCopy()
			s.FlexVolume.Driver = d.Driver
			out = append(out, s)
		}
	case t == psp.CSI && len(p.Spec.AllowedCSIDrivers) > 0:
		for _, d := range p.Spec.AllowedCSIDrivers {
			s := *source.DeepCopy()
			s.CSI.Driver = d.Name
			out = append(out, s)
		}
	default:
		out = append(out, source)
	}
	return out
}

func volumeDriver(s corev1.VolumeSource) string {
	switch {
	case s.FlexVolume != nil:
		return s.FlexVolume.Driver
	case s.CSI != nil:
		return s.CSI.Driver
	}
	return ""
}

// seccompEdits sets each profile p allows on the pod, as the annotation
// 1.24 clients wrote and as the field today's write; and on the
// container as the annotation. "*" stands for RuntimeDefault, Unconfined
// and a Localhost profile, an empty entry for an unset profile.
func seccompEdits(p *psp.PodSecurityPolicy) []podEdit {
	names, set := psp.SeccompAllowedProfiles(p)
	if !set {
		return nil
	}
	var profiles []string
	for _, name := range names {
		if name == psp.AllowAllProfiles {
			profiles = append(profiles, psp.SeccompProfileRuntimeDefault, psp.SeccompProfileNameUnconfined, "localhost/profiles/audit.json")
		} else {
			profiles = append(profiles, name)
		}
	}
	var edits []podEdit
	for _, profile := range profiles {
		if profile == "" {
			edits = append(edits, podEdit{"no seccomp profile", func(tmpl *corev1.PodTemplateSpec) {
				templateSecurity(tmpl).SeccompProfile = nil
				delete(tmpl.Annotations, psp.SeccompPodAnnotation)
			}})
			continue
		}
		edits = append(edits, podEdit{"pod seccomp annotation " + profile, func(tmpl *corev1.PodTemplateSpec) {
			templateSecurity(tmpl).SeccompProfile = nil
			setPodSeccompAnnotation(tmpl, profile)
		}})
		if field := seccompFieldForAnnotation(profile); field != nil {
			edits = append(edits, podEdit{"pod seccomp field " + profile, func(tmpl *corev1.PodTemplateSpec) {
				delete(tmpl.Annotations, psp.SeccompPodAnnotation)
				templateSecurity(tmpl).SeccompProfile = field.DeepCopy()
			}})
		}
		edits = append(edits, podEdit{"container seccomp annotation " + profile, func(tmpl *corev1.PodTemplateSpec) {
			if tmpl.Annotations == nil {
				tmpl.Annotations = map[string]string{}
			}
			tmpl.Annotations[psp.SeccompContainerAnnotationPrefix+fittedContainer] = profile
		}})
	}
	return edits
}

// appArmorEdits sets each profile p allows; without an allowed list 1.24
// did not check AppArmor, so any profile goes.
func appArmorEdits(p *psp.PodSecurityPolicy) []podEdit {
	profiles, set := psp.AppArmorAllowedProfiles(p)
	if !set {
		profiles = []string{psp.AppArmorProfileRuntimeDefault, psp.AppArmorProfileNameUnconfined, "localhost/k8s-app"}
	}
	var edits []podEdit
	for _, profile := range profiles {
		if profile == "" {
			continue
		}
		edits = append(edits, podEdit{"AppArmor " + profile, func(tmpl *corev1.PodTemplateSpec) { setAppArmor(tmpl, profile) }})
	}
	return edits
}

// runAsUserEdits sets each range's min and max UID on the container; under
// MustRunAsNonRoot a non-root UID alone; under RunAsAny root.
func runAsUserEdits(p *psp.PodSecurityPolicy) []podEdit {
	var uids []int64
	switch p.Spec.RunAsUser.Rule {
	case psp.RunAsUserStrategyMustRunAs:
		for _, r := range p.Spec.RunAsUser.Ranges {
			uids = append(uids, r.Min, r.Max)
		}
	case psp.RunAsUserStrategyMustRunAsNonRoot:
		uids = []int64{1000}
	default:
		uids = []int64{0, 1000}
	}
	slices.Sort(uids)
	var edits []podEdit
	for _, uid := range slices.Compact(uids) {
		edits = append(edits, podEdit{fmt.Sprintf("runAsUser %d", uid), func(tmpl *corev1.PodTemplateSpec) {
			containerSecurity(tmpl).RunAsUser = new(uid)
		}})
	}
	return edits
}

// podLevelOverrideEdits set pod-level identity that every container
// overrides: 1.24 checked only each container's effective value, PSA also
// reads the pod's field.
func podLevelOverrideEdits(p *psp.PodSecurityPolicy) []podEdit {
	uid := int64(1000)
	if r := p.Spec.RunAsUser; r.Rule == psp.RunAsUserStrategyMustRunAs {
		uid = r.Ranges[0].Max
	}
	everyContainer := func(tmpl *corev1.PodTemplateSpec, set func(*corev1.SecurityContext)) {
		for _, cs := range [][]corev1.Container{tmpl.Spec.InitContainers, tmpl.Spec.Containers} {
			for i := range cs {
				if cs[i].SecurityContext == nil {
					cs[i].SecurityContext = &corev1.SecurityContext{}
				}
				set(cs[i].SecurityContext)
			}
		}
	}
	return []podEdit{
		{fmt.Sprintf("pod runAsUser 0, every container %d", uid), func(tmpl *corev1.PodTemplateSpec) {
			templateSecurity(tmpl).RunAsUser = new(int64(0))
			everyContainer(tmpl, func(sc *corev1.SecurityContext) { sc.RunAsUser = new(uid) })
		}},
		{"pod runAsNonRoot false, every container true", func(tmpl *corev1.PodTemplateSpec) {
			templateSecurity(tmpl).RunAsNonRoot = new(false)
			everyContainer(tmpl, func(sc *corev1.SecurityContext) { sc.RunAsNonRoot = new(true) })
		}},
	}
}

// containerKindEdits add an ephemeral container, which PSP defaulted and
// checked like the others.
func containerKindEdits(p *psp.PodSecurityPolicy) []podEdit {
	return []podEdit{{"ephemeral container", func(tmpl *corev1.PodTemplateSpec) {
		tmpl.Spec.EphemeralContainers = append(tmpl.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: fittedImage},
		})
		if profile := tmpl.Annotations[psp.AppArmorContainerAnnotationPrefix+fittedContainer]; profile != "" {
			tmpl.Annotations[psp.AppArmorContainerAnnotationPrefix+"debug"] = profile
		}
	}}}
}

// simpleFlagEdits covers the yes/no allowances: privileged containers,
// host namespaces (and the Windows HostProcess pods hostNetwork lets in),
// privilege escalation, Unmasked proc mounts and runtime classes.
func simpleFlagEdits(p *psp.PodSecurityPolicy) []podEdit {
	var edits []podEdit
	add := func(allowed bool, name string, apply func(*corev1.PodTemplateSpec)) {
		if allowed {
			edits = append(edits, podEdit{name, apply})
		}
	}
	add(p.Spec.Privileged, "privileged", func(tmpl *corev1.PodTemplateSpec) { containerSecurity(tmpl).Privileged = new(true) })
	add(p.Spec.HostNetwork, "hostNetwork", func(tmpl *corev1.PodTemplateSpec) { tmpl.Spec.HostNetwork = true })
	// 1.24 never looked at hostProcess, which needs hostNetwork.
	add(p.Spec.HostNetwork, "Windows HostProcess", func(tmpl *corev1.PodTemplateSpec) {
		tmpl.Spec.HostNetwork = true
		templateSecurity(tmpl).WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: new(true)}
	})
	add(p.Spec.HostPID, "hostPID", func(tmpl *corev1.PodTemplateSpec) { tmpl.Spec.HostPID = true })
	add(p.Spec.HostIPC, "hostIPC", func(tmpl *corev1.PodTemplateSpec) { tmpl.Spec.HostIPC = true })
	add(p.Spec.AllowPrivilegeEscalationOrDefault(), "allowPrivilegeEscalation true", func(tmpl *corev1.PodTemplateSpec) {
		containerSecurity(tmpl).AllowPrivilegeEscalation = new(true)
	})
	add(slices.Contains(p.Spec.AllowedProcMountTypes, corev1.UnmaskedProcMount), "procMount Unmasked", func(tmpl *corev1.PodTemplateSpec) {
		containerSecurity(tmpl).ProcMount = new(corev1.UnmaskedProcMount)
	})
	if rc := p.Spec.RuntimeClass; rc != nil {
		for _, name := range rc.AllowedRuntimeClassNames {
			if name == psp.AllowAllRuntimeClassNames {
				name = "gvisor"
			}
			add(true, "runtimeClassName "+name, func(tmpl *corev1.PodTemplateSpec) { tmpl.Spec.RuntimeClassName = new(name) })
		}
	}
	return edits
}

// storedPod is the pod as a 1.24 apiserver stored it after admission: pod
// strategy's PrepareForCreate copies each seccomp annotation into the
// field and each field into the annotation where only one is set
// (applySeccompVersionSkew, pkg/registry/core/pod/strategy.go). PSA reads
// annotations before v1.19 and fields after, so the stored form is what a
// level is judged on; without it every profile PSP injects (always as the
// annotation) would be invisible to PSA from v1.19.
func storedPod(admitted *corev1.Pod) *corev1.Pod {
	pod := admitted.DeepCopy()
	podSC := pod.Spec.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	if profile := syncSeccomp(pod, psp.SeccompPodAnnotation, podSC.SeccompProfile); profile != nil {
		podSC.SeccompProfile = profile
		pod.Spec.SecurityContext = podSC
	}
	visitPodContainers(&pod.Spec, func(c *corev1.Container) {
		var field *corev1.SeccompProfile
		if c.SecurityContext != nil {
			field = c.SecurityContext.SeccompProfile
		}
		if profile := syncSeccomp(pod, psp.SeccompContainerAnnotationPrefix+c.Name, field); profile != nil {
			if c.SecurityContext == nil {
				c.SecurityContext = &corev1.SecurityContext{}
			}
			c.SecurityContext.SeccompProfile = profile
		}
	})
	return pod
}

// syncSeccomp writes the annotation for a field that has none, and returns
// the field for an annotation that has none (nil otherwise).
func syncSeccomp(pod *corev1.Pod, key string, field *corev1.SeccompProfile) *corev1.SeccompProfile {
	annotation, hasAnnotation := pod.Annotations[key]
	switch {
	case field != nil && !hasAnnotation:
		if a := psp.SeccompAnnotationForField(field); a != "" {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[key] = a
		}
	case field == nil && hasAnnotation:
		return seccompFieldForAnnotation(annotation)
	}
	return nil
}

// seccompFieldForAnnotation is 1.24 podutil.SeccompFieldForAnnotation.
func seccompFieldForAnnotation(annotation string) *corev1.SeccompProfile {
	switch {
	case annotation == psp.SeccompProfileNameUnconfined:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	case annotation == psp.SeccompProfileRuntimeDefault || annotation == psp.SeccompProfileDockerDefault:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case strings.HasPrefix(annotation, psp.SeccompLocalhostProfilePrefix):
		if name := strings.TrimPrefix(annotation, psp.SeccompLocalhostProfilePrefix); name != "" {
			return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &name}
		}
	}
	return nil
}

// admissionPods turns the templates into what PSP admission received for
// a pod created in namespace "default": API defaults and the service
// account token volume.
func admissionPods(pods []diffPod) []diffPod {
	out := make([]diffPod, len(pods))
	for i, p := range pods {
		pod := psp.AdmissionPod("default", p.template, nil)
		out[i] = diffPod{name: p.name, template: &corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}}
	}
	return out
}

func podOf(p diffPod) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: p.template.ObjectMeta,
		Spec:       p.template.Spec,
	}
}

// TestVolumeSourcesCoverEveryFSType keeps volumeSources complete: every
// volume type PSP tells apart (each VolumeSource member set alone) has a
// source, and each source is of its type.
func TestVolumeSourcesCoverEveryFSType(t *testing.T) {
	members := reflect.TypeFor[corev1.VolumeSource]()
	for i := range members.NumField() {
		var source corev1.VolumeSource
		field := reflect.ValueOf(&source).Elem().Field(i)
		field.Set(reflect.New(field.Type().Elem()))
		fsType := psp.VolumeFSType(corev1.Volume{VolumeSource: source})
		if _, ok := volumeSources[fsType]; !ok {
			t.Errorf("no source for %s (VolumeSource.%s)", fsType, members.Field(i).Name)
		}
	}
	for fsType, source := range volumeSources {
		if got := psp.VolumeFSType(corev1.Volume{VolumeSource: source}); got != fsType {
			t.Errorf("the source for %s is of type %s", fsType, got)
		}
	}
}
