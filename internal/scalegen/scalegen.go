// Package scalegen generates the synthetic cluster of the whole-process
// benchmarks (hack/scale and the live benchmark of cmd/psp2psa): N
// workloads of six kinds (Deployment, StatefulSet, DaemonSet, CronJob,
// Job, bare Pod; some scaled to zero, some running as root, some
// privileged) over N/20 namespaces, N/200+5 PSPs of three shapes
// (restricted, baseline, privileged) with a ClusterRole each, a
// ClusterRoleBinding that lets every service account use the first
// restricted PSP, and one or two RoleBindings per namespace. The security
// settings of the pod templates come in a few shapes, as in real
// clusters; names, labels, images, environment and resources differ per
// workload. The output depends only on N.
package scalegen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// Object is one Kubernetes object as JSON-like data.
type Object = map[string]any

// Cluster is the generated cluster: its objects by where they go.
type Cluster struct {
	// Policies are the PodSecurityPolicies; ClusterRBAC a ClusterRole per
	// PSP and the ClusterRoleBinding that lets every service account use
	// the first.
	Policies, ClusterRBAC []Object
	Namespaces            []Namespace
}

// Namespace is one namespace's objects: the Namespace, its
// ServiceAccounts and RoleBindings, and its workloads.
type Namespace struct {
	Name      string
	Objects   []Object
	Workloads []Object
}

// shapes of the PSPs, in turn.
const (
	shapeRestricted = iota
	shapeBaseline
	shapePrivileged
	shapes
)

var shapeNames = [shapes]string{"restricted", "baseline", "privileged"}

// New generates the cluster of n workloads in n/20 namespaces.
func New(n int) *Cluster {
	return NewIn(n, max(1, n/20))
}

// NewIn generates the cluster of n workloads in nsCount namespaces.
func NewIn(n, nsCount int) *Cluster {
	pspCount := n/200 + 5
	c := &Cluster{}
	var pspNames []string
	for i := range pspCount {
		name := fmt.Sprintf("psp-%03d-%s", i, shapeNames[i%shapes])
		pspNames = append(pspNames, name)
		c.Policies = append(c.Policies, policy(name, i%shapes))
		c.ClusterRBAC = append(c.ClusterRBAC, Object{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
			"metadata": Object{"name": "psp:" + name},
			"rules": []any{Object{
				"apiGroups": []any{"policy"}, "resources": []any{"podsecuritypolicies"},
				"verbs": []any{"use"}, "resourceNames": []any{name},
			}},
		})
	}
	// Every service account may use the first restricted PSP.
	c.ClusterRBAC = append(c.ClusterRBAC, Object{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": Object{"name": "psp:all-serviceaccounts"},
		"roleRef":  Object{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "psp:" + pspNames[0]},
		"subjects": []any{Object{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts"}},
	})
	for i := range nsCount {
		c.Namespaces = append(c.Namespaces, newNamespace(i, pspNames))
	}
	for w := range n {
		ns := &c.Namespaces[w*nsCount/n] // neighbours share a namespace
		ns.Workloads = append(ns.Workloads, workload(w, ns.Name))
	}
	return c
}

func policy(name string, shape int) Object {
	spec := Object{
		"privileged": false, "allowPrivilegeEscalation": true,
		"hostNetwork": false, "hostPID": false, "hostIPC": false,
		"runAsUser":          Object{"rule": "RunAsAny"},
		"seLinux":            Object{"rule": "RunAsAny"},
		"supplementalGroups": Object{"rule": "RunAsAny"},
		"fsGroup":            Object{"rule": "RunAsAny"},
		"volumes":            []any{"configMap", "emptyDir", "projected", "secret", "downwardAPI", "persistentVolumeClaim"},
	}
	annotations := Object{}
	switch shape {
	case shapeRestricted: // the Kubernetes docs' restricted PSP
		spec["allowPrivilegeEscalation"] = false
		spec["requiredDropCapabilities"] = []any{"ALL"}
		spec["runAsUser"] = Object{"rule": "MustRunAsNonRoot"}
		spec["supplementalGroups"] = Object{"rule": "MustRunAs", "ranges": []any{Object{"min": 1, "max": 65535}}}
		spec["fsGroup"] = Object{"rule": "MustRunAs", "ranges": []any{Object{"min": 1, "max": 65535}}}
		spec["readOnlyRootFilesystem"] = false
		annotations["seccomp.security.alpha.kubernetes.io/allowedProfileNames"] = "docker/default,runtime/default"
		annotations["seccomp.security.alpha.kubernetes.io/defaultProfileName"] = "runtime/default"
	case shapeBaseline:
		spec["allowedCapabilities"] = []any{"NET_BIND_SERVICE", "CHOWN"}
	case shapePrivileged:
		spec["privileged"] = true
		spec["allowedCapabilities"] = []any{"*"}
		spec["volumes"] = []any{"*"}
		spec["hostNetwork"], spec["hostPID"], spec["hostIPC"] = true, true, true
		spec["hostPorts"] = []any{Object{"min": 0, "max": 65535}}
	}
	meta := Object{"name": name}
	if len(annotations) > 0 {
		meta["annotations"] = annotations
	}
	return Object{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": meta, "spec": spec}
}

// newNamespace is the Namespace with its service accounts and bindings:
// every service account of the namespace may use one PSP, and in every
// other namespace the "agent" service account may use a privileged one.
func newNamespace(i int, psps []string) Namespace {
	name := fmt.Sprintf("team-%05d", i)
	ns := Namespace{Name: name}
	labels := Object{"team": fmt.Sprintf("team-%d", i%37), "env": []string{"prod", "staging", "dev"}[i%3]}
	ns.Objects = append(ns.Objects,
		Object{"apiVersion": "v1", "kind": "Namespace", "metadata": Object{"name": name, "labels": labels}},
		Object{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": Object{"name": "app", "namespace": name}},
		Object{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": Object{"name": "agent", "namespace": name},
			"automountServiceAccountToken": false},
		roleBinding(name, "psp:default", psps[i%len(psps)],
			Object{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts:" + name}),
	)
	if i%2 == 0 {
		privileged := psps[shapePrivileged+shapes*(i%(len(psps)/shapes))]
		ns.Objects = append(ns.Objects, roleBinding(name, "psp:agent", privileged,
			Object{"kind": "ServiceAccount", "name": "agent", "namespace": name}))
	}
	return ns
}

func roleBinding(ns, name, psp string, subject Object) Object {
	return Object{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": Object{"name": name, "namespace": ns},
		"roleRef":  Object{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "psp:" + psp},
		"subjects": []any{subject},
	}
}

var kinds = []string{"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod"}

// workload is the w-th workload: kinds in turn, security settings in one
// of a few shapes, everything else its own.
func workload(w int, ns string) Object {
	kind := kinds[w%len(kinds)]
	name := fmt.Sprintf("%s-%06d", map[string]string{
		"Deployment": "web", "StatefulSet": "db", "DaemonSet": "agent", "CronJob": "report", "Job": "migrate", "Pod": "debug",
	}[kind], w)
	labels := Object{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": fmt.Sprintf("system-%d", w%53)}
	meta := Object{"name": name, "namespace": ns, "labels": labels,
		"annotations": Object{"example.com/owner": fmt.Sprintf("team-%d@example.com", w%37)}}
	spec := podSpec(w, name)
	template := Object{"metadata": Object{"labels": labels}, "spec": spec}
	obj := Object{"metadata": meta}
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		obj["apiVersion"] = "apps/v1"
		body := Object{"selector": Object{"matchLabels": Object{"app.kubernetes.io/name": name}}, "template": template}
		if kind != "DaemonSet" {
			body["replicas"] = []int{3, 2, 1, 0}[w%4] // some scaled to zero
		}
		if kind == "StatefulSet" {
			body["serviceName"] = name
		}
		obj["spec"] = body
	case "CronJob":
		obj["apiVersion"] = "batch/v1"
		spec["restartPolicy"] = "OnFailure"
		obj["spec"] = Object{"schedule": fmt.Sprintf("%d %d * * *", w%60, w%24),
			"jobTemplate": Object{"spec": Object{"template": template}}}
	case "Job":
		obj["apiVersion"] = "batch/v1"
		spec["restartPolicy"] = "Never"
		obj["spec"] = Object{"backoffLimit": 2, "template": template}
	case "Pod":
		obj["apiVersion"] = "v1"
		obj["spec"] = spec
	}
	obj["kind"] = kind
	return obj
}

// podSpec is the workload's pod spec. The security settings take one of
// eight shapes (w*7 walks them independently of the kind): half set
// nothing, which a mutating PSP fills in.
func podSpec(w int, name string) Object {
	container := Object{
		"name":  "app",
		"image": fmt.Sprintf("registry.example.com/%s:%d.%d.%d", name[:len(name)-7], w%5, w%17, w),
		"ports": []any{Object{"name": "http", "containerPort": 8000 + w%1000}},
		"env": []any{
			Object{"name": "APP_NAME", "value": name},
			Object{"name": "LOG_LEVEL", "value": []string{"info", "debug", "warn"}[w%3]},
			Object{"name": "POD_IP", "valueFrom": Object{"fieldRef": Object{"fieldPath": "status.podIP"}}},
		},
		"resources": Object{
			"requests": Object{"cpu": fmt.Sprintf("%dm", 50+w%200), "memory": fmt.Sprintf("%dMi", 64+w%512)},
			"limits":   Object{"cpu": fmt.Sprintf("%dm", 500+w%1000), "memory": fmt.Sprintf("%dMi", 256+w%1024)},
		},
		"volumeMounts": []any{Object{"name": "config", "mountPath": "/etc/app"}},
	}
	spec := Object{
		"containers": []any{container},
		"volumes":    []any{Object{"name": "config", "configMap": Object{"name": name}}},
	}
	if w%3 == 0 {
		spec["containers"] = append(spec["containers"].([]any), Object{
			"name": "proxy", "image": "registry.example.com/proxy:2.4.1",
			"args":      []any{"--upstream=127.0.0.1:" + fmt.Sprint(8000+w%1000)},
			"resources": Object{"requests": Object{"cpu": "10m", "memory": "32Mi"}},
		})
	}
	switch (w * 7) % 8 {
	case 0, 1, 2, 3: // nothing set
	case 4: // already restricted
		spec["securityContext"] = Object{"runAsNonRoot": true, "seccompProfile": Object{"type": "RuntimeDefault"}}
		container["securityContext"] = Object{"allowPrivilegeEscalation": false, "capabilities": Object{"drop": []any{"ALL"}}}
	case 5:
		container["securityContext"] = Object{"runAsUser": 1000, "runAsGroup": 1000}
	case 6: // runs as root
		container["securityContext"] = Object{"runAsUser": 0}
	case 7: // privileged, as the agent
		spec["serviceAccountName"] = "agent"
		container["securityContext"] = Object{"privileged": true}
		spec["volumes"] = append(spec["volumes"].([]any), Object{"name": "host", "hostPath": Object{"path": "/var/log"}})
	}
	return spec
}

// WriteRepo writes the cluster as a GitOps repository, perFile workloads
// to a file.
func (c *Cluster) WriteRepo(dir string, perFile int) error {
	if err := writeObjects(filepath.Join(dir, "cluster", "policies.yaml"), c.Policies); err != nil {
		return err
	}
	if err := writeObjects(filepath.Join(dir, "cluster", "rbac.yaml"), c.ClusterRBAC); err != nil {
		return err
	}
	for _, ns := range c.Namespaces {
		nsDir := filepath.Join(dir, "namespaces", ns.Name)
		if err := writeObjects(filepath.Join(nsDir, "namespace.yaml"), ns.Objects); err != nil {
			return err
		}
		for k := 0; k*perFile < len(ns.Workloads); k++ {
			part := ns.Workloads[k*perFile : min(len(ns.Workloads), (k+1)*perFile)]
			// Names unique in the whole repository, which psp2psa patch
			// needs to put the copies side by side.
			if err := writeObjects(filepath.Join(nsDir, fmt.Sprintf("workloads-%s-%02d.yaml", ns.Name, k)), part); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeObjects writes a multi-document YAML file, each document after a
// comment naming it, as hand-kept manifests often are.
func writeObjects(path string, objects []Object) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	for i, obj := range objects {
		if i > 0 {
			b.WriteString("---\n")
		}
		meta := obj["metadata"].(Object)
		fmt.Fprintf(&b, "# %s %s\n", obj["kind"], meta["name"])
		y, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		b.Write(y)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// WriteSnapshot writes the objects as psp2psa snapshot writes a read of
// a 1.24 cluster: one List, kinds in the reader's order.
func (c *Cluster) WriteSnapshot(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	bw.WriteString("# psp2psa snapshot of a generated cluster (Kubernetes v1.24.17), all namespaces\n")
	bw.WriteString("apiVersion: v1\nkind: List\nmetadata:\n  annotations:\n    psp2psa.io/server-version: v1.24.17\nitems:\n")
	byKind := map[string][]Object{}
	add := func(objs []Object) {
		for _, o := range objs {
			byKind[o["kind"].(string)] = append(byKind[o["kind"].(string)], o)
		}
	}
	add(c.Policies)
	add(c.ClusterRBAC)
	for _, ns := range c.Namespaces {
		add(ns.Objects)
		add(ns.Workloads)
	}
	for _, kind := range []string{"PodSecurityPolicy", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
		"Namespace", "ServiceAccount", "Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"} {
		for _, o := range byKind[kind] {
			y, err := yaml.Marshal(o)
			if err != nil {
				return err
			}
			for i, line := range bytes.SplitAfter(y, []byte("\n")) {
				switch {
				case i == 0:
					bw.WriteString("- ")
				case len(bytes.TrimSpace(line)) > 0:
					bw.WriteString("  ")
				}
				bw.Write(line)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}
