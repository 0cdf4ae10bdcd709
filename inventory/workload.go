package inventory

import (
	"errors"
	"strings"

	"github.com/psp2psa/psp2psa/manifest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Workload is a bare Pod or a controller, with the pod template its pods
// are made from.
type Workload struct {
	Kind       string
	APIVersion string
	Namespace  string
	Name       string
	Source     manifest.Source
	// Template is the pod template: for a bare Pod its own metadata and
	// spec, for a CronJob spec.jobTemplate.spec.template, else
	// spec.template.
	Template *corev1.PodTemplateSpec
	// ServiceAccount is the pod's service account as the ServiceAccount
	// admission plugin leaves it, before PSP admission runs:
	// spec.serviceAccountName, else the deprecated spec.serviceAccount,
	// else "default" (except for a static pod's mirror, which the plugin
	// leaves alone, so it may stay empty).
	ServiceAccount string
	// Controller reports that a controller creates the pods: true for
	// every kind but a bare Pod, and for a Pod with a controller owner
	// reference.
	Controller bool
	// ControllerKind is the kind of the controller owner reference, if
	// any (a ReplicaSet's Deployment, a Pod's ReplicaSet).
	ControllerKind string
	// OwnedBy names the workload in this inventory that controls this one,
	// as "Kind/name" in the same namespace: the pods and ReplicaSets of a
	// cluster dump are counted with their controller, not again.
	OwnedBy string
	// AdmittedBy is, for a Pod, its kubernetes.io/psp annotation: the PSP
	// that really admitted it.
	AdmittedBy string
	// TemplatePath is where Template sits in the object, as JSON field
	// names: ["spec","template"], ["spec","jobTemplate","spec","template"],
	// or empty for a Pod, whose metadata and spec are at the root.
	TemplatePath []string
}

// CreatorKind is the kind whose controller creates the pods: the workload's
// own kind for a controller, the owner's kind for a Pod made by a
// controller, and "" for a bare Pod. (A Deployment's pods are created by
// the ReplicaSet controller and a CronJob's by the Job controller; the
// identity lookup in psp.ControllerRequester knows that.)
func (w *Workload) CreatorKind() string {
	if w.Kind != "Pod" {
		return w.Kind
	}
	return w.ControllerKind
}

// admittedByAnnotation is the annotation PSP admission writes on every pod
// it admits, naming the policy (psp.ValidatedPSPAnnotation).
const admittedByAnnotation = "kubernetes.io/psp"

// Paths of the pod template in each kind of object.
var (
	pathTemplate    = []string{"spec", "template"}
	pathJobTemplate = []string{"spec", "jobTemplate", "spec", "template"}
)

// objectMetadata is the part of an object's metadata the inventory reads;
// a narrow type keeps managedFields and the like out of memory.
type objectMetadata struct {
	Name            string                  `json:"name,omitempty"`
	Namespace       string                  `json:"namespace,omitempty"`
	UID             types.UID               `json:"uid,omitempty"`
	Labels          map[string]string       `json:"labels,omitempty"`
	Annotations     map[string]string       `json:"annotations,omitempty"`
	OwnerReferences []metav1.OwnerReference `json:"ownerReferences,omitempty"`
}

// podObject is a Pod's metadata and spec; its status is not read.
type podObject struct {
	Metadata objectMetadata `json:"metadata"`
	Spec     corev1.PodSpec `json:"spec"`
}

// controllerObject is any controller with spec.template, in every API
// version that served it.
type controllerObject struct {
	Metadata objectMetadata `json:"metadata"`
	Spec     struct {
		Template *corev1.PodTemplateSpec `json:"template"`
	} `json:"spec"`
}

// cronJobObject is a batch/v1 or v1beta1 CronJob.
type cronJobObject struct {
	Metadata objectMetadata `json:"metadata"`
	Spec     struct {
		JobTemplate struct {
			Spec struct {
				Template *corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

var errNoTemplate = errors.New("no pod template")

func decodeWorkload(d *manifest.Document, c *decodeContext) (store, error) {
	w := Workload{
		Kind: d.Kind, APIVersion: d.APIVersion,
		Namespace: d.Namespace, Name: d.Name, Source: d.Source,
	}
	var meta objectMetadata
	var warnings []error
	var err error
	switch d.Kind {
	case "Pod":
		var pod podObject
		if warnings, err = decodeStrict(d, &pod, nil); err != nil {
			return nil, err
		}
		meta = pod.Metadata
		w.Template = &corev1.PodTemplateSpec{ObjectMeta: podMeta(&pod.Metadata, d.Namespace), Spec: pod.Spec}
		w.AdmittedBy = pod.Metadata.Annotations[admittedByAnnotation]
	case "CronJob":
		var cj cronJobObject
		if warnings, err = decodeStrict(d, &cj, pathJobTemplate); err != nil {
			return nil, err
		}
		meta = cj.Metadata
		w.Template, w.TemplatePath = cj.Spec.JobTemplate.Spec.Template, pathJobTemplate
	default:
		var c controllerObject
		if warnings, err = decodeStrict(d, &c, pathTemplate); err != nil {
			return nil, err
		}
		meta = c.Metadata
		w.Template, w.TemplatePath = c.Spec.Template, pathTemplate
	}
	if w.Template == nil {
		return nil, &manifest.Error{Source: d.Source, Object: d.Object(), Field: fieldPath(w.TemplatePath), Err: errNoTemplate}
	}
	if err := validateContainers(d, &w.Template.Spec, w.TemplatePath); err != nil {
		return nil, err
	}
	w.ServiceAccount = serviceAccountOf(&w.Template.Spec, isMirrorPod(w.Template.Annotations))
	w.Controller = d.Kind != "Pod"
	if owner := metav1.GetControllerOfNoCopy(&metav1.ObjectMeta{OwnerReferences: meta.OwnerReferences}); owner != nil {
		w.Controller = true
		w.ControllerKind = owner.Kind
	}
	if c.opts.SecurityViews {
		w.Template = c.view(w.Template)
	}
	id := identity(d)
	uid, owner := string(meta.UID), controllerRef(meta.OwnerReferences)
	return func(b *builder) {
		b.errs = append(b.errs, warnings...)
		pos, replace := b.slot(&id, len(b.inv.Workloads))
		if replace {
			b.inv.Workloads[pos] = w
			b.workloadUIDs[pos] = uid
			b.owners[pos] = owner
			return
		}
		b.inv.Workloads = append(b.inv.Workloads, w)
		b.workloadUIDs = append(b.workloadUIDs, uid)
		b.owners = append(b.owners, owner)
	}, nil
}

// podMeta is a Pod's metadata as a template carries it.
func podMeta(m *objectMetadata, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: m.Name, Namespace: namespace, UID: m.UID,
		Labels: m.Labels, Annotations: m.Annotations, OwnerReferences: m.OwnerReferences,
	}
}

func fieldPath(path []string) string { return strings.Join(path, ".") }

// serviceAccountOf mirrors what the pod's service account is when PSP
// admission runs: the v1 conversion copies the deprecated serviceAccount
// into serviceAccountName when that is empty, and the ServiceAccount
// admission plugin, which runs before PodSecurityPolicy, sets "default",
// except on mirror pods.
func serviceAccountOf(spec *corev1.PodSpec, mirror bool) string {
	switch {
	case spec.ServiceAccountName != "":
		return spec.ServiceAccountName
	case spec.DeprecatedServiceAccount != "":
		return spec.DeprecatedServiceAccount
	case mirror:
		return ""
	default:
		return "default"
	}
}

// mirrorPodAnnotation marks the apiserver's copy of a kubelet static pod.
const mirrorPodAnnotation = "kubernetes.io/config.mirror"

func isMirrorPod(annotations map[string]string) bool {
	_, ok := annotations[mirrorPodAnnotation]
	return ok
}

// ownerRef is a workload's controller reference, kept until every
// workload is read.
type ownerRef struct {
	kind, name string
	uid        types.UID
}

func controllerRef(refs []metav1.OwnerReference) *ownerRef {
	owner := metav1.GetControllerOfNoCopy(&metav1.ObjectMeta{OwnerReferences: refs})
	if owner == nil {
		return nil
	}
	return &ownerRef{kind: owner.Kind, name: owner.Name, uid: owner.UID}
}

// markOwned sets OwnedBy for each workload whose controller is in the
// inventory. Where both the reference and the owner carry a UID they must
// agree: a dump taken after a controller was recreated keeps the orphan
// apart.
func (b *builder) markOwned() {
	for i := range b.inv.Workloads {
		ref := b.owners[i]
		if ref == nil {
			continue
		}
		w := &b.inv.Workloads[i]
		owner, ok := b.index[objectKey{kind: ref.kind, namespace: w.Namespace, name: ref.name}]
		if !ok {
			continue
		}
		if !isWorkloadKind(ref.kind) {
			continue
		}
		if uid := b.workloadUIDs[owner.pos]; uid != "" && ref.uid != "" && uid != string(ref.uid) {
			continue
		}
		w.OwnedBy = ref.kind + "/" + ref.name
	}
}

func isWorkloadKind(kind string) bool {
	switch kind {
	case "Pod", "ReplicationController", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob":
		return true
	}
	return false
}
