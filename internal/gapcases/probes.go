package gapcases

import (
	"fmt"
	"slices"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// Probe is one pod with what the 1.24 PSP says about it.
type Probe struct {
	Name string
	// Pod is the pod after the PSP's defaults, as the patched workloads
	// carry them; Raw is the pod as written.
	Pod, Raw *corev1.Pod
	// Fields are the fields (FieldOf) of the PSP's errors on the pod,
	// sorted, without repeats; Unkept are its errors on fields no policy
	// keeps (PSS covers them).
	Fields []string
	// FilledIn are the fields whose values the PSP wrote into the pod.
	FilledIn []string
}

// Probes admits every pod with the PSP, as psp.Admit does.
func Probes(p *psp.PodSecurityPolicy, pods []Pod) []Probe {
	out := make([]Probe, 0, len(pods))
	for _, np := range pods {
		adm := psp.Admit(p, np.Pod)
		pr := Probe{Name: np.Name, Pod: adm.Pod, Raw: np.Pod, FilledIn: FilledIn(np.Pod, adm.Pod)}
		for _, e := range adm.Errors {
			if f := FieldOf(e); f != "" && !slices.Contains(pr.Fields, f) {
				pr.Fields = append(pr.Fields, f)
			}
		}
		slices.Sort(pr.Fields)
		out = append(out, pr)
	}
	return out
}

// FilledIn lists the fields whose value the PSP's defaults wrote into the
// pod: a UID, GID, group list, SELinux options, runAsNonRoot, read-only
// root filesystem or dropped capability the pod did not set itself.
func FilledIn(raw, defaulted *corev1.Pod) []string {
	var fields []string
	add := func(f string, changed bool) {
		if changed && !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	eq := apiequality.Semantic.DeepEqual
	rawSC, defSC := raw.Spec.SecurityContext, defaulted.Spec.SecurityContext
	if rawSC == nil {
		rawSC = &corev1.PodSecurityContext{}
	}
	if defSC == nil {
		defSC = &corev1.PodSecurityContext{}
	}
	add("fsGroup", !eq(rawSC.FSGroup, defSC.FSGroup))
	add("supplementalGroups", !eq(rawSC.SupplementalGroups, defSC.SupplementalGroups))
	add("seLinux", !eq(rawSC.SELinuxOptions, defSC.SELinuxOptions))
	pairs := [][2][]corev1.Container{
		{raw.Spec.InitContainers, defaulted.Spec.InitContainers},
		{raw.Spec.Containers, defaulted.Spec.Containers},
	}
	for _, pair := range pairs {
		for i := range pair[0] {
			r, d := pair[0][i].SecurityContext, pair[1][i].SecurityContext
			if r == nil {
				r = &corev1.SecurityContext{}
			}
			if d == nil {
				d = &corev1.SecurityContext{}
			}
			add("runAsUser", !eq(r.RunAsUser, d.RunAsUser) || !eq(r.RunAsNonRoot, d.RunAsNonRoot))
			add("runAsGroup", !eq(r.RunAsGroup, d.RunAsGroup))
			add("readOnlyRootFilesystem", !eq(r.ReadOnlyRootFilesystem, d.ReadOnlyRootFilesystem))
			add("requiredDropCapabilities", len(drops(d)) > len(drops(r)))
		}
	}
	slices.Sort(fields)
	return fields
}

func drops(sc *corev1.SecurityContext) []corev1.Capability {
	if sc.Capabilities == nil {
		return nil
	}
	return sc.Capabilities.Drop
}

// ProbeName is the name of the i-th probe pod an engine is given.
func ProbeName(i int) string { return fmt.Sprintf("p-%04d", i) }

// ProbePod is a copy of pod as an engine reads it: with its type, named
// ProbeName(i) in namespace ns.
func ProbePod(pod *corev1.Pod, ns string, i int) *corev1.Pod {
	pod = pod.DeepCopy()
	pod.APIVersion, pod.Kind = "v1", "Pod"
	pod.Name, pod.Namespace = ProbeName(i), ns
	return pod
}
