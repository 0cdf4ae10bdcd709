package podview

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func template(mutate func(*corev1.PodTemplateSpec)) *corev1.PodTemplateSpec {
	t := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"},
			Annotations: map[string]string{"checksum/config": "abc", "container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "app", Image: "registry.example/web:1", Env: []corev1.EnvVar{{Name: "A", Value: "1"}},
				Ports:     []corev1.ContainerPort{{ContainerPort: 8080}},
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
			}},
			Volumes:      []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web"}}}}},
			NodeSelector: map[string]string{"zone": "a"},
		},
	}
	if mutate != nil {
		mutate(t)
	}
	return t
}

func key(t *testing.T, tpl *corev1.PodTemplateSpec) Key {
	t.Helper()
	k, ok := KeyOf(Of(tpl))
	if !ok {
		t.Fatal("no key")
	}
	return k
}

// TestKeys: what admission does not read leaves the key alone; what it
// reads, down to a nil list that is now empty, changes it.
func TestKeys(t *testing.T) {
	base := key(t, template(nil))
	for name, mutate := range map[string]func(*corev1.PodTemplateSpec){
		"image":      func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Image = "other" },
		"env":        func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Env = nil },
		"labels":     func(p *corev1.PodTemplateSpec) { p.Labels = map[string]string{"app": "other"} },
		"name":       func(p *corev1.PodTemplateSpec) { p.Name = "other" },
		"annotation": func(p *corev1.PodTemplateSpec) { p.Annotations["checksum/config"] = "def" },
		"port":       func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Ports[0].ContainerPort = 9090 },
		"configmap":  func(p *corev1.PodTemplateSpec) { p.Spec.Volumes[0].ConfigMap.Name = "other" },
		"scheduling": func(p *corev1.PodTemplateSpec) { p.Spec.NodeSelector = nil },
		"resources": func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("2")
		},
	} {
		if key(t, template(mutate)) != base {
			t.Errorf("%s: changes the key, which admission does not read", name)
		}
	}
	yes := true
	for name, mutate := range map[string]func(*corev1.PodTemplateSpec){
		"container name": func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Name = "other" },
		"apparmor": func(p *corev1.PodTemplateSpec) {
			delete(p.Annotations, "container.apparmor.security.beta.kubernetes.io/app")
		},
		"host port":    func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Ports[0].HostPort = 80 },
		"host network": func(p *corev1.PodTemplateSpec) { p.Spec.HostNetwork = true },
		"volume type": func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}}
		},
		"security": func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &yes}
		},
		"empty context": func(p *corev1.PodTemplateSpec) { p.Spec.SecurityContext = &corev1.PodSecurityContext{} },
		"empty sysctls": func(p *corev1.PodTemplateSpec) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{}}
		},
		"probe host":      func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].LivenessProbe = &corev1.Probe{} },
		"runtime class":   func(p *corev1.PodTemplateSpec) { c := "gvisor"; p.Spec.RuntimeClassName = &c },
		"service account": func(p *corev1.PodTemplateSpec) { p.Spec.ServiceAccountName = "other" },
	} {
		if key(t, template(mutate)) == base {
			t.Errorf("%s: leaves the key alone, though admission reads it", name)
		}
	}
	if a, b := key(t, template(func(p *corev1.PodTemplateSpec) { p.Spec.SecurityContext = &corev1.PodSecurityContext{} })),
		key(t, template(func(p *corev1.PodTemplateSpec) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{}}
		})); a == b {
		t.Error("a nil list and an empty one have one key")
	}
	view := Of(template(nil))
	again, _ := KeyOf(Of(view))
	if again != base {
		t.Error("the view of a view is not the view")
	}
}
