package vap

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
)

/*
PSP fields checked per volume: spec.volumes, spec.allowedHostPaths,
spec.allowedFlexVolumes, spec.allowedCSIDrivers.

  - volumes: every volume's type is listed ("*" lists all). With secret
    listed, 1.24 also admitted projected volumes holding only what the
    service account admission plugin injects. A source 1.24 did not know
    (image, from 1.31) was dropped by the 1.24 server, which then
    defaulted the volume to emptyDir: it is allowed where emptyDir is. PSS
    allows fixed type sets, so a narrower list is a gap.
  - allowedHostPaths: a hostPath volume's path starts, at a path segment,
    with a prefix ("/foo" covers "/foo/bar", not "/foobar"; trailing
    slashes ignored); when every prefix that covers it is readOnly, every
    mount of the volume in every container is readOnly. PSS allows any
    host path or none.
  - allowedFlexVolumes, allowedCSIDrivers: a flexVolume's driver, an inline
    CSI volume's driver, is listed. PSS does not look at drivers.

The driver and path lists restrict only where spec.volumes allows the
type: 1.24 checked them only for volumes of an allowed type.
*/

// volumeFields maps each volume type to the VolumeSource field that holds
// it. A test checks it against psp.VolumeFSType.
var volumeFields = map[psp.FSType]string{
	psp.HostPath: "hostPath", psp.EmptyDir: "emptyDir", psp.GCEPersistentDisk: "gcePersistentDisk",
	psp.AWSElasticBlockStore: "awsElasticBlockStore", psp.GitRepo: "gitRepo", psp.Secret: "secret",
	psp.NFS: "nfs", psp.ISCSI: "iscsi", psp.Glusterfs: "glusterfs",
	psp.PersistentVolumeClaim: "persistentVolumeClaim", psp.RBD: "rbd", psp.FlexVolume: "flexVolume",
	psp.Cinder: "cinder", psp.CephFS: "cephfs", psp.Flocker: "flocker", psp.DownwardAPI: "downwardAPI",
	psp.FC: "fc", psp.AzureFile: "azureFile", psp.ConfigMap: "configMap",
	psp.VsphereVolume: "vsphereVolume", psp.Quobyte: "quobyte", psp.AzureDisk: "azureDisk",
	psp.PhotonPersistentDisk: "photonPersistentDisk", psp.StorageOS: "storageos",
	psp.Projected: "projected", psp.PortworxVolume: "portworxVolume", psp.ScaleIO: "scaleIO",
	psp.CSI: "csi", psp.Ephemeral: "ephemeral",
}

// VolumeField returns the VolumeSource field that holds volumes of a PSP
// volume type ("cephFS" is held in "cephfs"); ok is false for "*" and
// unknown types.
func VolumeField(t psp.FSType) (field string, ok bool) {
	field, ok = volumeFields[t]
	return field, ok
}

// newerVolumeSources are the VolumeSource fields 1.24 did not know; a test
// keeps the list complete.
var newerVolumeSources = []string{"image"}

const volumesList = "object.spec.?volumes.orValue([])"

func volumesRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "volumes"
	listed := p.Spec.Volumes
	if slices.Contains(listed, psp.All) {
		return nil
	}
	var names []string
	var alternatives []string
	for _, t := range listed {
		if f, ok := volumeFields[t]; ok && !slices.Contains(names, string(t)) {
			names = append(names, string(t))
			alternatives = append(alternatives, "has(v."+f+")")
		}
	}
	if slices.Contains(listed, psp.EmptyDir) {
		for _, f := range newerVolumeSources {
			alternatives = append(alternatives, "has(v."+f+")")
		}
	}
	// The long service account case gets its own line.
	tokenVolume := slices.Contains(listed, psp.Secret) && !slices.Contains(listed, psp.Projected)
	what := "volumes must be of the types " + strings.Join(names, ", ")
	if len(names) == 0 {
		what = "pods may not have volumes"
	}
	allowed := strings.Join(alternatives, " || ")
	if tokenVolume {
		allowed += "\n|| " + serviceAccountTokenVolume
	}
	expression := volumesList + ".all(v, " + allowed + ")"
	if len(alternatives) == 0 && !tokenVolume {
		expression = "size(" + volumesList + ") == 0"
	}
	return []Rule{{Field: field, Expression: expression, Message: message(p, field, what)}}
}

// serviceAccountTokenVolume is true for a projected volume holding only
// what the service account admission plugin injects: the token at path
// "token" with no audience, the kube-root-ca.crt config map, and the
// namespace from metadata.namespace (1.24 isOnlyServiceAccountTokenSources).
const serviceAccountTokenVolume = "(has(v.projected) && v.projected.?sources.orValue([]).all(s, " +
	"(has(s.serviceAccountToken) || has(s.configMap) || has(s.downwardAPI)) && " +
	"(!has(s.serviceAccountToken) || (s.serviceAccountToken.path == 'token' && s.serviceAccountToken.?audience.orValue('') == '')) && " +
	"(!has(s.configMap) || s.configMap.?name.orValue('') == 'kube-root-ca.crt') && " +
	"(!has(s.downwardAPI) || s.downwardAPI.?items.orValue([]).all(d, d.path == 'namespace' && has(d.fieldRef) && " +
	"d.fieldRef.?apiVersion.orValue('v1') == 'v1' && d.fieldRef.fieldPath == 'metadata.namespace'))))"

func allowsVolumeType(p *psp.PodSecurityPolicy, t psp.FSType) bool {
	return slices.Contains(p.Spec.Volumes, psp.All) || slices.Contains(p.Spec.Volumes, t)
}

func allowedHostPathsRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "allowedHostPaths"
	allowed := p.Spec.AllowedHostPaths
	if len(allowed) == 0 || !allowsVolumeType(p, psp.HostPath) {
		return nil
	}
	var all, writable, readOnly []string
	for _, h := range allowed {
		all = append(all, h.PathPrefix)
		if h.ReadOnly {
			readOnly = append(readOnly, h.PathPrefix)
		} else {
			writable = append(writable, h.PathPrefix)
		}
	}
	const path = "v.hostPath.path"
	rules := []Rule{{
		Field:      field,
		Expression: volumesList + ".all(v, !has(v.hostPath) || " + underAny(path, all) + ")",
		Message:    message(p, field, "hostPath volumes must be under "+strings.Join(all, ", ")),
	}}
	if len(readOnly) == 0 {
		return rules
	}
	// Only a path that no writable prefix covers must be mounted
	// read-only; a path no prefix covers fails the rule above instead.
	onlyReadOnly := underAny(path, readOnly)
	if len(writable) > 0 {
		onlyReadOnly += " && !" + underAny(path, writable)
	}
	mountsReadOnly := everyContainer("c.?volumeMounts.orValue([]).all(m, m.name != v.name || m.?readOnly.orValue(false))")
	rules = append(rules, Rule{
		Field:      field,
		Expression: volumesList + ".all(v, !has(v.hostPath) || !(" + onlyReadOnly + ") || (" + mountsReadOnly + "))",
		Message:    message(p, field, "hostPath volumes under "+strings.Join(readOnly, ", ")+" must be mounted readOnly in every container"),
	})
	return rules
}

// underAny is true when path lies under one of the prefixes, as 1.24's
// hasPathPrefix saw it.
func underAny(path string, prefixes []string) string {
	var parts []string
	for _, prefix := range prefixes {
		if part := underPrefix(path, prefix); !slices.Contains(parts, part) {
			parts = append(parts, part)
		}
	}
	return orJoin(parts)
}

// underPrefix is 1.24's hasPathPrefix(path, prefix) in CEL. 1.24 trims
// one trailing "/" from both and then wants the path equal to the prefix
// or followed by "/". With q the trimmed prefix, that is: path == q
// (unless q itself ends in "/", since the path would then be trimmed
// shorter), or path starts with q + "/" (which also covers path == q +
// "/", trimmed to q).
func underPrefix(path, prefix string) string {
	q := strings.TrimSuffix(prefix, "/")
	startsWith := path + ".startsWith(" + quote(q+"/") + ")"
	if strings.HasSuffix(q, "/") {
		return startsWith
	}
	return "(" + path + " == " + quote(q) + " || " + startsWith + ")"
}

func allowedFlexVolumesRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "allowedFlexVolumes"
	if len(p.Spec.AllowedFlexVolumes) == 0 || !allowsVolumeType(p, psp.FlexVolume) {
		return nil
	}
	var drivers []string
	for _, f := range p.Spec.AllowedFlexVolumes {
		drivers = append(drivers, f.Driver)
	}
	return []Rule{{
		Field:      field,
		Expression: volumesList + ".all(v, !has(v.flexVolume) || v.flexVolume.driver in " + stringList(drivers) + ")",
		Message:    message(p, field, "flexVolume drivers must be one of "+strings.Join(drivers, ", ")),
	}}
}

func allowedCSIDriversRules(p *psp.PodSecurityPolicy) []Rule {
	const field = "allowedCSIDrivers"
	if len(p.Spec.AllowedCSIDrivers) == 0 || !allowsVolumeType(p, psp.CSI) {
		return nil
	}
	var drivers []string
	for _, d := range p.Spec.AllowedCSIDrivers {
		drivers = append(drivers, d.Name)
	}
	return []Rule{{
		Field:      field,
		Expression: volumesList + ".all(v, !has(v.csi) || v.csi.driver in " + stringList(drivers) + ")",
		Message:    message(p, field, "inline CSI volumes must use one of the drivers "+strings.Join(drivers, ", ")),
	}}
}
