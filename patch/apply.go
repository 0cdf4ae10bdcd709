package patch

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// patchField is one field a Change may set, with how to set it on the pod
// spec (pod is nil for container-only fields) and on a container's
// securityContext (container is nil for pod-only fields). The table's
// order is the order of changes within one place.
type patchField struct {
	name      string
	pod       func(spec *corev1.PodSpec, raw []byte) error
	container func(sc *corev1.SecurityContext, raw []byte) error
}

var patchFields = []patchField{
	{FieldRuntimeClassName, podField(func(s *corev1.PodSpec) **string { return &s.RuntimeClassName }), nil},
	{FieldRunAsUser,
		podField(func(s *corev1.PodSpec) **int64 { return &podSC(s).RunAsUser }),
		containerField(func(sc *corev1.SecurityContext) **int64 { return &sc.RunAsUser })},
	{FieldRunAsGroup,
		podField(func(s *corev1.PodSpec) **int64 { return &podSC(s).RunAsGroup }),
		containerField(func(sc *corev1.SecurityContext) **int64 { return &sc.RunAsGroup })},
	{FieldRunAsNonRoot,
		podField(func(s *corev1.PodSpec) **bool { return &podSC(s).RunAsNonRoot }),
		containerField(func(sc *corev1.SecurityContext) **bool { return &sc.RunAsNonRoot })},
	{FieldSupplementalGroups, podField(func(s *corev1.PodSpec) *[]int64 { return &podSC(s).SupplementalGroups }), nil},
	{FieldFSGroup, podField(func(s *corev1.PodSpec) **int64 { return &podSC(s).FSGroup }), nil},
	{FieldSELinuxOptions,
		podField(func(s *corev1.PodSpec) **corev1.SELinuxOptions { return &podSC(s).SELinuxOptions }),
		containerField(func(sc *corev1.SecurityContext) **corev1.SELinuxOptions { return &sc.SELinuxOptions })},
	{FieldSeccompProfile,
		podField(func(s *corev1.PodSpec) **corev1.SeccompProfile { return &podSC(s).SeccompProfile }),
		containerField(func(sc *corev1.SecurityContext) **corev1.SeccompProfile { return &sc.SeccompProfile })},
	{FieldAppArmorProfile,
		podField(func(s *corev1.PodSpec) **corev1.AppArmorProfile { return &podSC(s).AppArmorProfile }),
		containerField(func(sc *corev1.SecurityContext) **corev1.AppArmorProfile { return &sc.AppArmorProfile })},
	{FieldCapabilitiesAdd, nil, containerField(func(sc *corev1.SecurityContext) *[]corev1.Capability { return &capabilities(sc).Add })},
	{FieldCapabilitiesDrop, nil, containerField(func(sc *corev1.SecurityContext) *[]corev1.Capability { return &capabilities(sc).Drop })},
	{FieldReadOnlyRootFilesystem, nil, containerField(func(sc *corev1.SecurityContext) **bool { return &sc.ReadOnlyRootFilesystem })},
	{FieldAllowPrivilegeEscalation, nil, containerField(func(sc *corev1.SecurityContext) **bool { return &sc.AllowPrivilegeEscalation })},
}

// podField sets a pod spec field from a value's JSON, so that a Change
// read back from JSON (numbers as float64, maps as map[string]any) applies
// the same as one built in memory.
func podField[T any](target func(*corev1.PodSpec) *T) func(*corev1.PodSpec, []byte) error {
	return func(spec *corev1.PodSpec, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		*target(spec) = v
		return nil
	}
}

// containerField sets a container securityContext field from a value's JSON.
func containerField[T any](target func(*corev1.SecurityContext) *T) func(*corev1.SecurityContext, []byte) error {
	return func(sc *corev1.SecurityContext, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		*target(sc) = v
		return nil
	}
}

func podSC(spec *corev1.PodSpec) *corev1.PodSecurityContext {
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return spec.SecurityContext
}

func containerSC(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

func capabilities(sc *corev1.SecurityContext) *corev1.Capabilities {
	if sc.Capabilities == nil {
		sc.Capabilities = &corev1.Capabilities{}
	}
	return sc.Capabilities
}

func lookupField(name string) (patchField, bool) {
	for _, f := range patchFields {
		if f.name == name {
			return f, true
		}
	}
	return patchField{}, false
}

// Apply returns a deep copy of the template with the patch applied; the
// template is not modified. It fails on a change that does not fit the
// template (unknown field or container, a value of the wrong shape), which
// a patch built for this template by PreservePatch or LevelPatch never has.
func (p Patch) Apply(template *corev1.PodTemplateSpec) (*corev1.PodTemplateSpec, error) {
	out := template.DeepCopy()
	for i, ch := range p.Changes {
		if err := applyChange(out, ch); err != nil {
			return nil, fmt.Errorf("change %d (%s): %w", i, ch.place(), err)
		}
	}
	return out, nil
}

// mustApply applies a patch this package built for the template; failure
// is a bug in the package, not an input problem.
func mustApply(p Patch, template *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	out, err := p.Apply(template)
	if err != nil {
		panic("patch: a generated patch does not apply: " + err.Error())
	}
	return out
}

func applyChange(t *corev1.PodTemplateSpec, ch Change) error {
	if ch.RemoveAnnotation != "" {
		delete(t.Annotations, ch.RemoveAnnotation)
	}
	if ch.Annotation != "" {
		value, ok := ch.Value.(string)
		if !ok {
			return fmt.Errorf("annotation %s: the value %v is not a string", ch.Annotation, ch.Value)
		}
		if t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		t.Annotations[ch.Annotation] = value
		return nil
	}
	if ch.Field == "" {
		return nil
	}
	f, ok := lookupField(ch.Field)
	if !ok {
		return fmt.Errorf("unknown field %q", ch.Field)
	}
	raw, err := json.Marshal(ch.Value)
	if err != nil {
		return fmt.Errorf("encoding the value: %w", err)
	}
	if ch.Container == "" {
		if f.pod == nil {
			return fmt.Errorf("%s is not a pod field", ch.Field)
		}
		if err := f.pod(&t.Spec, raw); err != nil {
			return fmt.Errorf("decoding the value %s: %w", raw, err)
		}
		return nil
	}
	if f.container == nil {
		return fmt.Errorf("%s is not a container field", ch.Field)
	}
	c := findContainer(&t.Spec, ch.ContainerKind, ch.Container)
	if c == nil {
		return fmt.Errorf("the template has no %s entry %q", ch.ContainerKind, ch.Container)
	}
	if err := f.container(containerSC(c), raw); err != nil {
		return fmt.Errorf("decoding the value %s: %w", raw, err)
	}
	return nil
}

// Path is where the change sets its value, below the pod template, as
// path elements with containers picked by name:
// {"spec", "containers", "[name=web]", "securityContext", "runAsNonRoot"}.
// An annotation change sets {"metadata", "annotations", key}. It is nil
// for a change that only removes an annotation.
func (c Change) Path() []string {
	if c.Annotation != "" {
		return []string{"metadata", "annotations", c.Annotation}
	}
	if c.Field == "" {
		return nil
	}
	path := []string{"spec"}
	if c.Container != "" {
		path = append(path, c.ContainerKind, "[name="+c.Container+"]")
	}
	return append(path, strings.Split(c.Field, ".")...)
}

// AnnotationPath is the annotation the change removes, below the pod
// template ({"metadata", "annotations", key}), or nil.
func (c Change) AnnotationPath() []string {
	if c.RemoveAnnotation == "" {
		return nil
	}
	return []string{"metadata", "annotations", c.RemoveAnnotation}
}

// place names where the change applies, for messages.
func (c Change) place() string {
	where := "spec"
	if c.Container != "" {
		where = fmt.Sprintf("spec.%s[name=%s]", c.ContainerKind, c.Container)
	}
	switch {
	case c.Annotation != "":
		return "metadata.annotations[" + c.Annotation + "]"
	case c.Field == "":
		return "metadata.annotations[" + c.RemoveAnnotation + "]"
	}
	return where + "." + c.Field
}

// TemplatePatch renders the patch as a strategic merge patch of the pod
// template ({"metadata": …, "spec": …}): containers are matched by name,
// removed annotations are null, lists are written whole (the capability
// and supplementalGroups lists have no merge key, so they replace). Wrap
// it under the workload's template path (spec.template, or
// spec.jobTemplate.spec.template for a CronJob) to use with
// `kubectl patch --type strategic`. The result is JSON-compatible.
func (p Patch) TemplatePatch() map[string]any {
	root := map[string]any{}
	containers := map[[2]string]map[string]any{}
	for _, ch := range p.Changes {
		if ch.RemoveAnnotation != "" {
			child(child(root, "metadata"), "annotations")[ch.RemoveAnnotation] = nil
		}
		if ch.Annotation != "" {
			child(child(root, "metadata"), "annotations")[ch.Annotation] = ch.Value
		}
		if ch.Field == "" {
			continue
		}
		spec := child(root, "spec")
		target := spec
		if ch.Container != "" {
			key := [2]string{ch.ContainerKind, ch.Container}
			if containers[key] == nil {
				containers[key] = map[string]any{"name": ch.Container}
				list, _ := spec[ch.ContainerKind].([]any)
				spec[ch.ContainerKind] = append(list, containers[key])
			}
			target = containers[key]
		}
		path := strings.Split(ch.Field, ".")
		for _, part := range path[:len(path)-1] {
			target = child(target, part)
		}
		target[path[len(path)-1]] = ch.Value
	}
	return root
}

func child(m map[string]any, key string) map[string]any {
	if c, ok := m[key].(map[string]any); ok {
		return c
	}
	c := map[string]any{}
	m[key] = c
	return c
}
