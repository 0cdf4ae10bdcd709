// Package psp holds the PodSecurityPolicy world that Kubernetes removed in
// 1.25: the policy/v1beta1 types, their decoding and validation, RBAC "use"
// resolution and a simulation of the 1.24 PodSecurityPolicy admission plugin.
//
// k8s.io/api no longer ships these types and k8s.io/pod-security-admission
// needs a current k8s.io/api, so they are defined here with the exact
// policy/v1beta1 JSON names (k8s.io/api@v0.24.17/policy/v1beta1/types.go).
// extensions/v1beta1 PodSecurityPolicy has the same schema and decodes into
// the same type.
package psp

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// API versions that served PodSecurityPolicy.
const (
	APIVersionPolicy     = "policy/v1beta1"
	APIVersionExtensions = "extensions/v1beta1"
	Kind                 = "PodSecurityPolicy"
)

// Annotations a PSP carries for the profiles it allows and defaults, and the
// annotation admission writes on every pod it admits.
const (
	SeccompAllowedProfilesAnnotation  = "seccomp.security.alpha.kubernetes.io/allowedProfileNames"
	SeccompDefaultProfileAnnotation   = "seccomp.security.alpha.kubernetes.io/defaultProfileName"
	AppArmorAllowedProfilesAnnotation = "apparmor.security.beta.kubernetes.io/allowedProfileNames"
	AppArmorDefaultProfileAnnotation  = "apparmor.security.beta.kubernetes.io/defaultProfileName"
	ValidatedPSPAnnotation            = "kubernetes.io/psp"

	// Pod annotations the 1.24 strategies read and write.
	SeccompPodAnnotation              = "seccomp.security.alpha.kubernetes.io/pod"
	SeccompContainerAnnotationPrefix  = "container.seccomp.security.alpha.kubernetes.io/"
	AppArmorContainerAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"
)

// Profile names as PSP annotations spell them.
const (
	SeccompProfileRuntimeDefault  = "runtime/default"
	SeccompProfileDockerDefault   = "docker/default" // same profile as runtime/default
	SeccompProfileNameUnconfined  = "unconfined"
	SeccompLocalhostProfilePrefix = "localhost/"
	AppArmorProfileRuntimeDefault = "runtime/default"
	AppArmorProfileNameUnconfined = "unconfined"
	AppArmorLocalhostPrefix       = "localhost/"
	AllowAllProfiles              = "*"
)

// PodSecurityPolicy governs the ability to make requests that affect the
// security context applied to a pod and container.
type PodSecurityPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              PodSecurityPolicySpec `json:"spec,omitempty"`
}

// PodSecurityPolicySpec is policy/v1beta1 PodSecurityPolicySpec.
type PodSecurityPolicySpec struct {
	Privileged                      bool                              `json:"privileged,omitempty"`
	DefaultAddCapabilities          []corev1.Capability               `json:"defaultAddCapabilities,omitempty"`
	RequiredDropCapabilities        []corev1.Capability               `json:"requiredDropCapabilities,omitempty"`
	AllowedCapabilities             []corev1.Capability               `json:"allowedCapabilities,omitempty"`
	Volumes                         []FSType                          `json:"volumes,omitempty"`
	HostNetwork                     bool                              `json:"hostNetwork,omitempty"`
	HostPorts                       []HostPortRange                   `json:"hostPorts,omitempty"`
	HostPID                         bool                              `json:"hostPID,omitempty"`
	HostIPC                         bool                              `json:"hostIPC,omitempty"`
	SELinux                         SELinuxStrategyOptions            `json:"seLinux"`
	RunAsUser                       RunAsUserStrategyOptions          `json:"runAsUser"`
	RunAsGroup                      *RunAsGroupStrategyOptions        `json:"runAsGroup,omitempty"`
	SupplementalGroups              SupplementalGroupsStrategyOptions `json:"supplementalGroups"`
	FSGroup                         FSGroupStrategyOptions            `json:"fsGroup"`
	ReadOnlyRootFilesystem          bool                              `json:"readOnlyRootFilesystem,omitempty"`
	DefaultAllowPrivilegeEscalation *bool                             `json:"defaultAllowPrivilegeEscalation,omitempty"`
	AllowPrivilegeEscalation        *bool                             `json:"allowPrivilegeEscalation,omitempty"`
	AllowedHostPaths                []AllowedHostPath                 `json:"allowedHostPaths,omitempty"`
	AllowedFlexVolumes              []AllowedFlexVolume               `json:"allowedFlexVolumes,omitempty"`
	AllowedCSIDrivers               []AllowedCSIDriver                `json:"allowedCSIDrivers,omitempty"`
	AllowedUnsafeSysctls            []string                          `json:"allowedUnsafeSysctls,omitempty"`
	ForbiddenSysctls                []string                          `json:"forbiddenSysctls,omitempty"`
	AllowedProcMountTypes           []corev1.ProcMountType            `json:"allowedProcMountTypes,omitempty"`
	RuntimeClass                    *RuntimeClassStrategyOptions      `json:"runtimeClass,omitempty"`
}

// AllowPrivilegeEscalationOrDefault is allowPrivilegeEscalation as the
// apiserver stored it: an omitted value was defaulted to true.
func (s *PodSecurityPolicySpec) AllowPrivilegeEscalationOrDefault() bool {
	return s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation
}

// AllowedHostPath is one host path prefix a hostPath volume may use.
type AllowedHostPath struct {
	PathPrefix string `json:"pathPrefix,omitempty"`
	ReadOnly   bool   `json:"readOnly,omitempty"`
}

// AllowAllCapabilities in allowedCapabilities allows any capability.
const AllowAllCapabilities corev1.Capability = "*"

// FSType is a volume type name as used in spec.volumes.
type FSType string

// Volume types named in spec.volumes.
const (
	AzureFile             FSType = "azureFile"
	Flocker               FSType = "flocker"
	FlexVolume            FSType = "flexVolume"
	HostPath              FSType = "hostPath"
	EmptyDir              FSType = "emptyDir"
	GCEPersistentDisk     FSType = "gcePersistentDisk"
	AWSElasticBlockStore  FSType = "awsElasticBlockStore"
	GitRepo               FSType = "gitRepo"
	Secret                FSType = "secret"
	NFS                   FSType = "nfs"
	ISCSI                 FSType = "iscsi"
	Glusterfs             FSType = "glusterfs"
	PersistentVolumeClaim FSType = "persistentVolumeClaim"
	RBD                   FSType = "rbd"
	Cinder                FSType = "cinder"
	CephFS                FSType = "cephFS"
	DownwardAPI           FSType = "downwardAPI"
	FC                    FSType = "fc"
	ConfigMap             FSType = "configMap"
	VsphereVolume         FSType = "vsphereVolume"
	Quobyte               FSType = "quobyte"
	AzureDisk             FSType = "azureDisk"
	PhotonPersistentDisk  FSType = "photonPersistentDisk"
	StorageOS             FSType = "storageos"
	Projected             FSType = "projected"
	PortworxVolume        FSType = "portworxVolume"
	ScaleIO               FSType = "scaleIO"
	CSI                   FSType = "csi"
	Ephemeral             FSType = "ephemeral"
	All                   FSType = "*"
)

// AllowedFlexVolume names a flexVolume driver pods may use.
type AllowedFlexVolume struct {
	Driver string `json:"driver"`
}

// AllowedCSIDriver names a CSI driver inline volumes may use.
type AllowedCSIDriver struct {
	Name string `json:"name"`
}

// HostPortRange is an inclusive range of host ports.
type HostPortRange struct {
	Min int32 `json:"min"`
	Max int32 `json:"max"`
}

// SELinuxStrategyOptions is spec.seLinux.
type SELinuxStrategyOptions struct {
	Rule           SELinuxStrategy        `json:"rule"`
	SELinuxOptions *corev1.SELinuxOptions `json:"seLinuxOptions,omitempty"`
}

// SELinuxStrategy is spec.seLinux.rule.
type SELinuxStrategy string

// SELinux rules.
const (
	SELinuxStrategyMustRunAs SELinuxStrategy = "MustRunAs"
	SELinuxStrategyRunAsAny  SELinuxStrategy = "RunAsAny"
)

// RunAsUserStrategyOptions is spec.runAsUser.
type RunAsUserStrategyOptions struct {
	Rule   RunAsUserStrategy `json:"rule"`
	Ranges []IDRange         `json:"ranges,omitempty"`
}

// RunAsGroupStrategyOptions is spec.runAsGroup.
type RunAsGroupStrategyOptions struct {
	Rule   RunAsGroupStrategy `json:"rule"`
	Ranges []IDRange          `json:"ranges,omitempty"`
}

// IDRange is an inclusive range of user or group IDs.
type IDRange struct {
	Min int64 `json:"min"`
	Max int64 `json:"max"`
}

// RunAsUserStrategy is spec.runAsUser.rule.
type RunAsUserStrategy string

// runAsUser rules.
const (
	RunAsUserStrategyMustRunAs        RunAsUserStrategy = "MustRunAs"
	RunAsUserStrategyMustRunAsNonRoot RunAsUserStrategy = "MustRunAsNonRoot"
	RunAsUserStrategyRunAsAny         RunAsUserStrategy = "RunAsAny"
)

// RunAsGroupStrategy is spec.runAsGroup.rule.
type RunAsGroupStrategy string

// runAsGroup rules.
const (
	RunAsGroupStrategyMayRunAs  RunAsGroupStrategy = "MayRunAs"
	RunAsGroupStrategyMustRunAs RunAsGroupStrategy = "MustRunAs"
	RunAsGroupStrategyRunAsAny  RunAsGroupStrategy = "RunAsAny"
)

// FSGroupStrategyOptions is spec.fsGroup.
type FSGroupStrategyOptions struct {
	Rule   FSGroupStrategyType `json:"rule,omitempty"`
	Ranges []IDRange           `json:"ranges,omitempty"`
}

// FSGroupStrategyType is spec.fsGroup.rule.
type FSGroupStrategyType string

// fsGroup rules.
const (
	FSGroupStrategyMayRunAs  FSGroupStrategyType = "MayRunAs"
	FSGroupStrategyMustRunAs FSGroupStrategyType = "MustRunAs"
	FSGroupStrategyRunAsAny  FSGroupStrategyType = "RunAsAny"
)

// SupplementalGroupsStrategyOptions is spec.supplementalGroups.
type SupplementalGroupsStrategyOptions struct {
	Rule   SupplementalGroupsStrategyType `json:"rule,omitempty"`
	Ranges []IDRange                      `json:"ranges,omitempty"`
}

// SupplementalGroupsStrategyType is spec.supplementalGroups.rule.
type SupplementalGroupsStrategyType string

// supplementalGroups rules.
const (
	SupplementalGroupsStrategyMayRunAs  SupplementalGroupsStrategyType = "MayRunAs"
	SupplementalGroupsStrategyMustRunAs SupplementalGroupsStrategyType = "MustRunAs"
	SupplementalGroupsStrategyRunAsAny  SupplementalGroupsStrategyType = "RunAsAny"
)

// RuntimeClassStrategyOptions is spec.runtimeClass.
type RuntimeClassStrategyOptions struct {
	AllowedRuntimeClassNames []string `json:"allowedRuntimeClassNames"`
	DefaultRuntimeClassName  *string  `json:"defaultRuntimeClassName,omitempty"`
}

// AllowAllRuntimeClassNames in allowedRuntimeClassNames allows any class.
const AllowAllRuntimeClassNames = "*"

// DeepCopy returns a copy that shares nothing with p. Without it,
// p.DeepCopy() would silently resolve to the embedded ObjectMeta's.
func (p *PodSecurityPolicy) DeepCopy() *PodSecurityPolicy {
	if p == nil {
		return nil
	}
	data, err := json.Marshal(p)
	if err != nil {
		panic("psp: PodSecurityPolicy does not encode: " + err.Error())
	}
	out := &PodSecurityPolicy{}
	if err := json.Unmarshal(data, out); err != nil {
		panic("psp: PodSecurityPolicy does not decode: " + err.Error())
	}
	return out
}
