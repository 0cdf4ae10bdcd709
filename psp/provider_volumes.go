package psp

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// spec.volumes, spec.allowedHostPaths, spec.allowedFlexVolumes and
// spec.allowedCSIDrivers, applied to the pod's volumes.
//
//   - Every volume's type must be in spec.volumes ("*" allows all). A
//     projected volume holding only what the service account admission
//     plugin injects (token, kube-root-ca.crt, namespace) counts as secret.
//   - hostPath: the path must start, at a path segment, with an
//     allowedHostPaths prefix (none listed allows any path); when every
//     matching prefix is readOnly, every mount of the volume must be
//     readOnly.
//   - flexVolume and csi: the driver must be listed, when a list is given.
//
// Port of simpleProvider.validatePodVolumes and podsecuritypolicy/util (1.24).
func (p *provider) validateVolumes(pod *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	for i, v := range pod.Spec.Volumes {
		path := field.NewPath("spec", "volumes").Index(i)
		fsType := VolumeFSType(v)
		if !p.allowsVolumeType(fsType, v) {
			errs = append(errs, field.Invalid(path, string(fsType), fmt.Sprintf("%s volumes are not allowed to be used", fsType)))
			continue
		}
		switch fsType {
		case HostPath:
			errs = append(errs, p.validateHostPathVolume(pod, v, path)...)
		case FlexVolume:
			if !p.allowsFlexVolumeDriver(v.FlexVolume.Driver) {
				errs = append(errs, field.Invalid(path.Child("driver"), v.FlexVolume.Driver, "Flexvolume driver is not allowed to be used"))
			}
		case CSI:
			if !p.allowsCSIDriver(v.CSI.Driver) {
				errs = append(errs, field.Invalid(path.Child("csi", "driver"), v.CSI.Driver, "Inline CSI driver is not allowed to be used"))
			}
		}
	}
	return errs
}

func (p *provider) allowsVolumeType(fsType FSType, v corev1.Volume) bool {
	if slices.Contains(p.spec.Volumes, All) || slices.Contains(p.spec.Volumes, fsType) {
		return true
	}
	return fsType == Projected && slices.Contains(p.spec.Volumes, Secret) && isOnlyServiceAccountTokenSources(v.Projected)
}

func (p *provider) validateHostPathVolume(pod *corev1.Pod, v corev1.Volume, path *field.Path) field.ErrorList {
	allowed, mustBeReadOnly := AllowsHostPath(p.spec.AllowedHostPaths, v.HostPath.Path)
	if !allowed {
		return field.ErrorList{field.Invalid(path.Child("hostPath", "pathPrefix"), v.HostPath.Path, "is not allowed to be used")}
	}
	if !mustBeReadOnly {
		return nil
	}
	var errs field.ErrorList
	visitContainers(&pod.Spec, func(c *corev1.Container, containerPath *field.Path) {
		for i, mount := range c.VolumeMounts {
			if mount.Name == v.Name && !mount.ReadOnly {
				errs = append(errs, field.Invalid(containerPath.Child("volumeMounts").Index(i).Child("readOnly"), mount.ReadOnly, "must be read-only"))
			}
		}
	})
	return errs
}

func (p *provider) allowsFlexVolumeDriver(driver string) bool {
	if len(p.spec.AllowedFlexVolumes) == 0 {
		return true
	}
	return slices.ContainsFunc(p.spec.AllowedFlexVolumes, func(a AllowedFlexVolume) bool { return a.Driver == driver })
}

func (p *provider) allowsCSIDriver(driver string) bool {
	if len(p.spec.AllowedCSIDrivers) == 0 {
		return true
	}
	return slices.ContainsFunc(p.spec.AllowedCSIDrivers, func(a AllowedCSIDriver) bool { return a.Name == driver })
}

// AllowsHostPath reports whether allowedHostPaths allows a hostPath volume
// at path, and whether it must then be mounted read-only: any matching
// writable prefix allows writes; no prefixes allow any path. Prefixes match
// whole path segments ("/foo" matches "/foo/bar", not "/foobar"), trailing
// slashes ignored (1.24 util.AllowsHostVolumePath).
func AllowsHostPath(allowedHostPaths []AllowedHostPath, path string) (allowed, mustBeReadOnly bool) {
	if len(allowedHostPaths) == 0 {
		return true, false
	}
	for _, a := range allowedHostPaths {
		if !hasPathPrefix(path, a.PathPrefix) {
			continue
		}
		if !a.ReadOnly {
			return true, false
		}
		allowed, mustBeReadOnly = true, true
	}
	return allowed, mustBeReadOnly
}

func hasPathPrefix(s, prefix string) bool {
	s = strings.TrimSuffix(s, "/")
	prefix = strings.TrimSuffix(prefix, "/")
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	return len(s) == len(prefix) || s[len(prefix)] == '/'
}

// VolumeFSType returns the spec.volumes name of a volume's type, as 1.24's
// util.GetVolumeFSType saw it after API defaulting: a volume with no source
// that 1.24 knew is an emptyDir, because the 1.24 server dropped fields it
// did not know (such as the image source of 1.31) and then defaulted a
// source-less volume to emptyDir. So 1.24's "unknown volume type" error
// could not happen and has no counterpart here.
func VolumeFSType(v corev1.Volume) FSType {
	for _, t := range volumeTypes {
		if t.present(&v.VolumeSource) {
			return t.fsType
		}
	}
	return EmptyDir
}

// volumeTypes is 1.24's GetVolumeFSType switch, in its order.
var volumeTypes = []struct {
	fsType  FSType
	present func(*corev1.VolumeSource) bool
}{
	{HostPath, func(s *corev1.VolumeSource) bool { return s.HostPath != nil }},
	{EmptyDir, func(s *corev1.VolumeSource) bool { return s.EmptyDir != nil }},
	{GCEPersistentDisk, func(s *corev1.VolumeSource) bool { return s.GCEPersistentDisk != nil }},
	{AWSElasticBlockStore, func(s *corev1.VolumeSource) bool { return s.AWSElasticBlockStore != nil }},
	{GitRepo, func(s *corev1.VolumeSource) bool { return s.GitRepo != nil }},
	{Secret, func(s *corev1.VolumeSource) bool { return s.Secret != nil }},
	{NFS, func(s *corev1.VolumeSource) bool { return s.NFS != nil }},
	{ISCSI, func(s *corev1.VolumeSource) bool { return s.ISCSI != nil }},
	{Glusterfs, func(s *corev1.VolumeSource) bool { return s.Glusterfs != nil }},
	{PersistentVolumeClaim, func(s *corev1.VolumeSource) bool { return s.PersistentVolumeClaim != nil }},
	{RBD, func(s *corev1.VolumeSource) bool { return s.RBD != nil }},
	{FlexVolume, func(s *corev1.VolumeSource) bool { return s.FlexVolume != nil }},
	{Cinder, func(s *corev1.VolumeSource) bool { return s.Cinder != nil }},
	{CephFS, func(s *corev1.VolumeSource) bool { return s.CephFS != nil }},
	{Flocker, func(s *corev1.VolumeSource) bool { return s.Flocker != nil }},
	{DownwardAPI, func(s *corev1.VolumeSource) bool { return s.DownwardAPI != nil }},
	{FC, func(s *corev1.VolumeSource) bool { return s.FC != nil }},
	{AzureFile, func(s *corev1.VolumeSource) bool { return s.AzureFile != nil }},
	{ConfigMap, func(s *corev1.VolumeSource) bool { return s.ConfigMap != nil }},
	{VsphereVolume, func(s *corev1.VolumeSource) bool { return s.VsphereVolume != nil }},
	{Quobyte, func(s *corev1.VolumeSource) bool { return s.Quobyte != nil }},
	{AzureDisk, func(s *corev1.VolumeSource) bool { return s.AzureDisk != nil }},
	{PhotonPersistentDisk, func(s *corev1.VolumeSource) bool { return s.PhotonPersistentDisk != nil }},
	{StorageOS, func(s *corev1.VolumeSource) bool { return s.StorageOS != nil }},
	{Projected, func(s *corev1.VolumeSource) bool { return s.Projected != nil }},
	{PortworxVolume, func(s *corev1.VolumeSource) bool { return s.PortworxVolume != nil }},
	{ScaleIO, func(s *corev1.VolumeSource) bool { return s.ScaleIO != nil }},
	{CSI, func(s *corev1.VolumeSource) bool { return s.CSI != nil }},
	{Ephemeral, func(s *corev1.VolumeSource) bool { return s.Ephemeral != nil }},
}

// isOnlyServiceAccountTokenSources reports whether a projected volume holds
// nothing but what the 1.24 service account admission plugin injects. A
// fieldRef without apiVersion counts as v1: the server defaulted it before
// admission.
func isOnlyServiceAccountTokenSources(v *corev1.ProjectedVolumeSource) bool {
	for _, s := range v.Sources {
		if s.ServiceAccountToken == nil && s.ConfigMap == nil && s.DownwardAPI == nil {
			return false
		}
		if t := s.ServiceAccountToken; t != nil && (t.Path != "token" || t.Audience != "") {
			return false
		}
		if s.ConfigMap != nil && s.ConfigMap.Name != "kube-root-ca.crt" {
			return false
		}
		if s.DownwardAPI != nil {
			for _, d := range s.DownwardAPI.Items {
				if d.Path != "namespace" || d.FieldRef == nil || (d.FieldRef.APIVersion != "v1" && d.FieldRef.APIVersion != "") || d.FieldRef.FieldPath != "metadata.namespace" {
					return false
				}
			}
		}
	}
	return true
}
