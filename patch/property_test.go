package patch

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/psp2psa/psp2psa/internal/testinputs"
	"github.com/psp2psa/psp2psa/psp"
	"github.com/psp2psa/psp2psa/pss"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

// TestPreservePatchReproducesAdmission is the property PreservePatch
// exists for: for every corpus PSP and every workload it admits, the
// template patched by PreservePatch, with no PSP at all, runs with the
// same effective security settings as the pod PSP admitted. The view
// compared (viewSecurity) is computed here, independently of the patch
// code. The preserved template is then lifted to restricted, and
// LevelPatch must keep its promise on it too.
func TestPreservePatchReproducesAdmission(t *testing.T) {
	corpus := testinputs.CorpusDir(t)
	policies := corpusPSPs(t, corpus)
	templates := corpusTemplates(t, corpus)
	for name, tmpl := range generatedTemplates(t) {
		templates[name] = tmpl
	}
	ev := pss.NewEvaluator()
	restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.MajorMinorVersion(1, 37)}

	admitted, patched := 0, 0
	fieldsSeen := map[string]bool{}
	for _, p := range policies {
		for _, tname := range sortedKeys(templates) {
			template := templates[tname]
			pod := &corev1.Pod{ObjectMeta: *template.ObjectMeta.DeepCopy(), Spec: *template.Spec.DeepCopy()}
			adm := psp.Admit(p, pod)
			if !adm.Admitted() {
				continue
			}
			admitted++
			where := p.Name + " × " + tname
			patch := PreservePatch(template, adm.Pod, p.Name)
			if !patch.Empty() {
				patched++
				if !adm.Mutated {
					t.Errorf("%s: PSP did not mutate the pod, but the patch is %+v", where, patch.Changes)
				}
			}
			for _, ch := range patch.Changes {
				fieldsSeen[ch.Field] = true
			}
			result, err := patch.Apply(template)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			got, want := viewSecurity(&result.ObjectMeta, &result.Spec), viewSecurity(&adm.Pod.ObjectMeta, &adm.Pod.Spec)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: patched template differs from the admitted pod\n got %s\nwant %s\npatch %+v", where, asJSON(t, got), asJSON(t, want), patch.Changes)
			}
			lift, still := LevelPatch(result, restricted.Level, restricted.Version, ev)
			assertPatchHonest(t, where, ev, restricted, result, lift, still)
		}
	}
	t.Logf("%d PSPs × %d templates: %d admitted, %d needed a patch; fields patched: %v", len(policies), len(templates), admitted, patched, sortedKeys(fieldsSeen))
	// The corpus must exercise the property, not pass it vacuously: every
	// kind of default PSP writes must have been seen.
	for _, f := range []string{FieldFSGroup, FieldSupplementalGroups, FieldRunAsUser, FieldRunAsNonRoot, FieldSeccompProfile,
		FieldAppArmorProfile, FieldCapabilitiesDrop, FieldAllowPrivilegeEscalation, FieldReadOnlyRootFilesystem} {
		if !fieldsSeen[f] {
			t.Errorf("no admitted pod needed %s; the property test lost its coverage", f)
		}
	}
}

// securityView is what a pod runs with, as far as PSP defaults reach: per
// container the effective identity, SELinux, capabilities, filesystem,
// escalation and profiles (in field form, annotations resolved with the
// apiserver's sync precedence), and the pod's groups and runtime class.
type securityView struct {
	FSGroup            *int64
	SupplementalGroups []int64
	RuntimeClassName   *string
	Containers         map[string]containerSecurityView
}

type containerSecurityView struct {
	RunAsUser, RunAsGroup    *int64
	RunAsNonRoot             *bool
	SELinux                  *corev1.SELinuxOptions
	Add, Drop                []string
	ReadOnlyRootFilesystem   bool
	AllowPrivilegeEscalation *bool
	Seccomp, AppArmor        string
}

func viewSecurity(meta *metav1.ObjectMeta, spec *corev1.PodSpec) securityView {
	podSC := spec.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	v := securityView{
		FSGroup:            podSC.FSGroup,
		SupplementalGroups: slices.Sorted(slices.Values(podSC.SupplementalGroups)),
		RuntimeClassName:   spec.RuntimeClassName,
		Containers:         map[string]containerSecurityView{},
	}
	podSeccompView := ""
	if podSC.SeccompProfile != nil {
		podSeccompView = viewSeccompField(podSC.SeccompProfile)
	} else if a, ok := meta.Annotations["seccomp.security.alpha.kubernetes.io/pod"]; ok {
		podSeccompView = viewAnnotation(a)
	}
	visit := func(kind string, c *corev1.Container) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		cv := containerSecurityView{
			RunAsUser:                first(sc.RunAsUser, podSC.RunAsUser),
			RunAsGroup:               first(sc.RunAsGroup, podSC.RunAsGroup),
			RunAsNonRoot:             first(sc.RunAsNonRoot, podSC.RunAsNonRoot),
			SELinux:                  first(sc.SELinuxOptions, podSC.SELinuxOptions),
			ReadOnlyRootFilesystem:   sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem,
			AllowPrivilegeEscalation: sc.AllowPrivilegeEscalation,
			Seccomp:                  podSeccompView,
		}
		if cv.RunAsUser != nil && *cv.RunAsUser != 0 && cv.RunAsNonRoot != nil && *cv.RunAsNonRoot {
			// A non-zero UID runs the same with or without runAsNonRoot:
			// true; the kubelet's check only ever refuses UID 0.
			cv.RunAsNonRoot = nil
		}
		if sc.Capabilities != nil {
			cv.Add, cv.Drop = capabilitySetView(sc.Capabilities.Add), capabilitySetView(sc.Capabilities.Drop)
		}
		if sc.SeccompProfile != nil {
			cv.Seccomp = viewSeccompField(sc.SeccompProfile)
		} else if a, ok := meta.Annotations["container.seccomp.security.alpha.kubernetes.io/"+c.Name]; ok {
			cv.Seccomp = viewAnnotation(a)
		}
		if cv.Seccomp == "unconfined" {
			// An unset profile runs Unconfined on a default kubelet, so
			// PreservePatch need not write an injected Unconfined out.
			cv.Seccomp = ""
		}
		switch a := meta.Annotations["container.apparmor.security.beta.kubernetes.io/"+c.Name]; {
		case sc.AppArmorProfile != nil:
			cv.AppArmor = viewAppArmorField(sc.AppArmorProfile)
		case a != "":
			cv.AppArmor = viewAnnotation(a)
		case podSC.AppArmorProfile != nil:
			cv.AppArmor = viewAppArmorField(podSC.AppArmorProfile)
		}
		v.Containers[kind+"/"+c.Name] = cv
	}
	for i := range spec.InitContainers {
		visit("init", &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		visit("regular", &spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		visit("ephemeral", (*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	return v
}

func first[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func capabilitySetView(caps []corev1.Capability) []string {
	var out []string
	for _, c := range caps {
		if !slices.Contains(out, string(c)) {
			out = append(out, string(c))
		}
	}
	slices.Sort(out)
	return out
}

// Profiles are viewed in one spelling, the annotation's, which both forms
// map onto without loss.
func viewSeccompField(p *corev1.SeccompProfile) string {
	switch p.Type {
	case corev1.SeccompProfileTypeRuntimeDefault:
		return "runtime/default"
	case corev1.SeccompProfileTypeUnconfined:
		return "unconfined"
	case corev1.SeccompProfileTypeLocalhost:
		return "localhost/" + *p.LocalhostProfile
	}
	return "field:" + string(p.Type)
}

func viewAppArmorField(p *corev1.AppArmorProfile) string {
	switch p.Type {
	case corev1.AppArmorProfileTypeRuntimeDefault:
		return "runtime/default"
	case corev1.AppArmorProfileTypeUnconfined:
		return "unconfined"
	case corev1.AppArmorProfileTypeLocalhost:
		return "localhost/" + *p.LocalhostProfile
	}
	return "field:" + string(p.Type)
}

func viewAnnotation(a string) string {
	if a == "docker/default" {
		return "runtime/default"
	}
	return a
}

var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// corpusDocuments returns the YAML documents of the files matching glob.
func corpusDocuments(t *testing.T, glob string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files match %s (%v)", glob, err)
	}
	docs := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range documentSeparator.Split(string(data), -1) {
			if strings.TrimSpace(doc) != "" {
				docs[filepath.Base(f)+"#"+strconv.Itoa(i)] = []byte(doc)
			}
		}
	}
	return docs
}

type typeMeta struct {
	Kind string `json:"kind"`
}

// corpusPSPs decodes every PodSecurityPolicy document of the corpus, and
// the seed restricted PSP beside it.
func corpusPSPs(t *testing.T, corpus string) []*psp.PodSecurityPolicy {
	t.Helper()
	docs := corpusDocuments(t, filepath.Join(corpus, "psp", "*.yaml"))
	if seed, err := os.ReadFile(filepath.Join(corpus, "..", "seed-restricted-psp.yaml")); err == nil {
		docs["seed-restricted-psp.yaml"] = seed
	}
	var out []*psp.PodSecurityPolicy
	for _, key := range sortedKeys(docs) {
		var tm typeMeta
		if yaml.Unmarshal(docs[key], &tm) != nil || tm.Kind != psp.Kind {
			continue
		}
		var p psp.PodSecurityPolicy
		if err := yaml.Unmarshal(docs[key], &p); err != nil {
			continue
		}
		out = append(out, &p)
	}
	if len(out) < 40 {
		t.Fatalf("decoded %d PSPs from the corpus, want its 40+", len(out))
	}
	return out
}

// corpusTemplates returns the pod template of every workload document:
// bare pods, controllers' spec.template, CronJobs' job template.
func corpusTemplates(t *testing.T, corpus string) map[string]*corev1.PodTemplateSpec {
	t.Helper()
	out := map[string]*corev1.PodTemplateSpec{}
	for key, doc := range corpusDocuments(t, filepath.Join(corpus, "workloads", "*.y*ml")) {
		var tm typeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			continue
		}
		switch tm.Kind {
		case "Pod":
			var pod corev1.Pod
			if err := yaml.Unmarshal(doc, &pod); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			out[key] = &corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}
		case "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "ReplicationController":
			var w struct {
				Spec struct {
					Template corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal(doc, &w); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			out[key] = &w.Spec.Template
		case "CronJob":
			var w struct {
				Spec struct {
					JobTemplate struct {
						Spec struct {
							Template corev1.PodTemplateSpec `json:"template"`
						} `json:"spec"`
					} `json:"jobTemplate"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal(doc, &w); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			out[key] = &w.Spec.JobTemplate.Spec.Template
		}
	}
	if len(out) < 15 {
		t.Fatalf("found %d workload templates in the corpus, want its 15+", len(out))
	}
	return out
}

// generatedTemplates are the shapes the corpus lacks.
func generatedTemplates(t *testing.T) map[string]*corev1.PodTemplateSpec {
	docs := map[string]string{
		"bare nginx": `{spec: {containers: [{name: nginx, image: nginx}]}}`,
		"runAsUser set on the pod and one container": `
spec:
  securityContext: {runAsUser: 1000}
  containers:
  - {name: app, image: app, securityContext: {runAsUser: 2000, runAsGroup: 2000}}
  - {name: sidecar, image: envoy}`,
		"init and ephemeral containers": `
spec:
  initContainers: [{name: migrate, image: app}]
  containers: [{name: app, image: app}]
  ephemeralContainers: [{name: debug, image: busybox}]`,
		"legacy seccomp and AppArmor annotations": `
metadata:
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: docker/default
    container.seccomp.security.alpha.kubernetes.io/tracer: unconfined
    container.apparmor.security.beta.kubernetes.io/app: localhost/app-profile
spec:
  containers: [{name: app, image: app}, {name: tracer, image: strace}]`,
		"capabilities added and dropped": `
spec:
  containers:
  - {name: app, image: app, securityContext: {capabilities: {add: [NET_BIND_SERVICE], drop: [KILL, KILL]}}}`,
	}
	out := map[string]*corev1.PodTemplateSpec{}
	for name, doc := range docs {
		out["generated: "+name] = mustTemplate(t, string(bytes.TrimSpace([]byte(doc))))
	}
	return out
}
