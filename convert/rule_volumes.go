package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
)

/*
PSP field: spec.volumes (volume type names; "*" allows every type).

PSS controls: HostPath Volumes (check hostPathVolumes, baseline) and Volume
Types (check restrictedVolumes, restricted).

Allowed values:
  - baseline: anything but hostPath and "*"
  - restricted: a subset of configMap, csi, downwardAPI, emptyDir,
    ephemeral, persistentVolumeClaim, projected, secret

Witnesses: one volume of each allowed type; a hostPath volume uses the
first allowedHostPaths prefix (mounted read-only when that prefix says so),
flexVolume and csi the first allowed driver. Restrictions: one volume of
each type the PSP does not list. (With secret allowed, 1.24 also admits
projected volumes made only of service account token sources; the
projected restriction uses a configMap source, which it rejects.)
*/

func init() { register(rule{field: "volumes", analyze: analyzeVolumes}) }

// volumeTypes are the types a PSP can name, in the order of the 1.24 API.
var volumeTypes = []psp.FSType{
	psp.AzureFile, psp.Flocker, psp.FlexVolume, psp.HostPath, psp.EmptyDir, psp.GCEPersistentDisk,
	psp.AWSElasticBlockStore, psp.GitRepo, psp.Secret, psp.NFS, psp.ISCSI, psp.Glusterfs,
	psp.PersistentVolumeClaim, psp.RBD, psp.Cinder, psp.CephFS, psp.DownwardAPI, psp.FC,
	psp.ConfigMap, psp.VsphereVolume, psp.Quobyte, psp.AzureDisk, psp.PhotonPersistentDisk,
	psp.StorageOS, psp.Projected, psp.PortworxVolume, psp.ScaleIO, psp.CSI, psp.Ephemeral,
}

func analyzeVolumes(p *psp.PodSecurityPolicy) analysis {
	listed := p.Spec.Volumes
	all := slices.Contains(listed, psp.All)
	a := analysis{
		explain: func(c findingContext) string {
			what := "volumes allows " + strings.Join(c.witnesses, ", ")
			if all {
				what = "volumes allows every type (*)"
			}
			if c.level == api.LevelBaseline {
				return what + "; baseline forbids hostPath volumes"
			}
			return what + "; restricted allows only " + restrictedVolumes
		},
		explainGap: func(lost []lostRestriction) string {
			return "volumes forbids " + describeLost(lost)
		},
	}
	for _, t := range volumeTypes {
		allowed := all || slices.Contains(listed, t)
		change := podChange{name: string(t), apply: volumeOfType(t, p.Spec)}
		if t == psp.Projected && !allowed && slices.Contains(listed, psp.Secret) {
			// 1.24 admits projected service account tokens wherever it
			// admits secrets.
			change.name = "projected (other than service account tokens)"
		}
		if allowed {
			a.witnesses = append(a.witnesses, change)
		} else {
			a.restrictions = append(a.restrictions, change)
		}
	}
	return a
}

// volumeOfType adds a volume of the type, shaped so that the PSP's other
// volume rules (host paths, drivers) admit it.
func volumeOfType(t psp.FSType, spec psp.PodSecurityPolicySpec) func(*corev1.Pod) {
	return func(pod *corev1.Pod) {
		v := corev1.Volume{Name: "witness-" + strings.ToLower(string(t)), VolumeSource: volumeSource(t, spec)}
		putVolume(pod, v)
		if t == psp.HostPath && len(spec.AllowedHostPaths) > 0 && spec.AllowedHostPaths[0].ReadOnly {
			putAppMount(pod, corev1.VolumeMount{Name: v.Name, MountPath: "/witness", ReadOnly: true})
		}
	}
}

func volumeSource(t psp.FSType, spec psp.PodSecurityPolicySpec) corev1.VolumeSource {
	switch t {
	case psp.HostPath:
		path := "/"
		if len(spec.AllowedHostPaths) > 0 {
			path = spec.AllowedHostPaths[0].PathPrefix
		}
		return hostPathSource(path)
	case psp.FlexVolume:
		driver := "example.com/flex"
		if len(spec.AllowedFlexVolumes) > 0 {
			driver = spec.AllowedFlexVolumes[0].Driver
		}
		return corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: driver}}
	case psp.CSI:
		driver := "csi.example.com"
		if len(spec.AllowedCSIDrivers) > 0 {
			driver = spec.AllowedCSIDrivers[0].Name
		}
		return corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: driver}}
	}
	return otherVolumeSources[t]
}

func hostPathSource(path string) corev1.VolumeSource {
	return corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}
}

var otherVolumeSources = map[psp.FSType]corev1.VolumeSource{
	psp.AzureFile:             {AzureFile: &corev1.AzureFileVolumeSource{SecretName: "azure", ShareName: "share"}},
	psp.Flocker:               {Flocker: &corev1.FlockerVolumeSource{DatasetName: "dataset"}},
	psp.EmptyDir:              {EmptyDir: &corev1.EmptyDirVolumeSource{}},
	psp.GCEPersistentDisk:     {GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "disk"}},
	psp.AWSElasticBlockStore:  {AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol"}},
	psp.GitRepo:               {GitRepo: &corev1.GitRepoVolumeSource{Repository: "https://git.example/repo"}},
	psp.Secret:                {Secret: &corev1.SecretVolumeSource{SecretName: "secret"}},
	psp.NFS:                   {NFS: &corev1.NFSVolumeSource{Server: "nfs.example", Path: "/export"}},
	psp.ISCSI:                 {ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "10.0.0.1:3260", IQN: "iqn.2001-04.com.example:storage", Lun: 0}},
	psp.Glusterfs:             {Glusterfs: &corev1.GlusterfsVolumeSource{EndpointsName: "gluster", Path: "vol"}},
	psp.PersistentVolumeClaim: {PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "claim"}},
	psp.RBD:                   {RBD: &corev1.RBDVolumeSource{CephMonitors: []string{"10.0.0.1:6789"}, RBDImage: "image"}},
	psp.Cinder:                {Cinder: &corev1.CinderVolumeSource{VolumeID: "vol"}},
	psp.CephFS:                {CephFS: &corev1.CephFSVolumeSource{Monitors: []string{"10.0.0.1:6789"}}},
	psp.DownwardAPI:           {DownwardAPI: &corev1.DownwardAPIVolumeSource{}},
	psp.FC:                    {FC: &corev1.FCVolumeSource{WWIDs: []string{"wwid"}}},
	psp.ConfigMap:             {ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "config"}}},
	psp.VsphereVolume:         {VsphereVolume: &corev1.VsphereVirtualDiskVolumeSource{VolumePath: "[datastore] vol.vmdk"}},
	psp.Quobyte:               {Quobyte: &corev1.QuobyteVolumeSource{Registry: "quobyte.example:7861", Volume: "vol"}},
	psp.AzureDisk:             {AzureDisk: &corev1.AzureDiskVolumeSource{DiskName: "disk", DataDiskURI: "https://disk.example/vhd"}},
	psp.PhotonPersistentDisk:  {PhotonPersistentDisk: &corev1.PhotonPersistentDiskVolumeSource{PdID: "disk"}},
	psp.StorageOS:             {StorageOS: &corev1.StorageOSVolumeSource{VolumeName: "vol"}},
	psp.Projected: {Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
		ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "config"}},
	}}}},
	psp.PortworxVolume: {PortworxVolume: &corev1.PortworxVolumeSource{VolumeID: "vol"}},
	psp.ScaleIO:        {ScaleIO: &corev1.ScaleIOVolumeSource{Gateway: "https://scaleio.example", System: "system", SecretRef: &corev1.LocalObjectReference{Name: "scaleio"}}},
	psp.Ephemeral: {Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}},
	}}},
}
