package psp

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func volumes(vs ...corev1.Volume) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Volumes = vs }
}

func hostPathVolume(name, path string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}}
}

func allowVolumes(types ...FSType) func(*PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) { p.Spec.Volumes = types }
}

func mounts(ms ...corev1.VolumeMount) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Containers[0].VolumeMounts = ms }
}

// TestVolumeFSTypeCoversEveryVolumeSource is 1.24's TestValidateAllowedVolumes:
// for every field of VolumeSource, a PSP denies the volume, allows it by
// its type, and allows it with "*".
func TestVolumeFSTypeCoversEveryVolumeSource(t *testing.T) {
	sourceType := reflect.TypeFor[corev1.VolumeSource]()
	for field := range sourceType.Fields() {
		t.Run(field.Name, func(t *testing.T) {
			var source corev1.VolumeSource
			reflect.ValueOf(&source).Elem().FieldByIndex(field.Index).Set(reflect.New(field.Type.Elem()))
			volume := corev1.Volume{Name: "v", VolumeSource: source}
			fsType := VolumeFSType(volume)
			if field.Name == "Image" {
				// Unknown to 1.24: dropped, then defaulted to emptyDir.
				if fsType != EmptyDir {
					t.Fatalf("image volume type = %q, want emptyDir", fsType)
				}
			} else if want := lowerFirst(field.Name); string(fsType) != want && !knownRenamedType(fsType, want) {
				t.Fatalf("VolumeFSType = %q for field %s", fsType, field.Name)
			}

			pod := plainPod()
			pod.Spec.Volumes = []corev1.Volume{volume}
			if field.Name == "Projected" {
				// The pure service account shape is allowed via secret; make
				// it a plain projected volume.
				pod.Spec.Volumes[0].Projected.Sources = []corev1.VolumeProjection{{Secret: &corev1.SecretProjection{}}}
			}
			policy := permissivePSP()
			assertStrings(t, describeErrors(Admit(policy, pod).Errors),
				[]string{"spec.volumes[0]: Invalid value: " + string(fsType) + " volumes are not allowed to be used"})
			policy.Spec.Volumes = []FSType{fsType}
			assertStrings(t, describeErrors(Admit(policy, pod).Errors), nil)
			policy.Spec.Volumes = []FSType{All}
			assertStrings(t, describeErrors(Admit(policy, pod).Errors), nil)
		})
	}
}

func lowerFirst(s string) string {
	return string(s[0]+'a'-'A') + s[1:]
}

// knownRenamedType lists the types whose spec.volumes name is not the
// field name with a lower-case first letter.
func knownRenamedType(fsType FSType, fieldName string) bool {
	renamed := map[string]FSType{
		"nFS": NFS, "iSCSI": ISCSI, "rBD": RBD, "cephFS": CephFS, "fC": FC, "cSI": CSI,
		"aWSElasticBlockStore": AWSElasticBlockStore, "gCEPersistentDisk": GCEPersistentDisk,
		"storageOS": StorageOS, "scaleIO": ScaleIO,
	}
	return renamed[fieldName] == fsType
}

func TestVolumeFSTypeList(t *testing.T) {
	// Every FSType except "*" is produced by some volume source.
	var produced []FSType
	for _, vt := range volumeTypes {
		produced = append(produced, vt.fsType)
	}
	all := []FSType{AzureFile, Flocker, FlexVolume, HostPath, EmptyDir, GCEPersistentDisk, AWSElasticBlockStore,
		GitRepo, Secret, NFS, ISCSI, Glusterfs, PersistentVolumeClaim, RBD, Cinder, CephFS, DownwardAPI, FC,
		ConfigMap, VsphereVolume, Quobyte, AzureDisk, PhotonPersistentDisk, StorageOS, Projected, PortworxVolume,
		ScaleIO, CSI, Ephemeral}
	for _, fsType := range all {
		if !slices.Contains(produced, fsType) {
			t.Errorf("no volume source yields %q", fsType)
		}
	}
}

func TestAdmitVolumes(t *testing.T) { runAdmitCases(t, volumesCases()) }

func volumesCases() []admitCase {
	readOnly := func(name string) corev1.VolumeMount {
		return corev1.VolumeMount{Name: name, MountPath: "/" + name, ReadOnly: true}
	}
	writable := func(name string) corev1.VolumeMount { return corev1.VolumeMount{Name: name, MountPath: "/" + name} }
	flex := corev1.Volume{Name: "flex", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "example/unknown"}}}
	csi := corev1.Volume{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "csi.driver.foo"}}}
	ephemeral := corev1.Volume{Name: "eph", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{}}}}

	return []admitCase{
		{
			name:   "hostPath needs hostPath in volumes",
			pod:    volumes(hostPathVolume("host", "/")),
			errors: []string{"spec.volumes[0]: Invalid value: hostPath volumes are not allowed to be used"},
		},
		{
			name: "hostPath with no allowedHostPaths allows any path",
			psp:  allowVolumes(HostPath),
			pod:  volumes(hostPathVolume("host", "/")),
		},
		{
			name: "hostPath outside allowedHostPaths is rejected",
			psp: both2(allowVolumes(HostPath), func(p *PodSecurityPolicy) {
				p.Spec.AllowedHostPaths = []AllowedHostPath{{PathPrefix: "/foo/bar"}}
			}),
			pod:    volumes(hostPathVolume("host", "/fail"), hostPathVolume("sibling", "/foo/barbaz")),
			errors: []string{"spec.volumes[0].hostPath.pathPrefix: Invalid value: is not allowed to be used", "spec.volumes[1].hostPath.pathPrefix: Invalid value: is not allowed to be used"},
		},
		{
			name: "a readOnly prefix needs every mount read-only",
			psp: both2(allowVolumes(HostPath), func(p *PodSecurityPolicy) {
				p.Spec.AllowedHostPaths = []AllowedHostPath{{PathPrefix: "/foo", ReadOnly: true}}
			}),
			pod:    both(volumes(hostPathVolume("host", "/foo")), mounts(readOnly("host"), writable("host"))),
			errors: []string{"spec.containers[0].volumeMounts[1].readOnly: Invalid value: must be read-only"},
		},
		{
			// 1.24 TestValidatePodSuccess "pass hostDir allowed directory".
			name: "a writable prefix wins over an overlapping readOnly one",
			psp: both2(allowVolumes(HostPath), func(p *PodSecurityPolicy) {
				p.Spec.AllowedHostPaths = []AllowedHostPath{
					{PathPrefix: "/foo/bar/baz", ReadOnly: true},
					{PathPrefix: "/foo", ReadOnly: true},
					{PathPrefix: "/foo/bar", ReadOnly: false},
				}
			}),
			pod: both(
				volumes(hostPathVolume("rw", "/foo/bar"), hostPathVolume("ro", "/foo/bar/baz"),
					hostPathVolume("parent", "/foo/"), hostPathVolume("child", "/foo/readonly/child")),
				mounts(writable("rw"), writable("ro"), readOnly("parent"), readOnly("child"))),
		},
		{
			name: "volumes * allows hostPath but allowedHostPaths still applies",
			psp: both2(allowVolumes(All), func(p *PodSecurityPolicy) {
				p.Spec.AllowedHostPaths = []AllowedHostPath{{PathPrefix: "/foo"}}
			}),
			pod:    volumes(hostPathVolume("ok", "/foo/x"), hostPathVolume("bad", "/etc")),
			errors: []string{"spec.volumes[1].hostPath.pathPrefix: Invalid value: is not allowed to be used"},
		},
		{
			name: "flexVolume driver must be listed",
			psp: both2(allowVolumes(FlexVolume), func(p *PodSecurityPolicy) {
				p.Spec.AllowedFlexVolumes = []AllowedFlexVolume{{Driver: "example/foo"}}
			}),
			pod:    volumes(flex),
			errors: []string{"spec.volumes[0].driver: Invalid value: Flexvolume driver is not allowed to be used"},
		},
		{
			name: "flexVolume driver list applies under volumes *",
			psp: both2(allowVolumes(All), func(p *PodSecurityPolicy) {
				p.Spec.AllowedFlexVolumes = []AllowedFlexVolume{{Driver: "example/foo"}}
			}),
			pod:    volumes(flex),
			errors: []string{"spec.volumes[0].driver: Invalid value: Flexvolume driver is not allowed to be used"},
		},
		{
			name: "flexVolume with no driver list allows any driver",
			psp:  allowVolumes(FlexVolume),
			pod:  volumes(flex),
		},
		{
			name: "CSI inline driver must be listed",
			psp: both2(allowVolumes(CSI), func(p *PodSecurityPolicy) {
				p.Spec.AllowedCSIDrivers = []AllowedCSIDriver{{Name: "csi.driver.disallowed"}}
			}),
			pod:    volumes(csi),
			errors: []string{"spec.volumes[0].csi.driver: Invalid value: Inline CSI driver is not allowed to be used"},
		},
		{
			name: "CSI driver list does not allow csi volumes by itself",
			psp: func(p *PodSecurityPolicy) {
				p.Spec.AllowedCSIDrivers = []AllowedCSIDriver{{Name: "csi.driver.foo"}}
			},
			pod:    volumes(csi),
			errors: []string{"spec.volumes[0]: Invalid value: csi volumes are not allowed to be used"},
		},
		{
			name: "CSI listed driver is allowed",
			psp: both2(allowVolumes(CSI), func(p *PodSecurityPolicy) {
				p.Spec.AllowedCSIDrivers = []AllowedCSIDriver{{Name: "other"}, {Name: "csi.driver.foo"}}
			}),
			pod: volumes(csi),
		},
		{
			name:   "generic ephemeral volumes need ephemeral, not persistentVolumeClaim",
			psp:    allowVolumes(PersistentVolumeClaim, NFS),
			pod:    volumes(ephemeral),
			errors: []string{"spec.volumes[0]: Invalid value: ephemeral volumes are not allowed to be used"},
		},
		{
			name: "a volume without a source is an emptyDir, as the server defaulted it",
			psp:  allowVolumes(EmptyDir),
			pod:  volumes(corev1.Volume{Name: "scratch"}),
		},
	}
}

func TestAdmitProjectedServiceAccountVolume(t *testing.T) {
	// 1.24 TestValidateProjectedVolume: the volume the service account
	// admission plugin injects counts as secret.
	tokenVolume := func() *corev1.ProjectedVolumeSource {
		return &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: new(int64(3607))}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}},
			}}},
		}}
	}
	tests := []struct {
		name    string
		allowed []FSType
		source  func() *corev1.ProjectedVolumeSource
		allow   bool
	}{
		{"denied when secret is not allowed", []FSType{EmptyDir}, tokenVolume, false},
		{"allowed when secret is allowed", []FSType{Secret}, tokenVolume, true},
		{"a fieldRef without apiVersion counts as v1", []FSType{Secret}, func() *corev1.ProjectedVolumeSource {
			v := tokenVolume()
			v.Sources[2].DownwardAPI.Items[0].FieldRef.APIVersion = ""
			return v
		}, true},
		{"another configMap makes it a plain projected volume", []FSType{Secret}, func() *corev1.ProjectedVolumeSource {
			v := tokenVolume()
			v.Sources[1].ConfigMap.Name = "foo-ca.crt"
			return v
		}, false},
		{"a token with an audience is not the injected one", []FSType{Secret}, func() *corev1.ProjectedVolumeSource {
			v := tokenVolume()
			v.Sources[0].ServiceAccountToken.Audience = "vault"
			return v
		}, false},
		{"a secret source is not the injected one", []FSType{Secret}, func() *corev1.ProjectedVolumeSource {
			v := tokenVolume()
			v.Sources = append(v.Sources, corev1.VolumeProjection{Secret: &corev1.SecretProjection{}})
			return v
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			policy := permissivePSP()
			policy.Spec.Volumes = tc.allowed
			pod := plainPod()
			pod.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: tc.source()}}}
			var want []string
			if !tc.allow {
				want = []string{"spec.volumes[0]: Invalid value: projected volumes are not allowed to be used"}
			}
			assertStrings(t, describeErrors(Admit(policy, pod).Errors), want)
		})
	}
}

func TestAllowsHostPath(t *testing.T) {
	// 1.24 util_test.go TestAllowsHostVolumePath.
	tests := []struct {
		name         string
		allowed      []AllowedHostPath
		path         string
		wantAllowed  bool
		wantReadOnly bool
	}{
		{"no prefixes allow any path", nil, "/foo", true, false},
		{"exact match", []AllowedHostPath{{PathPrefix: "/foo"}}, "/foo", true, false},
		{"segment match", []AllowedHostPath{{PathPrefix: "/foo"}}, "/foo/bar", true, false},
		{"not a segment match", []AllowedHostPath{{PathPrefix: "/foo"}}, "/foobar", false, false},
		{"trailing slash on the prefix", []AllowedHostPath{{PathPrefix: "/foo/"}}, "/foo", true, false},
		{"trailing slash on the path", []AllowedHostPath{{PathPrefix: "/foo"}}, "/foo/", true, false},
		{"prefix / allows everything", []AllowedHostPath{{PathPrefix: "/"}}, "/etc/kubernetes", true, false},
		{"dot segments are not cleaned", []AllowedHostPath{{PathPrefix: "/foo"}}, "/foo/../etc", true, false},
		{"readOnly prefix", []AllowedHostPath{{PathPrefix: "/foo", ReadOnly: true}}, "/foo/bar", true, true},
		{"writable prefix wins over readOnly", []AllowedHostPath{{PathPrefix: "/foo", ReadOnly: true}, {PathPrefix: "/foo/bar"}}, "/foo/bar/baz", true, false},
		{"readOnly only where it matches", []AllowedHostPath{{PathPrefix: "/foo", ReadOnly: true}, {PathPrefix: "/bar"}}, "/foo/x", true, true},
		{"a file prefix", []AllowedHostPath{{PathPrefix: "/etc/kubernetes/azure.json", ReadOnly: true}}, "/etc/kubernetes/azure.json", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allowed, readOnly := AllowsHostPath(tc.allowed, tc.path)
			if allowed != tc.wantAllowed || readOnly != tc.wantReadOnly {
				t.Errorf("AllowsHostPath(%v, %q) = %v, %v; want %v, %v", tc.allowed, tc.path, allowed, readOnly, tc.wantAllowed, tc.wantReadOnly)
			}
		})
	}
}

func both2(fs ...func(*PodSecurityPolicy)) func(*PodSecurityPolicy) {
	return func(p *PodSecurityPolicy) {
		for _, f := range fs {
			f(p)
		}
	}
}
