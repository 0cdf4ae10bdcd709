package psp

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// What the apiserver does to a pod on create before PodSecurityPolicy
// admission runs, as far as PSP can tell the difference.
const (
	// MirrorPodAnnotation marks a static pod's mirror, which the
	// ServiceAccount admission plugin leaves alone.
	MirrorPodAnnotation = "kubernetes.io/config.mirror"
	// DefaultServiceAccount is set on pods that name none.
	DefaultServiceAccount = "default"
	// serviceAccountTokenMountPath is where the token volume is mounted.
	serviceAccountTokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// serviceAccountVolumePrefix starts the token volume's name; the
	// plugin adds a random suffix.
	serviceAccountVolumePrefix = "kube-api-access-"
	// tokenExpirationSeconds is serviceaccount.WarnOnlyBoundTokenExpirationSeconds.
	tokenExpirationSeconds = 3607
)

// AdmissionPod returns the pod PodSecurityPolicy admission sees when a pod
// is created from the template in the namespace: the v1 API defaults that
// PSP checks (a volume without a source is an emptyDir; with hostNetwork,
// each container port's hostPort defaults to its containerPort; the pod
// security context is never nil), then what the ServiceAccount admission
// plugin, which runs first, adds: serviceAccountName "default" when empty,
// and the projected service account token volume, mounted in every
// container, unless the pod or its service account turns automount off
// (sa may be nil when the input does not hold it). A mirror pod is left to
// the defaults alone, as the plugin does. The template is not modified.
func AdmissionPod(namespace string, template *corev1.PodTemplateSpec, sa *corev1.ServiceAccount) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: *template.ObjectMeta.DeepCopy(), Spec: *template.Spec.DeepCopy()}
	pod.Namespace = namespace
	applyPodDefaults(&pod.Spec)
	if pod.Spec.ServiceAccountName == "" {
		// The v1 conversion reads the deprecated field.
		pod.Spec.ServiceAccountName = pod.Spec.DeprecatedServiceAccount
	}
	if _, mirror := pod.Annotations[MirrorPodAnnotation]; mirror {
		return pod
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccount
	}
	if shouldAutomount(sa, pod) {
		mountServiceAccountToken(pod)
	}
	return pod
}

// applyPodDefaults is the part of pkg/apis/core/v1 defaults.go that PSP
// validation reads (SetDefaults_Volume, SetDefaults_PodSpec).
func applyPodDefaults(spec *corev1.PodSpec) {
	for i := range spec.Volumes {
		if spec.Volumes[i].VolumeSource == (corev1.VolumeSource{}) {
			spec.Volumes[i].VolumeSource.EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
	}
	if spec.HostNetwork {
		defaultHostNetworkPorts(spec.Containers)
		defaultHostNetworkPorts(spec.InitContainers)
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
}

func defaultHostNetworkPorts(containers []corev1.Container) {
	for i := range containers {
		for j := range containers[i].Ports {
			if containers[i].Ports[j].HostPort == 0 {
				containers[i].Ports[j].HostPort = containers[i].Ports[j].ContainerPort
			}
		}
	}
}

// shouldAutomount is the ServiceAccount plugin's: the pod's choice, else
// the service account's, else true.
func shouldAutomount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// mountServiceAccountToken mirrors the 1.24 ServiceAccount plugin: every
// init and regular container without a mount at the token path gets one,
// and the pod gets the projected volume if some container needed it and no
// token volume is there yet.
func mountServiceAccountToken(pod *corev1.Pod) {
	volumeName := ""
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, serviceAccountVolumePrefix) {
			volumeName = v.Name
			break
		}
	}
	hasVolume := volumeName != ""
	if !hasVolume {
		volumeName = serviceAccountVolumePrefix + "token"
	}
	mount := corev1.VolumeMount{Name: volumeName, ReadOnly: true, MountPath: serviceAccountTokenMountPath}
	needsVolume := false
	for _, containers := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range containers {
			if !mountsTokenPath(&containers[i]) {
				containers[i].VolumeMounts = append(containers[i].VolumeMounts, mount)
				needsVolume = true
			}
		}
	}
	if !hasVolume && needsVolume {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name:         volumeName,
			VolumeSource: corev1.VolumeSource{Projected: tokenVolumeSource()},
		})
	}
}

func mountsTokenPath(c *corev1.Container) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == serviceAccountTokenMountPath {
			return true
		}
	}
	return false
}

// tokenVolumeSource is the ServiceAccount plugin's TokenVolumeSource.
func tokenVolumeSource() *corev1.ProjectedVolumeSource {
	mode := corev1.ProjectedVolumeSourceDefaultMode
	expiration := int64(tokenExpirationSeconds)
	return &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &expiration}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{
				Items: []corev1.DownwardAPIVolumeFile{{
					Path:     "namespace",
					FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
				}},
			}},
		},
	}
}

// Requester is who sends the pod create request: a person or CI system
// for a bare Pod, the controller for the pods a controller makes.
type Requester struct {
	User UserInfo `json:"user"`
}

// Decision is which PSP admits a pod, as the 1.24 PodSecurityPolicy
// admission plugin chose it (computeSecurityContext).
type Decision struct {
	// Policy is the admitting PSP's name; "" when the pod is rejected.
	Policy string
	// Mutated reports that the admitting PSP changed the pod.
	Mutated bool
	// Pod is the admitted pod as the PSP left it (defaults applied and the
	// kubernetes.io/psp annotation set); nil when the pod is rejected.
	Pod *corev1.Pod
	// Rejections are the PSPs the pod may use that do not admit it, in the
	// order tried: what the plugin's error message lists.
	Rejections []Rejection
	// Unauthorized are the PSPs tried that neither the pod's service
	// account nor the requester may use, in the order tried.
	Unauthorized []string
}

// Rejection is why one usable PSP does not admit a pod.
type Rejection struct {
	Policy string
	Errors field.ErrorList
}

// Selector picks the admitting PSP for pods from one set of policies; it
// builds each policy's strategies once, so planning many pods costs the
// admissions, not the set-up. It is safe for concurrent use.
type Selector struct {
	entries []selectorEntry // in name order
}

type selectorEntry struct {
	name string
	prov *provider
	errs field.ErrorList // why the plugin could not build the policy
}

// NewSelector prepares the policies in the order the plugin tries them:
// by name, with equal names in input order (a stable sort of the lister's).
func NewSelector(policies []*PodSecurityPolicy) *Selector {
	sorted := append([]*PodSecurityPolicy(nil), policies...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	s := &Selector{entries: make([]selectorEntry, len(sorted))}
	for i, p := range sorted {
		prov, errs := newProvider(p)
		s.entries[i] = selectorEntry{name: p.Name, prov: prov, errs: errs}
	}
	return s
}

// Select runs PSP admission for a pod over all policies, as
// computeSecurityContext does on pod create: policies in name order; a PSP
// counts only if authorized(name) (see Authorizer.ForPod), and the others
// never change the outcome, so they are listed, not tried; each usable one
// is applied to a copy of the pod and validated; the first that admits the
// pod unchanged wins at once, else the first that admits it with changes.
// Policies after an immediate winner are not tried. With no policy at all
// the pod is rejected, as the plugin does.
func Select(policies []*PodSecurityPolicy, pod *corev1.Pod, authorized func(pspName string) bool) Decision {
	return NewSelector(policies).Select(pod, authorized)
}

// Select is the package-level Select over the selector's policies.
func (s *Selector) Select(pod *corev1.Pod, authorized func(pspName string) bool) Decision {
	d := s.choose(pod, authorized)
	if d.Pod == nil {
		return d
	}
	// Core validation ran on the pod the chosen PSP left, after the choice:
	// a default that breaks it rejects the pod instead of trying the next PSP.
	if errs := CoreSecurityContextErrors(d.Pod); len(errs) > 0 {
		d.Rejections = append(d.Rejections, Rejection{Policy: d.Policy, Errors: errs})
		d.Policy, d.Pod, d.Mutated = "", nil, false
	}
	return d
}

func (s *Selector) choose(pod *corev1.Pod, authorized func(pspName string) bool) Decision {
	var d Decision
	var mutating *Admission
	for _, e := range s.entries {
		if !authorized(e.name) {
			d.Unauthorized = append(d.Unauthorized, e.name)
			continue
		}
		a := e.admit(pod)
		if !a.Admitted() {
			d.Rejections = append(d.Rejections, Rejection{Policy: e.name, Errors: a.Errors})
			continue
		}
		if !a.Mutated {
			d.Policy, d.Pod = e.name, a.Pod
			return d
		}
		if mutating == nil {
			mutating = &a
			d.Policy = e.name
		}
	}
	if mutating != nil {
		d.Mutated, d.Pod = true, mutating.Pod
	}
	return d
}

func (e *selectorEntry) admit(pod *corev1.Pod) Admission {
	if e.prov == nil {
		return Admission{Pod: pod.DeepCopy(), Errors: e.errs}
	}
	return e.prov.admit(e.name, pod, false)
}

// Requester modes for ControllerIdentity.
const (
	// ModeServiceAccounts: the controller manager runs with
	// --use-service-account-credentials, each controller as its own
	// service account in kube-system (the kubeadm default).
	ModeServiceAccounts = "serviceaccounts"
	// ModeManager: every controller acts as system:kube-controller-manager.
	ModeManager = "manager"
	// Literal identities: "user:NAME" or "sa:NAMESPACE:NAME".
	modeUserPrefix = "user:"
	modeSAPrefix   = "sa:"

	// ControllerManagerUser is the controller manager's own identity.
	ControllerManagerUser = "system:kube-controller-manager"
	controllerNamespace   = "kube-system"
)

// ErrNoController is returned for a kind whose pods no built-in controller
// creates (a bare Pod, or a custom resource's operator): only a literal
// identity can name their requester.
var ErrNoController = errors.New("no built-in controller creates these pods")

// podCreators names, for each workload kind, the kube-controller-manager
// controller that creates its pods and the service account it runs as
// (cmd/kube-controller-manager/app, ClientOrDie). A Deployment's pods are
// created by the ReplicaSet controller, a CronJob's by the Job controller.
var podCreators = map[string]string{
	"Deployment":            "replicaset-controller",
	"ReplicaSet":            "replicaset-controller",
	"StatefulSet":           "statefulset-controller",
	"DaemonSet":             "daemon-set-controller",
	"Job":                   "job-controller",
	"CronJob":               "job-controller",
	"ReplicationController": "replication-controller",
}

// ControllerIdentity returns who creates the pods of a workload kind
// (a controller kind, or the owner kind of a controller-made Pod) under a
// mode: ModeServiceAccounts, ModeManager, "user:NAME" or
// "sa:NAMESPACE:NAME". Every identity carries system:authenticated, which
// the apiserver's authenticator adds to each request.
func ControllerIdentity(kind, mode string) (Requester, error) {
	switch {
	case mode == ModeServiceAccounts || mode == ModeManager:
		controller, ok := podCreators[kind]
		if !ok {
			return Requester{}, fmt.Errorf("%s: %w", kind, ErrNoController)
		}
		if mode == ModeManager {
			return authenticated(UserInfo{Name: ControllerManagerUser}), nil
		}
		return authenticated(ServiceAccountUser(controllerNamespace, controller)), nil
	case strings.HasPrefix(mode, modeUserPrefix):
		name := strings.TrimPrefix(mode, modeUserPrefix)
		if name == "" {
			return Requester{}, fmt.Errorf("requester %q: empty user name", mode)
		}
		return authenticated(UserInfo{Name: name}), nil
	case strings.HasPrefix(mode, modeSAPrefix):
		namespace, name, ok := strings.Cut(strings.TrimPrefix(mode, modeSAPrefix), ":")
		if !ok || namespace == "" || name == "" || strings.Contains(name, ":") {
			return Requester{}, fmt.Errorf("requester %q: want sa:NAMESPACE:NAME", mode)
		}
		return authenticated(ServiceAccountUser(namespace, name)), nil
	default:
		return Requester{}, fmt.Errorf("requester mode %q: want %s, %s, user:NAME or sa:NAMESPACE:NAME", mode, ModeServiceAccounts, ModeManager)
	}
}

func authenticated(u UserInfo) Requester {
	u.Groups = append(u.Groups, AuthenticatedGroup)
	return Requester{User: u}
}
