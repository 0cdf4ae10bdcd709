// Package podview is a pod template as PodSecurityPolicy admission, Pod
// Security admission and the plan's patches read it, and an exact hash of
// it: workloads whose views are equal get the same answers, so a plan
// computes them once and an inventory keeps one copy.
package podview

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Of is the template as PSP admission, Pod Security admission and the
// patches read it: without the pod's own name and labels, the annotations
// other than Kubernetes' own, and the container and pod fields none of
// them reads (image, command, environment, resources, scheduling, the
// references of config map, secret, claim and downward API volumes).
// Container names, host ports (and, on the host's network, every port),
// mounts, probes and lifecycle hooks (whose host fields Pod Security
// checks) stay. The template is not modified; the
// view shares what it keeps. The view of a view is itself.
func Of(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	v := &corev1.PodTemplateSpec{Spec: t.Spec}
	for k, val := range t.Annotations {
		if strings.Contains(k, "kubernetes.io/") || strings.Contains(k, "seccomp") || strings.Contains(k, "apparmor") {
			if v.Annotations == nil {
				v.Annotations = map[string]string{}
			}
			v.Annotations[k] = val
		}
	}
	s := &v.Spec
	s.NodeSelector, s.NodeName, s.Affinity, s.Tolerations, s.TopologySpreadConstraints = nil, "", nil, nil, nil
	s.ImagePullSecrets, s.TerminationGracePeriodSeconds, s.ActiveDeadlineSeconds = nil, nil, nil
	s.DNSPolicy, s.DNSConfig, s.Hostname, s.Subdomain, s.SetHostnameAsFQDN = "", nil, "", "", nil
	s.SchedulerName, s.PriorityClassName, s.Priority, s.PreemptionPolicy = "", "", nil, nil
	s.ReadinessGates, s.HostAliases, s.Overhead, s.SchedulingGates = nil, nil, nil, nil
	s.ResourceClaims, s.Resources, s.EnableServiceLinks = nil, nil, nil
	s.InitContainers = viewContainers(s.InitContainers, s.HostNetwork)
	s.Containers = viewContainers(s.Containers, s.HostNetwork)
	if len(s.EphemeralContainers) > 0 {
		s.EphemeralContainers = slices.Clone(s.EphemeralContainers)
		for i := range s.EphemeralContainers {
			clearUnread((*corev1.Container)(&s.EphemeralContainers[i].EphemeralContainerCommon), s.HostNetwork)
		}
	}
	if len(s.Volumes) > 0 {
		s.Volumes = slices.Clone(s.Volumes)
		for i := range s.Volumes {
			viewVolume(&s.Volumes[i].VolumeSource)
		}
	}
	return v
}

func viewContainers(in []corev1.Container, hostNetwork bool) []corev1.Container {
	if len(in) == 0 {
		return in
	}
	out := slices.Clone(in)
	for i := range out {
		clearUnread(&out[i], hostNetwork)
	}
	return out
}

func clearUnread(c *corev1.Container, hostNetwork bool) {
	c.Image, c.ImagePullPolicy, c.Command, c.Args, c.WorkingDir = "", "", nil, nil, ""
	c.Env, c.EnvFrom, c.Resources, c.ResizePolicy = nil, nil, corev1.ResourceRequirements{}, nil
	c.TerminationMessagePath, c.TerminationMessagePolicy = "", ""
	c.Stdin, c.StdinOnce, c.TTY = false, false, false
	if !hostNetwork {
		c.Ports = hostPorts(c.Ports)
	}
}

// hostPorts are the host ports among ports, in order: all that admission
// reads of a container's ports, unless the pod is on the host's network,
// where each container port is a host port too.
func hostPorts(ports []corev1.ContainerPort) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, p := range ports {
		if p.HostPort != 0 {
			out = append(out, corev1.ContainerPort{HostPort: p.HostPort})
		}
	}
	return out
}

// viewVolume keeps a volume's type, and all of it where the type is not
// enough: hostPath, flexVolume, csi and projected volumes (whose sources
// decide whether PSP counts them as the service account token) are read.
func viewVolume(s *corev1.VolumeSource) {
	switch {
	case s.ConfigMap != nil:
		s.ConfigMap = &corev1.ConfigMapVolumeSource{}
	case s.Secret != nil:
		s.Secret = &corev1.SecretVolumeSource{}
	case s.PersistentVolumeClaim != nil:
		s.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{}
	case s.DownwardAPI != nil:
		s.DownwardAPI = &corev1.DownwardAPIVolumeSource{}
	case s.EmptyDir != nil:
		s.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
}

// Key identifies a view: equal keys are equal views.
type Key [2]uint64

// seeds make keys unpredictable from one run to the next, which keeps
// crafted inputs from colliding on purpose.
var seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// KeyOf hashes a view's exported fields exactly: a nil pointer,
// slice or map differs from an empty one, so two views with one hash are
// alike to any code that reads them. It reports false for a value it
// cannot see all of (a struct with unexported fields other than a
// resource.Quantity or a metav1.Time): that workload's answer is not
// shared. The view is written out once, and the bytes hashed twice.
func KeyOf(v *corev1.PodTemplateSpec) (Key, bool) {
	w := writers.Get().(*keyWriter)
	defer writers.Put(w)
	w.buf = w.buf[:0]
	if !w.value(reflect.ValueOf(v)) {
		return Key{}, false
	}
	return Key{maphash.Bytes(seeds[0], w.buf), maphash.Bytes(seeds[1], w.buf)}, true
}

var writers = sync.Pool{New: func() any { return &keyWriter{} }}

// keyWriter writes a value's exported fields, with the lengths and nil
// marks that keep different values apart.
type keyWriter struct{ buf []byte }

var (
	quantityType = reflect.TypeFor[resource.Quantity]()
	timeType     = reflect.TypeFor[metav1.Time]()
)

// exportedFields caches, per struct type, the indexes of its fields, or
// nil when one is unexported.
var exportedFields sync.Map // reflect.Type -> []int

func fieldsOf(t reflect.Type) []int {
	if f, ok := exportedFields.Load(t); ok {
		return f.([]int)
	}
	fields := make([]int, 0, t.NumField())
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			fields = nil
			break
		}
		fields = append(fields, i)
	}
	exportedFields.Store(t, fields)
	return fields
}

func (w *keyWriter) uint(n uint64) { w.buf = binary.LittleEndian.AppendUint64(w.buf, n) }

func (w *keyWriter) string(s string) {
	w.uint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *keyWriter) value(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			w.buf = append(w.buf, 0)
			return true
		}
		w.buf = append(w.buf, 1)
		return w.value(v.Elem())
	case reflect.Struct:
		switch t := v.Type(); t {
		case quantityType:
			q := v.Interface().(resource.Quantity)
			w.string(q.String())
		case timeType:
			w.uint(uint64(v.Interface().(metav1.Time).UnixNano()))
		default:
			fields := fieldsOf(t)
			if fields == nil && t.NumField() > 0 {
				return false
			}
			for _, i := range fields {
				if !w.value(v.Field(i)) {
					return false
				}
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			w.buf = append(w.buf, 0)
			return true
		}
		w.buf = append(w.buf, 1)
		w.uint(uint64(v.Len()))
		for i := range v.Len() {
			if !w.value(v.Index(i)) {
				return false
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			if !w.value(v.Index(i)) {
				return false
			}
		}
	case reflect.Map:
		if v.IsNil() {
			w.buf = append(w.buf, 0)
			return true
		}
		if v.Type().Key().Kind() != reflect.String {
			return false
		}
		w.buf = append(w.buf, 1)
		w.uint(uint64(v.Len()))
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			if !w.value(k) || !w.value(v.MapIndex(k)) {
				return false
			}
		}
	case reflect.String:
		w.string(v.String())
	case reflect.Bool:
		if v.Bool() {
			w.buf = append(w.buf, 1)
		} else {
			w.buf = append(w.buf, 0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.uint(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		w.uint(v.Uint())
	case reflect.Float32, reflect.Float64:
		w.uint(math.Float64bits(v.Float()))
	default:
		return false
	}
	return true
}
