package psp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Admission is what one PSP does to one pod, as the 1.24
// PodSecurityPolicy admission plugin computed it for a single policy
// (plugin/pkg/admission/security/podsecuritypolicy, computeSecurityContext).
type Admission struct {
	// Pod is the pod after the PSP's defaults (MutatePod), whether or not
	// it was admitted.
	Pod *corev1.Pod
	// Mutated reports whether the defaults changed the pod.
	Mutated bool
	// Errors are the validation errors of the defaulted pod (ValidatePod),
	// each with its field path; none means the PSP admits the pod.
	Errors field.ErrorList
}

// Admitted reports whether the PSP admits the pod.
func (a *Admission) Admitted() bool { return len(a.Errors) == 0 }
